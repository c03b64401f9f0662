// Package mail knows every kind of email and text message Foyer sends: for
// each, in one table (kinds.go), how it is written, which arguments it cannot
// be written without, how long it may wait to go out, and what makes it void
// before it does. The delivery worker has messages written and checked here
// at the moment it sends them; the store has every message checked here
// before it enters the outbox (Prepare). It knows nothing of HTTP.
//
// # Sending an email or a text message
//
// A message goes into the outbox as what is needed to write it — its kind,
// recipient, language, arguments — and the secret it carries (a link token,
// a security code), which the store keeps sealed. The worker has it written
// by Mailer.Render when it sends it, so the words follow the recipient's
// language and the practice's current name, and the secret exists in the
// clear only in memory, on its way out:
//
//	err := st.Enqueue(&store.Message{
//		Channel:   store.ChannelSMS,          // the lane: email and SMS never wait for each other
//		To:        phone,
//		Lang:      client.Lang,
//		Kind:      mail.ShareCode,            // a kind of the table in kinds.go
//		Args:      map[string]string{"Name": name, "Minutes": "10"},
//		Secret:    code,                      // sealed in the store, dropped once sent
//		ExpiresAt: now.Add(10 * time.Minute), // never sent after this
//	})
//
// Within a store transaction (a record and its message committing together)
// the store's own methods take the *store.Message instead (QueueReminder).
package mail

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"foyer/gsm7"
	"foyer/locales"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// Outgoing is a message written for sending, in its recipient's language:
// what the delivery worker hands its drivers.
type Outgoing struct {
	To, Lang string
	// Subject and HTML are for email; an SMS is its Text alone.
	Subject, Text, HTML string
	// Key names the outbox message it was written from, the same on every
	// attempt: a copy sent again after a crash carries the same Message-ID,
	// so mail programs show the two as one. Empty for a message not from the
	// outbox.
	Key string
}

// Mailer writes and checks outbox messages: the delivery worker's Renderer
// and Checker, and what the Outbox page and previews show.
type Mailer struct {
	store     *store.Store
	shares    *share.Engine
	catalog   *locales.Catalog
	templates *views.Mail
	base      string
	now       func() time.Time

	// zone keeps the practice's time zone by name: loading one costs more
	// than writing the message.
	zoneMu   sync.Mutex
	zoneName string
	zone     *time.Location
}

// Config is what a Mailer writes and checks messages with.
type Config struct {
	Store *store.Store
	// Shares answers whether a share's link or code still opens it.
	Shares  *share.Engine
	Catalog *locales.Catalog
	// Templates are the email templates (views/mail).
	Templates *views.Mail
	// BaseURL is the public address links are made with.
	BaseURL *url.URL
	Now     func() time.Time
}

// New returns a Mailer; every field of cfg is needed.
func New(cfg Config) (*Mailer, error) {
	if cfg.Store == nil || cfg.Shares == nil || cfg.Catalog == nil || cfg.Templates == nil || cfg.BaseURL == nil || cfg.Now == nil {
		return nil, errors.New("mail: incomplete configuration")
	}
	return &Mailer{store: cfg.Store, shares: cfg.Shares, catalog: cfg.Catalog, templates: cfg.Templates,
		base: strings.TrimRight(cfg.BaseURL.String(), "/"), now: cfg.Now}, nil
}

// link makes an absolute URL under the public base URL.
func (m *Mailer) link(path string) string { return m.base + path }

