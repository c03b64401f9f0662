package handlers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"foyer/delivery"
	"foyer/locales"
	"foyer/store"
)

// Sending an email or a text message
//
// A message goes into the outbox as what is needed to write it — its kind,
// recipient, language, arguments — and the secret it carries (a link token,
// a security code), which the store keeps sealed. The delivery worker has it
// written by Handler.Render at the moment it sends it, so the words follow
// the recipient's language and the practice's current name, and the secret
// exists in the clear only in memory, on its way out:
//
//	err := h.queue(&store.Message{
//		Channel:   store.ChannelSMS,         // the lane: email and SMS never wait for each other
//		To:        phone,
//		Lang:      client.Lang,
//		Kind:      "share_code",             // a key of messageKinds below
//		Args:      map[string]string{"Name": doc.Title},
//		Secret:    code,                     // sealed in the store, dropped once sent
//		ExpiresAt: now.Add(10 * time.Minute), // never sent after this
//	})
//
// Within a store transaction (a record and its message committing together)
// the store's own methods take the *store.Message instead (QueueReminder).

// mailData is what an email template receives: every string already in the
// recipient's language.
type mailData struct {
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
}

// rendering is one message being written: a messageKinds function reads M
// and fills Mail (emails) or SMS (text messages).
type rendering struct {
	h *Handler
	L *locales.Localizer
	P store.Practice
	M store.Message
	// Secret is the message's token or code, or a visible placeholder when
	// the message is only shown or logged.
	Secret string
	Mail   mailData
	SMS    string
	// Text, when set, is a plain-text email written whole (the practice's share
	// templates); it goes out as it is, with Mail.Subject.
	Text string
}

// Link is the absolute URL of path followed by the secret ("/invite/" → https://…/invite/TOKEN).
func (r *rendering) Link(path string) string { return r.h.link(path + r.Secret) }

// Time formats an argument written by timeArg in the recipient's language and the practice's zone.
func (r *rendering) Time(arg string) string {
	t, err := time.Parse(time.RFC3339, r.M.Args[arg])
	if err != nil {
		return ""
	}
	return r.L.DateTime(t.In(r.h.zone()))
}

// timeArg writes a time into a message's Args.
func timeArg(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// portalLinkEmail is a portal email whose button carries the secret.
func portalLinkEmail(kind, path string) func(r *rendering) error {
	return func(r *rendering) error {
		r.Mail.Subject = r.L.T("mail."+kind+".subject", "Practice", r.P.Name)
		r.Mail.Greeting = r.L.T("mail.hello")
		r.Mail.Intro = r.L.T("mail."+kind+".intro", "Practice", r.P.Name)
		r.Mail.Action = r.L.T("mail." + kind + ".action")
		r.Mail.Link = r.Link(path)
		if when := r.Time("Expires"); when != "" {
			r.Mail.Expiry = r.L.T("mail.link_expiry", "When", when)
		}
		return nil
	}
}

// portalPlainEmail is a portal email that carries no secret: its button opens the portal.
func portalPlainEmail(kind string) func(r *rendering) error {
	return func(r *rendering) error {
		r.Mail.Subject = r.L.T("mail."+kind+".subject", "Practice", r.P.Name)
		r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["FirstName"])
		r.Mail.Intro = r.L.T("mail."+kind+".intro", "Practice", r.P.Name, "Email", r.M.To)
		r.Mail.Action = r.L.T("mail." + kind + ".action")
		r.Mail.Link = r.h.link("/portal")
		return nil
	}
}

// practiceContact is the practice's contact details, one per line, as emails and receipts show them.
func practiceContact(p store.Practice) []string {
	var out []string
	for _, line := range strings.Split(p.Address, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	for _, v := range []string{p.Phone, p.ContactEmail} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// messageKinds writes each kind of message. To add one, register a function
// that fills r.Mail or r.SMS from r.M.Args in r.L's language, putting
// r.Secret (or r.Link(path)) where the code or link goes.
var messageKinds = map[string]func(r *rendering) error{
	"invite": func(r *rendering) error {
		a := r.M.Args
		r.Mail.Subject = r.L.T("mail.invite.subject", "Practice", r.P.Name)
		r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["Name"])
		r.Mail.Intro = r.L.T("mail.invite.intro", "Inviter", a["Inviter"], "Practice", r.P.Name, "Role", r.L.T("role."+a["Role"]))
		r.Mail.Action = r.L.T("mail.invite.action")
		r.Mail.Link = r.Link("/invite/")
		r.Mail.Expiry = r.L.T("mail.invite.expiry", "When", r.Time("Expires"))
		return nil
	},
	"staff_reset": func(r *rendering) error {
		if err := portalLinkEmail("staff_reset", "/signin/reset/")(r); err != nil {
			return err
		}
		r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["Name"])
		return nil
	},
	"portal_verify": portalLinkEmail("verify", "/portal/verify/"),
	"portal_reset":  portalLinkEmail("reset", "/portal/reset/"),
	"portal_exists": func(r *rendering) error {
		if err := portalLinkEmail("exists", "")(r); err != nil {
			return err
		}
		r.Mail.Link = r.h.link("/portal/forgot")
		return nil
	},
	// Staff gave the client portal access: where to sign in, never the password.
	"portal_access": portalPlainEmail("portal_access"),
	// A client added mobiles in the portal: to the practitioner, who confirms them.
	"phones_added": func(r *rendering) error {
		a := r.M.Args
		r.Mail.Subject = r.L.T("mail.phones_added.subject", "Name", a["Name"])
		r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["Staff"])
		r.Mail.Intro = r.L.T("mail.phones_added.intro", "Name", a["Name"], "Numbers", a["Numbers"])
		r.Mail.Action = r.L.T("mail.phones_added.action")
		r.Mail.Link = r.h.link(a["Path"])
		return nil
	},
	// The practice linked the client's own sign-up to their record.
	"portal_linked": portalPlainEmail("portal_linked"),
	"reminder": func(r *rendering) error {
		a := r.M.Args
		when := r.Time("Start")
		minutes, _ := strconv.Atoi(a["Minutes"])
		r.Mail.Subject = r.L.T("mail.reminder.subject", "When", when)
		r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["FirstName"])
		r.Mail.Intro = r.L.T("mail.reminder.intro_"+a["Kind"], "When", when, "Practitioner", a["Practitioner"], "Minutes", minutes, "Practice", r.P.Name)
		r.Mail.Action = r.L.T("mail.reminder.action")
		if a["Portal"] != "" {
			r.Mail.Link = r.h.link("/portal")
		}
		if a["Kind"] == string(store.KindVideo) {
			// The email says how to join but never carries a way in: the room
			// opens only to the client signed in to the portal.
			if r.Mail.Link != "" {
				r.Mail.Note = r.L.T("mail.reminder.video_how", "Minutes", r.P.VideoEarlyMinutes)
				r.Mail.Action = r.L.T("mail.reminder.action_video")
			} else {
				r.Mail.Note = r.L.T("mail.reminder.video_no_portal", "Practice", r.P.Name)
			}
		}
		return nil
	},
}

