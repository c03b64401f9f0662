package mail

import (
	"errors"
	"maps"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/locales"
	"foyer/mail/mailtest"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// env is a store, a share engine and a Mailer over them, with a clock the test moves.
type env struct {
	st     *store.Store
	shares *share.Engine
	mailer *Mailer
	mu     sync.Mutex
	now    time.Time
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.WithMessageCheck(Prepare))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := store.DefaultPractice()
	p.Name, p.TimeZone, p.Address, p.Phone = "Cabinet Lumière", "Europe/Paris", "12 rue des Lilas\n75011 Paris", "01 23 45 67 89"
	if err := st.SavePractice(p); err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	e.shares = share.New(st, e.clock)
	cat, _ := locales.Load()
	templates, err := views.NewMail()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://portal.example.org/")
	if e.mailer, err = New(Config{Store: st, Shares: e.shares, Catalog: cat, Templates: templates, BaseURL: base, Now: e.clock}); err != nil {
		t.Fatal(err)
	}
	return e
}

// linkToken is a link token as Foyer makes them (43 characters).
const linkToken = mailtest.LinkToken

// samples is a message of every kind, as the code that queues it writes it:
// each kind must have one (TestEveryKindRendersInBothLanguages).
func samples(now time.Time) map[string]store.Message { return mailtest.Samples(now) }

// unfilled finds what a missing message or template value leaves behind: a
// message ID ("mail.invite.intro"), "<no value>", an empty placeholder.
var unfilled = regexp.MustCompile(`\b(?:mail|share|landing|outbox|role|format)\.[a-z_.]+\b|<no value>|\{\{`)

