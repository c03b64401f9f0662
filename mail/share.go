package mail

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"foyer/locales"
	"foyer/share"
	"foyer/store"
)

// Emails and texts of document shares: the link token and the code travel
// sealed as the message's Secret. The share email's body is the practice's
// template for the recipient's language (Settings → Secure share), merged
// with the link, the deletion date and the message.

// ShareTemplate returns the practice's share email template for lang, or the default text.
func (m *Mailer) ShareTemplate(lang string) string {
	p, _ := m.store.Practice()
	if t := p.ShareTemplates[lang]; t != "" {
		return t
	}
	return m.catalog.Get(lang).T("share.template_default")
}

// shareLang is the language of a share's (first) recipient.
func (m *Mailer) shareLang(sh store.Share) string {
	if len(sh.Recipients) > 0 && locales.IsSupported(sh.Recipients[0].Lang) {
		return sh.Recipients[0].Lang
	}
	p, _ := m.store.Practice()
	return p.DefaultLang
}

// shareText merges a share template: when is the deletion time as the
// recipient reads it. The practice types its template as translators type
// messages, so the language's typography is applied to it as to them.
func shareText(l *locales.Localizer, p store.Practice, tmpl, link, name, message, when string) string {
	return strings.TrimSpace(closeBlanks(share.Merge(l.Typeset(tmpl), map[string]string{
		share.FieldLink:       link,
		share.FieldDisclaimer: l.T("share.disclaimer", "When", when),
		share.FieldRecipient:  name,
		share.FieldPractice:   p.Name,
		share.FieldMessage:    message,
	}))) + "\n"
}

// SharePreview writes the text of the share email of template tmpl in lang
// as a recipient would read it, signature included, with a sample name,
// message and link, for a share made now that is deleted at expires
// (Settings → Secure share).
func (m *Mailer) SharePreview(lang, tmpl string, expires time.Time) (subject, text string) {
	l := m.catalog.Get(lang)
	p, zone := m.practice()
	d := m.signed(l, p)
	d.Subject = l.T("share.mail_subject", "Practice", p.Name)
	d.Body = shareText(l, p, tmpl, m.link("/s/")+l.T("share.preview_token"), l.T("share.preview_name"), l.T("share.preview_message"),
		inZone(l, zone, l.DateTime(expires.In(zone))))
	if _, text, _, err := m.templates.Render("message", d); err == nil {
		return d.Subject, text
	}
	return d.Subject, d.Body
}

// writeShareLink writes the share email from the practice's template, with
// an HTML part and the signature every email ends with.
func writeShareLink(r *rendering) error {
	a := r.M.Args
	r.Mail.Subject = r.L.T("share.mail_subject", "Practice", r.P.Name)
	r.Mail.Body = shareText(r.L, r.P, r.mailer.ShareTemplate(r.L.Lang), r.Link("/s/"), a["Name"], a["Message"], r.ZonedTime("Expires"))
	r.Mail.Paragraphs = paragraphs(r.Mail.Body)
	return nil
}

// blankRuns are runs of blank lines: a field merged empty (no message) leaves one.
var blankRuns = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)

// closeBlanks keeps at most one blank line between paragraphs.
func closeBlanks(s string) string { return blankRuns.ReplaceAllString(s, "\n\n") }

// writeShareCode writes the security code: a text message, or an email when there is no mobile.
func writeShareCode(r *rendering) error {
	minutes, _ := strconv.Atoi(r.M.Args["Minutes"])
	r.SMS = r.OneText(func(practice string) string {
		return r.L.T("share.sms_code", "Code", r.Secret, "Practice", practice, "Minutes", minutes)
	})
	r.Mail.Subject = r.L.T("share.code_mail_subject", "Practice", r.P.Name)
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["Name"])
	r.Mail.Intro = r.L.T("share.code_mail_intro", "Code", r.Secret, "Minutes", minutes)
	return nil
}

// writeShareReminder writes the reminder sent two days before an undownloaded share expires.
func writeShareReminder(r *rendering) error {
	r.Mail.Subject = r.L.T("share.reminder_subject", "Practice", r.P.Name)
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["Name"])
	r.Mail.Intro = r.L.T("share.reminder_intro", "Practice", r.P.Name)
	r.Mail.Action = r.L.T("share.reminder_action")
	r.Mail.Link = r.Link("/s/")
	r.Mail.Expiry = r.L.T("share.disclaimer", "When", r.ZonedTime("Expires"))
	return nil
}

// The events a notice to staff (ShareStaff) tells of.
const (
	eventFirstDownload          = "first_download"
	eventFirstDownloadAnonymous = "first_download_anonymous"
	eventNotMe                  = "not_me"
)

