package handlers

import "foyer/store"

// Messages are written by package mail, whose table says what each kind
// needs; the store has each one checked there as it enters the outbox. A
// handler fills a store.Message of one of mail's kinds and queues it:
//
//	err := h.queue(&store.Message{Channel: store.ChannelEmail, To: st.Email, Lang: st.Lang,
//		Kind: mail.Invite, Secret: token, Args: map[string]string{...}})

// queue puts a message in the outbox and wakes the worker.
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