func TestEveryKindRendersInBothLanguages(t *testing.T) {
	e := newEnv(t)
	all := samples(e.clock())
	for _, kind := range kindNames() {
		m, ok := all[kind]
		if !ok {
			t.Errorf("%s: no sample message: add one", kind)
			continue
		}
		if err := Prepare(&m); err != nil {
			t.Errorf("%s: the sample is refused: %v", kind, err)
			continue
		}
		texts := map[string]string{}
		for _, lang := range []string{"en", "fr"} {
			m.Lang = lang
			out, err := e.mailer.Render(m, m.Secret)
			if err != nil {
				t.Errorf("%s in %s: %v", kind, lang, err)
				continue
			}
			whole := out.Subject + "\n" + out.Text + "\n" + out.HTML
			if m.Channel == store.ChannelEmail && (out.Subject == "" || out.Text == "") {
				t.Errorf("%s in %s: no subject or no text: %+v", kind, lang, out)
			}
			if m.Channel == store.ChannelEmail {
				// Every email has an HTML part, and both parts end with the
				// practice's signature, Foyer's footer and the information notice.
				l := e.mailer.catalog.Get(lang)
				signature := "\n\n-- \nCabinet Lumière\n12 rue des Lilas\n75011 Paris\n01 23 45 67 89\n" + l.T("mail.footer", "Practice", "Cabinet Lumière") + "\n" +
					l.T("mail.privacy") + l.T("mail.colon") + " https://portal.example.org/privacy"
				if !strings.HasSuffix(strings.TrimRight(out.Text, "\n"), signature) {
					t.Errorf("%s in %s: the text does not end with the signature:\n%s", kind, lang, out.Text)
				}
				for _, want := range []string{"<html lang=\"" + lang + "\">", "Cabinet Lumière<br>12 rue des Lilas<br>75011 Paris<br>01 23 45 67 89</p>",
					l.T("mail.footer", "Practice", "Cabinet Lumière") + `<br><a href="https://portal.example.org/privacy"`} {
					if !strings.Contains(out.HTML, want) {
						t.Errorf("%s in %s: the HTML part lacks %q:\n%s", kind, lang, want, out.HTML)
					}
				}
				if m.Secret != "" && len(m.Secret) > 6 && !strings.Contains(out.HTML, `<a href="https://portal.example.org/`) {
					t.Errorf("%s in %s: the HTML part has no link:\n%s", kind, lang, out.HTML)
				}
			}
			if m.Channel == store.ChannelSMS && (out.Text == "" || out.Subject != "" || out.HTML != "") {
				t.Errorf("%s in %s: not a text message: %+v", kind, lang, out)
			}
			if bad := unfilled.FindString(whole); bad != "" {
				t.Errorf("%s in %s: %q left in:\n%s", kind, lang, bad, whole)
			}
			if m.Secret != "" && !strings.Contains(out.Text, m.Secret) {
				t.Errorf("%s in %s: its link or code is not in the text:\n%s", kind, lang, out.Text)
			}
			// Without its secret (the Outbox page, the log), a placeholder stands in.
			shown, err := e.mailer.Render(m, "")
			if err != nil || (m.Secret != "" && strings.Contains(shown.Text, m.Secret)) {
				t.Errorf("%s in %s, shown: %v\n%s", kind, lang, err, shown.Text)
			}
			texts[lang] = whole
		}
		if texts["en"] != "" && texts["en"] == texts["fr"] {
			t.Errorf("%s: the same in English and French:\n%s", kind, texts["en"])
		}
	}
	// A French email has French typography, in its subject, text and HTML:
	// « » hold narrow no-break spaces, a colon a no-break one, a number its unit.
	m := all[Reminder]
	m.Lang = "fr"
	if err := Prepare(&m); err != nil {
		t.Fatal(err)
	}
	out, _ := e.mailer.Render(m, m.Secret)
	for _, want := range []string{"«\u202fRejoindre la séance en vidéo\u202f»", "(50\u00a0minutes)", "15\u00a0minutes avant", "portail client\u00a0: le bouton"} {
		if !strings.Contains(out.Text, want) || !strings.Contains(out.HTML, want) {
			t.Errorf("the French reminder lacks %q:\n%s\n%s", want, out.Text, out.HTML)
		}
	}
	m = all[PresoViewed]
	m.Lang = "fr"
	if out, _ = e.mailer.Render(m, m.Secret); out.Subject != "Zoé Martin a consulté «\u202fVotre bilan\u202f»" {
		t.Errorf("French subject: %q", out.Subject)
	}
	// A French email reads as French and gives the practice's time.
	m = all[Invite]
	m.Lang = "fr"
	out, _ = e.mailer.Render(m, m.Secret)
	for _, want := range []string{"Votre invitation à rejoindre Cabinet Lumière", "26\u00a0novembre 2026 à\u00a011:00", "https://portal.example.org/invite/" + linkToken, "12 rue des Lilas"} {
		if !strings.Contains(out.Subject+"\n"+out.Text, want) {
			t.Errorf("French invitation lacks %q:\n%s\n%s", want, out.Subject, out.Text)
		}
	}
}

func TestKindMissingArgumentsRefused(t *testing.T) {
	e := newEnv(t)
	all := samples(e.clock())
	for kind, k := range kinds {
		for _, arg := range append(append([]string(nil), k.Args...), k.Times...) {
			m := all[kind]
			m.Args = maps.Clone(m.Args)
			delete(m.Args, arg)
			if err := Prepare(&m); !errors.Is(err, ErrMessage) {
				t.Errorf("%s without %s: %v", kind, arg, err)
			}
			// The store refuses it too: nothing is queued.
			if err := e.st.Enqueue(&m); !errors.Is(err, ErrMessage) {
				t.Errorf("%s without %s queued: %v", kind, arg, err)
			}
		}
		if k.Secret {
			m := all[kind]
			m.Secret = ""
			if err := Prepare(&m); !errors.Is(err, ErrMessage) {
				t.Errorf("%s without its secret: %v", kind, err)
			}
		}
	}
	for name, m := range map[string]store.Message{
		"an unknown kind":      {Channel: store.ChannelEmail, To: "a@example.org", Kind: "newsletter"},
		"an invitation by SMS": func() store.Message { m := all[Invite]; m.Channel = store.ChannelSMS; return m }(),
		"a time that is not one": func() store.Message {
			m := all[Reminder]
			m.Args = maps.Clone(m.Args)
			m.Args["Start"] = "tomorrow"
			return m
		}(),
		"a code without expiry": func() store.Message { m := all[ShareCode]; m.ExpiresAt = time.Time{}; return m }(),
		"a message to nobody":   func() store.Message { m := all[PortalAccess]; m.To = ""; return m }(),
		"share_staff of no event ": func() store.Message {
			m := all[ShareStaff]
			m.Args = maps.Clone(m.Args)
			delete(m.Args, "Event")
			return m
		}(),
	} {
		if err := Prepare(&m); !errors.Is(err, ErrMessage) {
			t.Errorf("%s accepted: %v", name, err)
		}
	}
	if msgs, _ := e.st.ListMessages(0, 10); len(msgs) != 0 {
		t.Fatalf("refused messages are in the outbox: %+v", msgs)
	}
}

