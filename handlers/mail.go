package handlers

import (
	"foyer/store"
)

// mailData is what an email template receives: every string already in the
// recipient's language.
type mailData struct {
	Lang, Subject, Practice, Brand, Footer string
	Greeting, Intro, Action, Link, Expiry  string
}

// sendEmail renders an email and puts it in the outbox; the worker delivers it.
func (h *Handler) sendEmail(to, tmpl string, d mailData) error {
	subject, text, html, err := h.views.Mail(tmpl, d)
	if err != nil {
		return err
	}
	m := &store.Message{Channel: store.ChannelEmail, To: to, Subject: subject, Text: text, HTML: html, Lang: d.Lang, CreatedAt: h.now().UTC()}
	if err := h.store.Enqueue(m); err != nil {
		return err
	}
	if h.outbox != nil {
		h.outbox.Wake()
	}
	return nil
}
