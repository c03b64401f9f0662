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
	m, err := h.newEmail(to, tmpl, d)
	if err != nil {
		return err
	}
	if err := h.store.Enqueue(m); err != nil {
		return err
	}
	h.wakeOutbox()
	return nil
}

// newEmail renders an email for the outbox without queuing it.
func (h *Handler) newEmail(to, tmpl string, d mailData) (*store.Message, error) {
	subject, text, html, err := h.views.Mail(tmpl, d)
	if err != nil {
		return nil, err
	}
	return &store.Message{Channel: store.ChannelEmail, To: to, Subject: subject, Text: text, HTML: html, Lang: d.Lang, CreatedAt: h.now().UTC()}, nil
}

// wakeOutbox tells the delivery worker that a message is waiting.
func (h *Handler) wakeOutbox() {
	if h.outbox != nil {
		h.outbox.Wake()
	}
}
