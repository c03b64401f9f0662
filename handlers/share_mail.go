package handlers

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

// Emails and texts of document shares, written by the outbox at send time
// (see mail.go): the link token and the code travel sealed as the message's
// Secret. The share email's body is the practice's template for the
// recipient's language (Settings → Secure share), merged with the link, the
// deletion date and the message.

func init() {
	messageKinds["share_link"] = renderShareLink
	messageKinds["share_code"] = renderShareCode
	messageKinds["share_reminder"] = renderShareReminder
	messageKinds["share_staff"] = renderShareStaff
	// A share message that waited (delivery not configured) goes out only
	// while its share still opens: one expired, deleted, replaced by Send
	// again or whose client was archived meanwhile is withdrawn — the wrong
	// address a Send again corrected never gets the name and the message.
	messageChecks["share_link"] = shareLinkStillValid
	messageChecks["share_reminder"] = shareReminderStillValid
	messageChecks["share_code"] = shareCodeStillValid
	messageChecks["preso_code"] = shareCodeStillValid
}

// shareLinkStillValid: the link a message carries (its secret) still opens
// its share, or would once staff unlock it.
func shareLinkStillValid(h *Handler, _ store.Message, token string) bool {
	sh, err := h.store.ShareByToken(token)
	if err != nil {
		return false
	}
	st := h.shares.State(sh)
	return (st == store.ShareActive || st == store.ShareLocked) && !h.shareClientArchived(sh)
}

// shareReminderStillValid: the link still opens and nothing was downloaded
// since the reminder ("not downloaded yet") was written.
func shareReminderStillValid(h *Handler, m store.Message, token string) bool {
	if !shareLinkStillValid(h, m, token) {
		return false
	}
	sh, err := h.store.ShareByToken(token)
	return err == nil && sh.FirstDownloadAt.IsZero()
}

// shareCodeStillValid: the code a message carries can still be entered.
func shareCodeStillValid(h *Handler, m store.Message, code string) bool {
	id, err := strconv.ParseUint(m.Args[share.ArgShare], 10, 64)
	if err != nil {
		return true // queued before code messages named their share; it expires within minutes
	}
	if sh, err := h.shares.Get(id); err != nil || h.shareClientArchived(sh) {
		return false
	}
	return h.shares.CodeWaiting(id, code)
}

// shareTemplate returns the practice's template for lang, or the default text.
func (h *Handler) shareTemplate(lang string) string {
	p, _ := h.currentPractice()
	if t := p.ShareTemplates[lang]; t != "" {
		return t
	}
	return h.catalog.Get(lang).T("share.template_default")
}

// shareLang is the language of a share's (first) recipient.
func (h *Handler) shareLang(sh store.Share) string {
	if len(sh.Recipients) > 0 && locales.IsSupported(sh.Recipients[0].Lang) {
		return sh.Recipients[0].Lang
	}
	p, _ := h.currentPractice()
	return p.DefaultLang
}

// renderShareLink writes the share email from the practice's template.
func renderShareLink(r *rendering) error {
	a := r.M.Args
	r.Mail.Subject = r.L.T("share.mail_subject", "Practice", r.P.Name)
	r.Text = strings.TrimSpace(closeBlanks(share.Merge(r.h.shareTemplate(r.L.Lang), map[string]string{
		share.FieldLink:       r.Link("/s/"),
		share.FieldDisclaimer: r.L.T("share.disclaimer", "When", r.ZonedTime("Expires")),
		share.FieldRecipient:  a["Name"],
		share.FieldPractice:   r.P.Name,
		share.FieldMessage:    a["Message"],
	}))) + "\n"
	return nil
}

// blankRuns are runs of blank lines: a field merged empty (no message) leaves one.
var blankRuns = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)

// closeBlanks keeps at most one blank line between paragraphs.
func closeBlanks(s string) string { return blankRuns.ReplaceAllString(s, "\n\n") }

// ZonedTime is Time followed by the practice's time zone, for a recipient who
// may live in another ("7:17 PM (Paris time)").
func (r *rendering) ZonedTime(arg string) string {
	when := r.Time(arg)
	if when == "" {
		return ""
	}
	return zonedTime(r.L, r.h.zone(), when)
}

