package mail

import (
	"strconv"

	"foyer/store"
)

// Emails about accounts: staff invitations and resets, the client portal's
// links and notices, and a session's reminder.

func writeInvite(r *rendering) error {
	a := r.M.Args
	r.Mail.Subject = r.L.T("mail.invite.subject", "Practice", r.P.Name)
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["Name"])
	// The role as a sentence says it ("as a practitioner"), not as a label ("Practitioner").
	r.Mail.Intro = r.L.T("mail.invite.intro", "Inviter", a["Inviter"], "Practice", r.P.Name, "Role", r.L.T("mail.invite.role_"+a["Role"]))
	r.Mail.Action = r.L.T("mail.invite.action")
	r.Mail.Link = r.Link("/invite/")
	r.Mail.Expiry = r.L.T("mail.invite.expiry", "When", r.Time("Expires"))
	return nil
}

func writeStaffReset(r *rendering) error {
	if err := portalLinkEmail("staff_reset", "/signin/reset/")(r); err != nil {
		return err
	}
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["Name"])
	return nil
}

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

// writePortalExists answers a sign-up with an email that has an account: its
// button leads to "forgot password", and it carries no secret.
func writePortalExists(r *rendering) error {
	if err := portalLinkEmail("exists", "")(r); err != nil {
		return err
	}
	r.Mail.Link = r.mailer.link("/portal/forgot")
	return nil
}

// portalPlainEmail is a portal email that carries no secret: its button opens the portal.
func portalPlainEmail(kind string) func(r *rendering) error {
	return func(r *rendering) error {
		r.Mail.Subject = r.L.T("mail."+kind+".subject", "Practice", r.P.Name)
		r.Mail.Greeting = r.L.T("mail.greeting", "Name", r.M.Args["FirstName"])
		r.Mail.Intro = r.L.T("mail."+kind+".intro", "Practice", r.P.Name, "Email", r.M.To)
		r.Mail.Action = r.L.T("mail." + kind + ".action")
		r.Mail.Link = r.mailer.link("/portal")
		return nil
	}
}

func writePhonesAdded(r *rendering) error {
	a := r.M.Args
	r.Mail.Subject = r.L.T("mail.phones_added.subject", "Name", a["Name"])
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["Staff"])
	r.Mail.Intro = r.L.T("mail.phones_added.intro", "Name", a["Name"], "Numbers", a["Numbers"])
	r.Mail.Action = r.L.T("mail.phones_added.action")
	r.Mail.Link = r.mailer.link(a["Path"])
	return nil
}

func writeReminder(r *rendering) error {
	a := r.M.Args
	when := r.Time("Start")
	minutes, _ := strconv.Atoi(a["Minutes"])
	r.Mail.Subject = r.L.T("mail.reminder.subject", "When", when)
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["FirstName"])
	r.Mail.Intro = r.L.T("mail.reminder.intro_"+a["Kind"], "When", when, "Practitioner", a["Practitioner"], "Minutes", minutes, "Practice", r.P.Name)
	r.Mail.Action = r.L.T("mail.reminder.action")
	if a["Portal"] != "" {
		r.Mail.Link = r.mailer.link("/portal")
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
}
