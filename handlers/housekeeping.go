package handlers

import (
	"context"
	"strconv"
	"time"

	"foyer/mail"
	"foyer/share"
	"foyer/store"
)

// reminderLead is how long before a session its reminder goes out.
const reminderLead = 24 * time.Hour

// Housekeeping runs the periodic jobs until ctx ends: appointment reminders
// every minute, and the purge of ended sessions and expired links every ten
// (the first ten minutes after the start).
func (h *Handler) Housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for i := 0; ; i++ {
		now := h.now()
		// The purges read every session and link: not in the first minutes,
		// so that a start costs the same whatever the size of the data.
		if i%10 == 9 {
			if n, err := h.store.PurgeSessions(now.Add(-h.cfg.IdleTimeout), now.Add(-h.cfg.SessionLifetime)); err != nil {
				h.log.Error("unable to purge sessions", "err", err)
			} else if n > 0 {
				h.log.Info("purged ended sessions", "count", n)
			}
			if n, err := h.store.PurgeAccountTokens(now); err != nil {
				h.log.Error("unable to purge expired links", "err", err)
			} else if n > 0 {
				h.log.Info("purged expired links", "count", n)
			}
		}
		h.sweepShares()
		if n, err := h.SendReminders(now); err != nil {
			h.log.Error("unable to send reminders", "err", err)
		} else if n > 0 {
			h.log.Info("reminders queued", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendReminders emails every client whose booked session starts within the next
// 24 hours and has had no reminder, in the client's language; it returns how many.
func (h *Handler) SendReminders(now time.Time) (int, error) {
	due, err := h.store.DueReminders(now, now.Add(reminderLead))
	if err != nil {
		return 0, err
	}
	sent := 0
	var failed error
	for _, ap := range due {
		ok, err := h.remind(ap, now)
		if err != nil {
			// One appointment that cannot be read does not hold back the others' reminders.
			h.log.Error("unable to send a reminder", "appointment", ap.ID, "err", err)
			failed = err
			continue
		}
		if ok {
			sent++
		}
	}
	if sent > 0 {
		h.wakeOutbox()
	}
	return sent, failed
}

// readClient reads an appointment's client for its reminder; tests replace it to make one fail.
var readClient = (*store.Store).Client

// remind queues the reminder of one appointment and reports whether an email went.
func (h *Handler) remind(ap store.Appointment, now time.Time) (bool, error) {
	cl, err := readClient(h.store, ap.ClientID)
	if err != nil {
		return false, err
	}
	to, portal := cl.Email, ""
	if cl.AccountID != 0 {
		if a, err := h.store.Account(cl.AccountID); err == nil {
			portal = "1"
			if to == "" {
				to = a.Email
			}
		}
	}
	var m *store.Message
	if to != "" && !cl.Archived {
		practitioner := ""
		if st, err := h.store.Staff(ap.PractitionerID); err == nil {
			practitioner = st.Name
		}
		// A reminder that could not go out before the session began is no use after.
		m = &store.Message{Channel: store.ChannelEmail, To: to, Lang: h.catalog.Get(cl.Lang).Lang, Kind: mail.Reminder,
			Args: map[string]string{"Appointment": strconv.FormatUint(ap.ID, 10), "FirstName": cl.FirstName, "Start": mail.TimeArg(ap.Start), "Practitioner": practitioner,
				"Kind": string(ap.Kind), "Minutes": strconv.Itoa(ap.Minutes), "Portal": portal},
			CreatedAt: now.UTC(), ExpiresAt: ap.Start}
	}
	// Marked even without an address (m nil), so the job does not look at it every minute.
	return h.store.QueueReminder(ap.ID, ap.Start, m)
}

// abandonedUpload is how long an upload may wait for its share before the sweep removes it.
const abandonedUpload = 24 * time.Hour

// sweepShares expires shares past their date and purges their files, reminds
// recipients two days before, and removes abandoned uploads and idle share sessions.
func (h *Handler) sweepShares() {
	now := h.now()
	if exp, err := h.shares.Sweep(); err != nil {
		h.log.Error("unable to sweep shares", "err", err)
	} else if len(exp) > 0 {
		h.log.Info("shares expired", "count", len(exp))
	}
	if n, err := h.shares.Remind(h.mail.ComposeShareReminder); err != nil {
		h.log.Error("unable to remind share recipients", "err", err)
	} else if n > 0 {
		h.wakeOutbox()
	}
	if _, err := h.store.PurgeShareSessions(now.Add(-share.SessionIdle)); err != nil {
		h.log.Error("unable to purge share sessions", "err", err)
	}
	ids, err := h.store.AbandonedBlobs(now.Add(-abandonedUpload))
	if err != nil {
		h.log.Error("unable to list abandoned uploads", "err", err)
	}
	for _, id := range ids {
		if err := h.store.DeleteBlob(id); err != nil {
			h.log.Error("unable to delete an abandoned upload", "err", err)
		}
	}
}