// zonedTime names zone after a formatted time, by its city ("Europe/Paris" →
// Paris), or as UTC.
func zonedTime(l *locales.Localizer, zone *time.Location, when string) string {
	name := zone.String()
	if name == "" || name == "UTC" || name == "Local" || !strings.Contains(name, "/") {
		return l.T("mail.time_utc", "When", when)
	}
	city := strings.ReplaceAll(name[strings.LastIndex(name, "/")+1:], "_", " ")
	return l.T("mail.time_in_zone", "When", when, "City", city)
}

// renderShareCode writes the security code: a text message, or an email when there is no mobile.
func renderShareCode(r *rendering) error {
	minutes, _ := strconv.Atoi(r.M.Args["Minutes"])
	r.SMS = r.L.T("share.sms_code", "Code", r.Secret, "Practice", r.P.Name, "Minutes", minutes)
	r.Mail.Subject = r.L.T("share.code_mail_subject", "Practice", r.P.Name)
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["Name"])
	r.Mail.Intro = r.L.T("share.code_mail_intro", "Code", r.Secret, "Minutes", minutes)
	return nil
}

// renderShareReminder writes the reminder sent two days before an undownloaded share expires.
func renderShareReminder(r *rendering) error {
	r.Mail.Subject = r.L.T("share.reminder_subject", "Practice", r.P.Name)
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["Name"])
	r.Mail.Intro = r.L.T("share.reminder_intro", "Practice", r.P.Name)
	r.Mail.Action = r.L.T("share.reminder_action")
	r.Mail.Link = r.Link("/s/")
	r.Mail.Expiry = r.L.T("share.disclaimer", "When", r.ZonedTime("Expires"))
	return nil
}

// renderShareStaff writes a notice to the staff member who made a share
// (first download, "This wasn't me"); Event names which.
func renderShareStaff(r *rendering) error {
	a := r.M.Args
	ev := a["Event"]
	if ev != "first_download" && ev != "first_download_anonymous" && ev != "not_me" {
		return fmt.Errorf("handlers: share notice %q", ev)
	}
	r.Mail.Subject = r.L.T("share."+ev+"_subject", "Name", a["Name"], "File", a["File"])
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["Staff"])
	r.Mail.Intro = r.L.T("share."+ev+"_intro", "Name", a["Name"], "File", a["File"])
	if when := r.Time("LineAt"); ev == "not_me" && when != "" {
		// Which access the client reported, as the record's activity words it.
		r.Mail.Note = r.L.T("share.not_me_line", "When", when, "What", r.L.T("share.event_"+a["LineType"], "Detail", a["LineDetail"]))
	}
	r.Mail.Action = r.L.T("share.staff_mail_action")
	r.Mail.Link = r.h.link(a["Path"])
	return nil
}

// shareLinkMessage is the share email to the first recipient; token is the link's (empty for a preview).
func (h *Handler) shareLinkMessage(sh store.Share, token string) *store.Message {
	r := sh.Recipients[0]
	return &store.Message{Channel: store.ChannelEmail, To: r.Email, Lang: h.shareLang(sh), Kind: "share_link",
		Args:   map[string]string{"Name": r.Name, "Message": sh.Message, "Expires": timeArg(sh.ExpiresAt)},
		Secret: token, ExpiresAt: sh.ExpiresAt, CreatedAt: h.now().UTC()}
}

// composeShareMail is the share engine's Compose for document shares.
func (h *Handler) composeShareMail(sh store.Share, token string) ([]*store.Message, error) {
	if len(sh.Recipients) == 0 || sh.Recipients[0].Email == "" {
		return nil, nil
	}
	return []*store.Message{h.shareLinkMessage(sh, token)}, nil
}

// composeCode queues the security code; the message expires with the code, so
// a text stuck in a queue is never delivered once useless.
func (h *Handler) composeCode(sh store.Share) share.ComposeCode {
	return func(t share.Target, code string, expires time.Time) (*store.Message, error) {
		minutes := int(expires.Sub(h.now()).Round(time.Minute) / time.Minute)
		return &store.Message{Channel: t.Channel, To: t.To, Lang: h.shareLang(sh), Kind: "share_code",
			Args:   map[string]string{"Name": sh.Recipients[t.Recipient].Name, "Minutes": strconv.Itoa(minutes)},
			Secret: code, ExpiresAt: expires, CreatedAt: h.now().UTC()}, nil
	}
}