// writeShareStaff writes a notice to the staff member who made a share
// (first download, "This wasn't me"); Event names which.
func writeShareStaff(r *rendering) error {
	a := r.M.Args
	ev := a["Event"]
	if ev != eventFirstDownload && ev != eventFirstDownloadAnonymous && ev != eventNotMe {
		return fmt.Errorf("mail: share notice %q", ev)
	}
	r.Mail.Subject = r.L.T("share."+ev+"_subject", "Name", a["Name"], "File", a["File"])
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["Staff"])
	r.Mail.Intro = r.L.T("share."+ev+"_intro", "Name", a["Name"], "File", a["File"])
	if when := r.Time("LineAt"); ev == eventNotMe && when != "" {
		// Which access the client reported, as the record's activity words it.
		r.Mail.Note = r.L.T("share.not_me_line", "When", when, "What", r.L.T("share.event_"+a["LineType"], "Detail", a["LineDetail"]))
	}
	r.Mail.Action = r.L.T("share.staff_mail_action")
	r.Mail.Link = r.mailer.link(a["Path"])
	return nil
}

// A share message that waited (delivery not configured) goes out only while
// its share still opens: one expired, deleted, replaced by Send again or
// whose client was archived meanwhile is withdrawn — the wrong address a Send
// again corrected never gets the name and the message.

// shareLinkVoid: the link a message carries (its secret) no longer opens its
// share for anyone (the share engine decides, as for every request of it).
func shareLinkVoid(m *Mailer, _ store.Message, token string) bool {
	return !m.shares.Opens(token)
}

// shareReminderVoid: the link no longer opens, or something was downloaded
// since the reminder ("not downloaded yet") was written.
func shareReminderVoid(m *Mailer, msg store.Message, token string) bool {
	if shareLinkVoid(m, msg, token) {
		return true
	}
	sh, err := m.store.ShareByToken(token)
	return err != nil || !sh.FirstDownloadAt.IsZero()
}

// shareCodeVoid: the code a message carries can no longer be entered.
func shareCodeVoid(m *Mailer, msg store.Message, code string) bool {
	id, err := strconv.ParseUint(msg.Args[share.ArgShare], 10, 64)
	if err != nil {
		return false // queued before code messages named their share; it expires within minutes
	}
	return !m.shares.CodeWaiting(id, code)
}

// ShareLinkMessage is the share email to a share's first recipient; token is
// the link's ("" for a preview).
func (m *Mailer) ShareLinkMessage(sh store.Share, token string) *store.Message {
	r := sh.Recipients[0]
	return &store.Message{Channel: store.ChannelEmail, To: r.Email, Lang: m.shareLang(sh), Kind: ShareLink,
		Args:   map[string]string{"Name": r.Name, "Message": sh.Message, "Expires": TimeArg(sh.ExpiresAt)},
		Secret: token, ExpiresAt: sh.ExpiresAt, CreatedAt: m.now().UTC(), ClientID: sh.ClientOf(0)}
}

// ComposeShare is the share engine's Compose for document shares: the email
// with the link, when the recipient has an email.
func (m *Mailer) ComposeShare(sh store.Share, token string) ([]*store.Message, error) {
	if len(sh.Recipients) == 0 || sh.Recipients[0].Email == "" {
		return nil, nil
	}
	return []*store.Message{m.ShareLinkMessage(sh, token)}, nil
}

// ComposeShareCode is the share engine's ComposeCode for document shares; the
// message expires with the code, so a text stuck in a queue is never
// delivered once useless.
func (m *Mailer) ComposeShareCode(sh store.Share) share.ComposeCode {
	return func(t share.Target, code string, expires time.Time) (*store.Message, error) {
		minutes := int(expires.Sub(m.now()).Round(time.Minute) / time.Minute)
		return &store.Message{Channel: t.Channel, To: t.To, Lang: m.shareLang(sh), Kind: ShareCode,
			Args:   map[string]string{"Name": sh.Recipients[t.Recipient].Name, "Minutes": strconv.Itoa(minutes)},
			Secret: code, ExpiresAt: expires, CreatedAt: m.now().UTC(), ClientID: sh.ClientOf(t.Recipient)}, nil
	}
}

// ComposeShareReminder is the share engine's ComposeReminder: the reminder
// of a document share's coming deletion, to its first recipient's email.
func (m *Mailer) ComposeShareReminder(sh store.Share) (*store.Message, error) {
	if sh.Kind != store.ShareFiles || len(sh.Recipients) == 0 || sh.Recipients[0].Email == "" {
		return nil, nil
	}
	token, err := m.shares.Link(sh)
	if err != nil {
		return nil, err
	}
	return &store.Message{Channel: store.ChannelEmail, To: sh.Recipients[0].Email, Lang: m.shareLang(sh), Kind: ShareReminder,
		Args:   map[string]string{"Name": sh.Recipients[0].Name, "Expires": TimeArg(sh.ExpiresAt)},
		Secret: token, ExpiresAt: sh.ExpiresAt, CreatedAt: m.now().UTC(), ClientID: sh.ClientOf(0)}, nil
}