// A message's expiry is its kind's: a link's own, a session's start, never later.
func TestPrepareSetsTheKindsExpiry(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	all := samples(now)
	m := all[Reminder]
	if err := Prepare(&m); err != nil || m.ExpiresAt.Format(time.RFC3339) != m.Args["Start"] {
		t.Fatalf("reminder expires at %v (%v), want its session's start %s", m.ExpiresAt, err, m.Args["Start"])
	}
	m = all[ShareLink]
	m.ExpiresAt = now.Add(365 * 24 * time.Hour)
	if err := Prepare(&m); err != nil || m.ExpiresAt.Format(time.RFC3339) != m.Args["Expires"] {
		t.Fatalf("share email expires at %v (%v), want its share's expiry", m.ExpiresAt, err)
	}
	m = all[ShareCode]
	if err := Prepare(&m); err != nil || !m.ExpiresAt.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("code expires at %v (%v)", m.ExpiresAt, err)
	}
}

// Of the messages that waited, those that became void meanwhile are
// withdrawn (StillValid, which the delivery worker asks before sending),
// those past their kind's expiry are never handed out to be sent, the others go.
func TestExpiredAndVoidMessagesWithdrawn(t *testing.T) {
	e := newEnv(t)
	now := e.clock()
	all := samples(now)
	st := store.Staff{Email: "kim@example.org", Name: "Kim", Role: store.RolePractitioner, Invited: true, Lang: "en"}
	if err := e.st.CreateStaff(&st); err != nil {
		t.Fatal(err)
	}
	queue := func(m store.Message, secret string) uint64 {
		t.Helper()
		m.Secret, m.CreatedAt = secret, now
		if err := e.st.Enqueue(&m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	// An invitation cancelled (its link deleted), and one still good.
	cancelled, good := "Cancelled-invitation-linkToken-of-43-characters", "Good-invitation-linkToken-of-43-characters-xyz"
	for _, tok := range []string{cancelled, good} {
		if err := e.st.CreateInvite(tok, store.Invite{StaffID: st.ID, CreatedAt: now, ExpiresAt: now.Add(72 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// CreateInvite keeps only the newest of a member's invitations: the first is void.
	cancelledID, goodID := queue(all[Invite], cancelled), queue(all[Invite], good)
	// A reminder whose session was cancelled.
	cl := store.Client{FirstName: "Zoé", LastName: "Martin", Email: "zoe@example.org", Lang: "fr"}
	if err := e.st.CreateClient(&cl); err != nil {
		t.Fatal(err)
	}
	ap := store.Appointment{ClientID: cl.ID, PractitionerID: st.ID, Start: now.Add(24 * time.Hour), Minutes: 50, Kind: store.KindVideo, Status: store.StatusBooked}
	if err := e.st.CreateAppointment(&ap); err != nil {
		t.Fatal(err)
	}
	reminder := all[Reminder]
	reminder.Args = maps.Clone(reminder.Args)
	reminder.Args["Appointment"], reminder.Args["Start"] = strconv.FormatUint(ap.ID, 10), TimeArg(ap.Start)
	reminderID := queue(reminder, "")
	if _, err := e.st.UpdateAppointment(ap.ID, func(a *store.Appointment) error { a.Status = store.StatusCancelled; return nil }); err != nil {
		t.Fatal(err)
	}
	// A share expired by staff: its email and its code are withdrawn.
	sh, link, err := e.shares.Create(share.Draft{Kind: store.ShareFiles, ClientID: cl.ID, StaffID: st.ID,
		Recipients: []store.ShareRecipient{{ClientID: cl.ID, Name: "Zoé Martin", Email: "zoe@example.org", Lang: "fr"}}}, e.mailer.ComposeShare)
	if err != nil {
		t.Fatal(err)
	}
	shareMsgs, _ := e.st.ListMessages(0, 1)
	if len(shareMsgs) != 1 || shareMsgs[0].Kind != ShareLink {
		t.Fatalf("the share's email: %+v", shareMsgs)
	}
	if !e.mailer.StillValid(shareMsgs[0], link) {
		t.Fatal("the email of a live share is void")
	}
	if _, err := e.shares.Expire(sh.ID, store.ShareEvent{Type: share.EventExpiredNow, Recipient: -1}); err != nil {
		t.Fatal(err)
	}
	// A code that waited past its ten minutes.
	code := all[ShareCode]
	code.ExpiresAt = now.Add(time.Minute)
	codeID := queue(code, "123456")

	e.advance(2 * time.Minute)
	due, err := e.st.ClaimDue(store.ChannelEmail, e.clock(), time.Minute, 50)
	if err != nil {
		t.Fatal(err)
	}
	smsDue, err := e.st.ClaimDue(store.ChannelSMS, e.clock(), time.Minute, 50)
	if err != nil || len(smsDue) != 0 {
		t.Fatalf("the expired code was handed out: %+v %v", smsDue, err)
	}
	if m, _ := e.st.Message(codeID); m.State != store.StateExpired || m.HasSecret() {
		t.Errorf("the code past its expiry: %s, secret kept %v", m.State, m.HasSecret())
	}
	want := map[uint64]bool{cancelledID: false, goodID: true, reminderID: false, shareMsgs[0].ID: false}
	if len(due) != len(want) {
		t.Fatalf("due: %+v", due)
	}
	for _, m := range due {
		if got := e.mailer.StillValid(m, m.Secret); got != want[m.ID] {
			t.Errorf("message %d (%s): still valid %v, want %v", m.ID, m.Kind, got, want[m.ID])
		}
	}
}

func TestInZone(t *testing.T) {
	cat, _ := locales.Load()
	paris, _ := time.LoadLocation("Europe/Paris")
	ny, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct {
		lang string
		zone *time.Location
		want string
	}{
		{"fr", paris, "15\u00a0décembre 2026 à\u00a011:00 (heure de Paris)"},
		{"en", ny, "15\u00a0décembre 2026 à\u00a011:00 (New York time)"},
		{"en", time.UTC, "15\u00a0décembre 2026 à\u00a011:00 (UTC)"},
	} {
		if got := inZone(cat.Get(tc.lang), tc.zone, "15\u00a0décembre 2026 à\u00a011:00"); got != tc.want {
			t.Errorf("%s in %s: %q, want %q", tc.lang, tc.zone, got, tc.want)
		}
	}
}

// TestPracticeTemplatesAreTypeset: a share template the practice typed with
// ordinary spaces reads in French with French typography, its link intact;
// the English one as typed.
func TestPracticeTemplatesAreTypeset(t *testing.T) {
	e := newEnv(t)
	p, _ := e.st.Practice()
	p.ShareTemplates = map[string]string{
		"fr": "Bonjour [[RECIPIENT_NAME]] ! Voici le lien : [[SECURE_SHARE_LINK]] ; à bientôt.",
		"en": "Hello [[RECIPIENT_NAME]] ! Here : [[SECURE_SHARE_LINK]]",
	}
	if err := e.st.SavePractice(p); err != nil {
		t.Fatal(err)
	}
	m := samples(e.clock())[ShareLink]
	for lang, want := range map[string]string{
		"fr": "Bonjour Zoé Martin\u202f! Voici le lien\u00a0: https://portal.example.org/s/" + linkToken + "\u202f; à bientôt.",
		"en": "Hello Zoé Martin ! Here : https://portal.example.org/s/" + linkToken,
	} {
		m.Lang = lang
		out, err := e.mailer.Render(m, m.Secret)
		if err != nil || !strings.HasPrefix(out.Text, want) {
			t.Errorf("%s: %v\n%q\nwant it to start %q", lang, err, out.Text, want)
		}
	}
}

// TestShareEmailHTML: the HTML part of the share email shows the practice's
// text as paragraphs and lines, its addresses as links (a full stop after one
// is not part of it), and whatever was typed escaped.
func TestShareEmailHTML(t *testing.T) {
	e := newEnv(t)
	m := samples(e.clock())[ShareLink]
	m.Args = maps.Clone(m.Args)
	m.Args["Message"] = "Voir <b>ceci</b> & https://example.org/doc?a=1&b=2.\nÀ bientôt."
	m.Lang = "fr"
	out, err := e.mailer.Render(m, m.Secret)
	if err != nil {
		t.Fatal(err)
	}
	const wrap = "word-break: break-all; overflow-wrap: anywhere;" // a long link wraps on a phone
	for _, want := range []string{
		"<p>Bonjour Zoé Martin,</p>",
		`<p><a href="https://portal.example.org/s/` + linkToken + `" style="` + wrap + `">https://portal.example.org/s/` + linkToken + `</a></p>`,
		`<p>Voir &lt;b&gt;ceci&lt;/b&gt; &amp; <a href="https://example.org/doc?a=1&amp;b=2" style="` + wrap + `">https://example.org/doc?a=1&amp;b=2</a>.<br>À bientôt.</p>`,
	} {
		if !strings.Contains(out.HTML, want) {
			t.Errorf("the HTML part lacks %s:\n%s", want, out.HTML)
		}
	}
	if !strings.Contains(out.Text, "Voir <b>ceci</b> & https://example.org/doc?a=1&b=2.\nÀ bientôt.\n") {
		t.Errorf("the text part:\n%s", out.Text)
	}
}

// TestEmailWording: the slips outside testing found in the emails' words. A
// role is a common noun mid-sentence ("en tant que praticien", "as an
// administrator", elided before a vowel); no email names the practice after
// a word saying what it is ("du cabinet Cabinet Lumière").
func TestEmailWording(t *testing.T) {
	e := newEnv(t)
	all := samples(e.clock())
	invite := all[Invite]
	for _, tc := range []struct{ lang, role, want string }{
		{"fr", "practitioner", "sur Foyer en tant que praticien. "},
		{"fr", "admin", "sur Foyer en tant qu’administrateur. "},
		{"en", "practitioner", "on Foyer as a practitioner. "},
		{"en", "admin", "on Foyer as an administrator. "},
	} {
		invite.Lang, invite.Args = tc.lang, maps.Clone(invite.Args)
		invite.Args["Role"] = tc.role
		out, err := e.mailer.Render(invite, invite.Secret)
		if err != nil || !strings.Contains(out.Text, tc.want) || !strings.Contains(out.HTML, tc.want) {
			t.Errorf("%s invitation as %s lacks %q (%v):\n%s", tc.lang, tc.role, tc.want, err, out.Text)
		}
	}
	reset := all[StaffReset]
	for lang, want := range map[string]string{"fr": "de votre compte professionnel chez Cabinet Lumière.", "en": "of your staff account at Cabinet Lumière."} {
		reset.Lang = lang
		if out, _ := e.mailer.Render(reset, reset.Secret); !strings.Contains(out.Text, want) {
			t.Errorf("%s staff reset lacks %q:\n%s", lang, want, out.Text)
		}
	}
	twice := regexp.MustCompile(`(?i)\b(?:cabinet|practice|du|de la|the)\s+Cabinet Lumière`)
	for _, kind := range kindNames() {
		m := all[kind]
		for _, lang := range []string{"en", "fr"} {
			m.Lang = lang
			out, _ := e.mailer.Render(m, m.Secret)
			if bad := twice.FindString(out.Subject + "\n" + out.Text); bad != "" {
				t.Errorf("%s in %s says %q", kind, lang, bad)
			}
		}
	}
}