// practice returns the practice's settings and time zone, as of now.
func (m *Mailer) practice() (store.Practice, *time.Location) {
	p, _ := m.store.Practice()
	m.zoneMu.Lock()
	defer m.zoneMu.Unlock()
	if m.zone == nil || m.zoneName != p.TimeZone {
		loc, err := time.LoadLocation(p.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		m.zoneName, m.zone = p.TimeZone, loc
	}
	return p, m.zone
}

// Lang is the language a message to someone speaking lang is written in:
// lang when Foyer speaks it, else the fallback.
func (m *Mailer) Lang(lang string) string { return m.catalog.Get(lang).Lang }

// data is what an email template receives: every string already in the
// recipient's language.
type data struct {
	Lang, Subject, Practice, Brand, Footer string
	Greeting, Intro, Action, Link, Expiry  string
	// Note is a second paragraph after Intro (how to join a video session).
	Note string
	// Colon is ":" in English and a non-breaking space and ":" in French.
	Colon string
	// Contact is the practice's address, phone and email, one per line, for the footer.
	Contact []string
	// Lines are listed under the intro (the slides of a "viewed" email).
	Lines []string
	// Privacy and PrivacyLink are the footer's line to the practice's
	// information notice (/privacy).
	Privacy, PrivacyLink string
	// Body, when set, is an email the practice wrote whole (its share
	// template, merged): it stands instead of Greeting, Intro and the rest,
	// as it is in the text part and as Paragraphs in the HTML part, above
	// the same signature as every other email.
	Body       string
	Paragraphs []paragraph
}

// paragraph is a paragraph of a Body: its lines, each a run of spans.
type paragraph [][]span

// span is a piece of a Body's line: text, or a link to Href.
type span struct{ Text, Href string }

// links finds the addresses in a text the practice wrote; a full stop or a
// bracket after one ends the sentence, not the address.
var links = regexp.MustCompile(`https?://[^\s<>"]*[^\s<>".,;:!?)\]’”»]`)

// paragraphs cuts a plain-text body into paragraphs and lines, with its
// addresses made links, for the HTML part.
func paragraphs(body string) []paragraph {
	var out []paragraph
	for _, block := range strings.Split(strings.TrimSpace(body), "\n\n") {
		var p paragraph
		for _, line := range strings.Split(block, "\n") {
			var spans []span
			at := 0
			for _, m := range links.FindAllStringIndex(line, -1) {
				if m[0] > at {
					spans = append(spans, span{Text: line[at:m[0]]})
				}
				spans = append(spans, span{Text: line[m[0]:m[1]], Href: line[m[0]:m[1]]})
				at = m[1]
			}
			if at < len(line) {
				spans = append(spans, span{Text: line[at:]})
			}
			p = append(p, spans)
		}
		out = append(out, p)
	}
	return out
}

// rendering is one message being written: a kind's Write reads M and fills
// Mail (emails) or SMS (text messages).
type rendering struct {
	mailer *Mailer
	L      *locales.Localizer
	P      store.Practice
	zone   *time.Location
	M      store.Message
	// Secret is the message's token or code, or a visible placeholder when
	// the message is only shown or logged.
	Secret string
	Mail   data
	SMS    string
}

// OneText is a text message that names the practice, text(name), in one
// segment: a practice name too long for that (Settings takes 100 characters)
// is shortened, so the code after it always arrives whole and costs one message.
func (r *rendering) OneText(text func(practice string) string) string {
	name := []rune(r.P.Name)
	for cut := len(name); ; cut-- {
		practice := r.P.Name
		if cut < len(name) {
			practice = strings.TrimSpace(string(name[:cut])) + "…"
		}
		s := text(practice)
		if n, _ := gsm7.Septets(gsm7.Text(s)); n <= gsm7.Segment || cut == 0 {
			return s
		}
	}
}

// Link is the absolute URL of path followed by the secret ("/invite/" → https://…/invite/TOKEN).
func (r *rendering) Link(path string) string { return r.mailer.link(path + r.Secret) }

// Time formats an argument written by TimeArg in the recipient's language and the practice's zone.
func (r *rendering) Time(arg string) string {
	t, err := time.Parse(time.RFC3339, r.M.Args[arg])
	if err != nil {
		return ""
	}
	return r.L.DateTime(t.In(r.zone))
}

// ZonedTime is Time followed by the practice's time zone, for a recipient who
// may live in another ("7:17 PM (Paris time)").
func (r *rendering) ZonedTime(arg string) string {
	when := r.Time(arg)
	if when == "" {
		return ""
	}
	return inZone(r.L, r.zone, when)
}

// inZone names zone after a formatted time, by its city ("Europe/Paris" →
// Paris), or as UTC.
func inZone(l *locales.Localizer, zone *time.Location, when string) string {
	name := zone.String()
	if name == "" || name == "UTC" || name == "Local" || !strings.Contains(name, "/") {
		return l.T("mail.time_utc", "When", when)
	}
	city := strings.ReplaceAll(name[strings.LastIndex(name, "/")+1:], "_", " ")
	return l.T("mail.time_in_zone", "When", when, "City", city)
}

// TimeArg writes a time into a message's Args.
func TimeArg(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Render writes an outbox message in its recipient's language; it is the
// delivery worker's Renderer. With secret "" (the Outbox page, the log) the
// link or code shows a placeholder instead.
func (m *Mailer) Render(msg store.Message, secret string) (Outgoing, error) {
	out := Outgoing{To: msg.To, Lang: msg.Lang}
	if msg.Kind == store.KindLegacy {
		return m.renderLegacy(msg, secret)
	}
	k, ok := kinds[msg.Kind]
	if !ok {
		return out, fmt.Errorf("mail: no message kind %q", msg.Kind)
	}
	p, zone := m.practice()
	l := m.catalog.Get(msg.Lang)
	if secret == "" {
		secret = l.T("outbox.hidden")
	}
	r := &rendering{mailer: m, L: l, P: p, zone: zone, M: msg, Secret: secret, Mail: m.signed(l, p)}
	if err := k.Write(r); err != nil {
		return out, err
	}
	if msg.Channel == store.ChannelSMS {
		// French typography stops here: a text goes in the GSM 7-bit
		// alphabet, or one character outside it makes it cost double.
		out.Text = gsm7.Text(r.SMS)
		return out, nil
	}
	var err error
	out.Subject, out.Text, out.HTML, err = m.templates.Render("message", r.Mail)
	return out, err
}

// signed is what every email of practice p in l's language carries around
// its own words: the practice's name and colour, its signature (contact
// details), Foyer's footer and the way to the information notice.
func (m *Mailer) signed(l *locales.Localizer, p store.Practice) data {
	return data{Lang: l.Lang, Practice: p.Name, Brand: p.BrandColor, Footer: l.T("mail.footer", "Practice", p.Name),
		Colon: l.T("mail.colon"), Contact: p.ContactLines(), Privacy: l.T("mail.privacy"), PrivacyLink: m.link("/privacy")}
}

// renderLegacy writes a message queued whole before the outbox kept secrets
// sealed: without its secret, only the subject is left to show.
func (m *Mailer) renderLegacy(msg store.Message, secret string) (Outgoing, error) {
	out := Outgoing{To: msg.To, Lang: msg.Lang, Subject: msg.Args["Subject"]}
	if secret == "" {
		out.Text = m.catalog.Get(msg.Lang).T("outbox.hidden")
		return out, nil
	}
	var body store.LegacyBody
	if err := json.Unmarshal([]byte(secret), &body); err != nil {
		return out, fmt.Errorf("mail: legacy message: %w", err)
	}
	out.Subject, out.Text, out.HTML = body.Subject, body.Text, body.HTML
	if msg.Channel == store.ChannelSMS {
		out.Text = gsm7.Text(out.Text)
	}
	return out, nil
}

// StillValid reports whether msg is still worth sending (the delivery worker's Checker):
// the worker withdraws it otherwise.
func (m *Mailer) StillValid(msg store.Message, secret string) bool {
	k, ok := kinds[msg.Kind]
	return !ok || k.Void == nil || !k.Void(m, msg, secret)
}

// StillValidSealed is StillValid for a message read from the store, its secret sealed.
func (m *Mailer) StillValidSealed(msg store.Message) bool {
	secret, err := m.store.Unseal(msg.Sealed)
	return err == nil && m.StillValid(msg, secret)
}