// messageChecks tell whether a message of a kind still means something:
// its link still works, its session is still booked at that time.
var messageChecks = map[string]func(h *Handler, m store.Message, secret string) bool{
	"invite": func(h *Handler, _ store.Message, secret string) bool {
		_, err := h.store.PeekStaffToken(store.StaffInvite, secret, h.now())
		return err == nil
	},
	"staff_reset": func(h *Handler, _ store.Message, secret string) bool {
		_, err := h.store.PeekStaffToken(store.StaffReset, secret, h.now())
		return err == nil
	},
	"portal_verify": func(h *Handler, _ store.Message, secret string) bool {
		_, err := h.store.PeekAccountToken(store.TokenVerify, secret, h.now())
		return err == nil
	},
	"portal_reset": func(h *Handler, _ store.Message, secret string) bool {
		_, err := h.store.PeekAccountToken(store.TokenReset, secret, h.now())
		return err == nil
	},
	"reminder": func(h *Handler, m store.Message, _ string) bool {
		id, err := strconv.ParseUint(m.Args["Appointment"], 10, 64)
		if err != nil {
			return true // queued before reminders named their appointment
		}
		ap, err := h.store.Appointment(id)
		return err == nil && ap.Status == store.StatusBooked && timeArg(ap.Start) == m.Args["Start"]
	},
}

// StillValid reports whether m is still worth sending; the delivery worker
// withdraws it otherwise (delivery.Checker).
func (h *Handler) StillValid(m store.Message, secret string) bool {
	check, ok := messageChecks[m.Kind]
	return !ok || check(h, m, secret)
}

// Render writes an outbox message in its recipient's language; it is the
// delivery worker's Renderer. With secret "" (the Outbox page, the log) the
// link or code shows a placeholder instead.
func (h *Handler) Render(m store.Message, secret string) (delivery.Outgoing, error) {
	out := delivery.Outgoing{To: m.To, Lang: m.Lang}
	if m.Kind == store.KindLegacy {
		return h.renderLegacy(m, secret)
	}
	kind, ok := messageKinds[m.Kind]
	if !ok {
		return out, fmt.Errorf("handlers: no message kind %q", m.Kind)
	}
	p, _ := h.currentPractice()
	l := h.catalog.Get(m.Lang)
	if secret == "" {
		secret = l.T("outbox.hidden")
	}
	r := &rendering{h: h, L: l, P: p, M: m, Secret: secret,
		Mail: mailData{Lang: l.Lang, Practice: p.Name, Brand: p.BrandColor, Footer: l.T("mail.footer"),
			Colon: l.T("mail.colon"), Contact: practiceContact(p)}}
	if err := kind(r); err != nil {
		return out, err
	}
	if m.Channel == store.ChannelSMS {
		out.Text = r.SMS
		return out, nil
	}
	if r.Text != "" {
		out.Subject, out.Text = r.Mail.Subject, r.Text
		return out, nil
	}
	var err error
	out.Subject, out.Text, out.HTML, err = h.views.Mail("message", r.Mail)
	return out, err
}

// renderLegacy writes a message queued whole before the outbox kept secrets
// sealed: without its secret, only the subject is left to show.
func (h *Handler) renderLegacy(m store.Message, secret string) (delivery.Outgoing, error) {
	out := delivery.Outgoing{To: m.To, Lang: m.Lang, Subject: m.Args["Subject"]}
	if secret == "" {
		out.Text = h.catalog.Get(m.Lang).T("outbox.hidden")
		return out, nil
	}
	var body store.LegacyBody
	if err := json.Unmarshal([]byte(secret), &body); err != nil {
		return out, fmt.Errorf("handlers: legacy message: %w", err)
	}
	out.Subject, out.Text, out.HTML = body.Subject, body.Text, body.HTML
	return out, nil
}

// queue puts a message in the outbox and wakes the worker; see the top of this file.
func (h *Handler) queue(m *store.Message) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = h.now().UTC()
	}
	if err := h.store.Enqueue(m); err != nil {
		return err
	}
	h.wakeOutbox()
	return nil
}

// wakeOutbox tells the delivery worker that a message is waiting.
func (h *Handler) wakeOutbox() {
	if h.outbox != nil {
		h.outbox.Wake()
	}
}
