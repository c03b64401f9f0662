package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/delivery"
	"foyer/journal"
	"foyer/store"
)

const outboxPageSize = 50

type outboxData struct {
	Rows                           []outboxRow
	Older                          uint64
	EmailConfigured, SMSConfigured bool
}

// outboxRow is one message as the Outbox page shows it: written without its
// secret, so the page never holds a usable link or code.
type outboxRow struct {
	store.Message
	Out       delivery.Outgoing
	CanReveal bool
	Reveals   []revealRow
}

type revealRow struct {
	Name string
	At   time.Time
}

// outboxList shows every email and SMS, newest first, with its delivery state.
func (h *Handler) outboxList(c echo.Context) error {
	before, _ := strconv.ParseUint(c.QueryParam("before"), 10, 64)
	msgs, err := h.store.ListMessages(before, outboxPageSize)
	if err != nil {
		return err
	}
	names, _, err := h.staffDirectory()
	if err != nil {
		return err
	}
	d := outboxData{}
	if len(msgs) == outboxPageSize {
		d.Older = msgs[len(msgs)-1].ID
	}
	if h.outbox != nil {
		d.EmailConfigured, d.SMSConfigured = h.outbox.Configured(store.ChannelEmail), h.outbox.Configured(store.ChannelSMS)
	}
	me := currentUser(c)
	for _, m := range msgs {
		row := outboxRow{Message: m, CanReveal: h.canReveal(me, m)}
		if row.Out, err = h.mail.Render(m, ""); err != nil {
			h.log.Warn("outbox: unable to render a message", "id", m.ID, "err", err)
		}
		for _, r := range m.Reveals {
			row.Reveals = append(row.Reveals, revealRow{Name: names[r.StaffID], At: r.At})
		}
		d.Rows = append(d.Rows, row)
	}
	pg := h.page(c, "outbox.title")
	pg.Data = d
	return h.render(c, http.StatusOK, "outbox", pg)
}

// canReveal says whether me may read the link or code of m: only the owner,
// and only while the outbox is the message's sole way out (its channel has
// no delivery configured) and the message can still be used.
func (h *Handler) canReveal(me *store.Staff, m store.Message) bool {
	return me != nil && access.IsOwner(me.Role) && (h.outbox == nil || !h.outbox.Configured(m.Channel)) &&
		m.State == store.StateLogged && m.HasSecret() && !m.Expired(h.now()) && h.mail.StillValidSealed(m)
}

// revealMessage shows the owner one waiting message whole, link or code
// included, and records that they read it.
func (h *Handler) revealMessage(c echo.Context) error {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	m, err := h.store.Message(id)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	me := currentUser(c)
	if !h.canReveal(me, m) {
		return errNotFound
	}
	m, err = h.store.RevealMessage(id, me.ID, h.now())
	if errors.Is(err, store.ErrNoSecret) {
		return errNotFound
	} else if err != nil {
		return err
	}
	h.log.Info("outbox: the owner revealed a message's link or code", "id", id, "staff", me.ID, "channel", m.Channel)
	h.record(c, journal.Entry{Action: journal.OutboxReveal, ItemID: id})
	out, err := h.mail.Render(m, m.Secret)
	if err != nil {
		return err
	}
	pg := h.page(c, "outbox.reveal_title")
	pg.Data = outboxRow{Message: m, Out: out}
	return h.render(c, http.StatusOK, "outbox_reveal", pg)
}
