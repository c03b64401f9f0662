package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/store"
)

const outboxPageSize = 50

type outboxData struct {
	Messages                       []store.Message
	Older                          uint64
	EmailConfigured, SMSConfigured bool
}

// outboxList shows every email and SMS, newest first, with its delivery state.
func (h *Handler) outboxList(c echo.Context) error {
	before, _ := strconv.ParseUint(c.QueryParam("before"), 10, 64)
	msgs, err := h.store.ListMessages(before, outboxPageSize)
	if err != nil {
		return err
	}
	d := outboxData{Messages: msgs}
	if len(msgs) == outboxPageSize {
		d.Older = msgs[len(msgs)-1].ID
	}
	if h.outbox != nil {
		d.EmailConfigured, d.SMSConfigured = h.outbox.Configured(store.ChannelEmail), h.outbox.Configured(store.ChannelSMS)
	}
	pg := h.page(c, "outbox.title")
	pg.Data = d
	return h.render(c, http.StatusOK, "outbox", pg)
}
