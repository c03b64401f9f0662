package mail

import (
	"encoding/json"
	"time"
)

// Messages of presos: a link's security code, and the report of a viewing
// to the preso's owner.

func writePresoCode(r *rendering) error {
	r.SMS = r.OneText(func(practice string) string { return r.L.T("landing.sms", "Code", r.Secret, "Practice", practice) })
	r.Mail.Subject = r.L.T("landing.code_mail_subject", "Practice", r.P.Name)
	r.Mail.Greeting = r.L.T("mail.hello")
	r.Mail.Intro = r.L.T("landing.sms", "Code", r.Secret, "Practice", r.P.Name)
	return nil
}

// ViewedSlide is one line of a PresoViewed email, kept in its "Slides"
// argument as a JSON list.
type ViewedSlide struct {
	Title  string `json:"t"`
	Millis int64  `json:"ms"`
}

func writePresoViewed(r *rendering) error {
	a := r.M.Args
	viewer := a["Viewer"]
	if a["Declared"] != "" {
		// A name a visitor typed stays out of the subject, where "Claire
		// Martin <claire@…>" would pass for the real contact, and is
		// marked as theirs in the body.
		r.Mail.Subject = r.L.T("mail.preso_viewed.subject_declared", "Title", a["Title"])
		viewer = r.L.T("mail.preso_viewed.declared", "Viewer", viewer)
	} else {
		r.Mail.Subject = r.L.T("mail.preso_viewed.subject", "Viewer", viewer, "Title", a["Title"])
	}
	r.Mail.Greeting = r.L.T("mail.hello")
	r.Mail.Intro = r.L.T("mail.preso_viewed.intro", "Viewer", viewer, "Title", a["Title"], "When", r.Time("Start"))
	var lines []ViewedSlide
	if err := json.Unmarshal([]byte(a["Slides"]), &lines); err != nil {
		return err
	}
	for _, s := range lines {
		r.Mail.Lines = append(r.Mail.Lines, r.L.T("mail.preso_viewed.line", "Title", s.Title, "Time", r.L.Duration(time.Duration(s.Millis)*time.Millisecond)))
	}
	if len(lines) == 0 {
		r.Mail.Lines = append(r.Mail.Lines, r.L.T("mail.preso_viewed.none"))
	}
	r.Mail.Action = r.L.T("mail.preso_viewed.action")
	r.Mail.Link = r.mailer.link(a["Path"])
	return nil
}