// composeReminder is the share engine's reminder for document shares.
func (h *Handler) composeReminder(sh store.Share) (*store.Message, error) {
	if sh.Kind != store.ShareFiles || len(sh.Recipients) == 0 || sh.Recipients[0].Email == "" {
		return nil, nil
	}
	token, err := h.shares.Link(sh)
	if err != nil {
		return nil, err
	}
	return &store.Message{Channel: store.ChannelEmail, To: sh.Recipients[0].Email, Lang: h.shareLang(sh), Kind: "share_reminder",
		Args:   map[string]string{"Name": sh.Recipients[0].Name, "Expires": timeArg(sh.ExpiresAt)},
		Secret: token, ExpiresAt: sh.ExpiresAt, CreatedAt: h.now().UTC()}, nil
}

// staffMail emails a notice of a share (first download, "This wasn't me") to
// whoever shareNoticeTo names.
func (h *Handler) staffMail(sh store.Share, event, file string, line ...store.ShareEvent) {
	h.staffMailBy(sh, 0, event, file, line...)
}

// staffMailBy is staffMail for what recipient who did. A visitor who went on
// without giving their name (who < 0) is not named after the recipient: the
// notice says someone did, through the link sent to the recipient — exactly
// the case staff should look at twice.
func (h *Handler) staffMailBy(sh store.Share, who int, event, file string, line ...store.ShareEvent) {
	name := ""
	if who < 0 {
		event += "_anonymous"
		who = 0
	}
	if who < len(sh.Recipients) {
		name = sh.Recipients[who].Name
	}
	to, err := h.shareNoticeTo(sh)
	if err != nil {
		h.log.Error("unable to find who hears of a share", "err", err)
	}
	for _, st := range to {
		args := map[string]string{"Event": event, "Name": name, "File": file, "Staff": st.Name,
			"Path": fmt.Sprintf("/clients/%d#share-%d", sh.ClientID, sh.ID)}
		if len(line) > 0 {
			args["LineAt"], args["LineType"], args["LineDetail"] = timeArg(line[0].At), line[0].Type, line[0].Detail
		}
		if err := h.queue(&store.Message{Channel: store.ChannelEmail, To: st.Email, Lang: st.Lang, Kind: "share_staff", Args: args}); err != nil {
			h.log.Error("unable to queue a share notice", "err", err)
		}
	}
}

// shareNoticeTo is who hears of a share's first download or of "This wasn't
// me": the staff member who made it; once they are deactivated, whoever
// hears about the client (staffFor). Somebody always hears: the portal tells
// the client the practice was told.
func (h *Handler) shareNoticeTo(sh store.Share) ([]store.Staff, error) {
	all, err := h.store.ListStaff()
	if err != nil {
		return nil, err
	}
	if to := activeStaff(all, sh.StaffID); to != nil {
		return to, nil
	}
	var practitioner uint64
	if sh.ClientID != 0 {
		if cl, err := h.store.Client(sh.ClientID); err == nil {
			practitioner = cl.PractitionerID
		}
	}
	return staffFor(all, practitioner), nil
}

// activeStaff is the member id of all, if active, as a list of one; else nil.
func activeStaff(all []store.Staff, id uint64) []store.Staff {
	for _, st := range all {
		if st.ID == id && st.Active && !st.Invited {
			return []store.Staff{st}
		}
	}
	return nil
}

// staffFor is who hears about a client: their practitioner while active,
// else the practice's active owners and admins.
func staffFor(all []store.Staff, practitioner uint64) []store.Staff {
	if to := activeStaff(all, practitioner); to != nil {
		return to
	}
	var to []store.Staff
	for _, st := range all {
		if st.Active && !st.Invited && (st.Role == store.RoleOwner || st.Role == store.RoleAdmin) {
			to = append(to, st)
		}
	}
	return to
}
