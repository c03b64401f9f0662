// Package delivery sends the outbox: an SMTP driver for email, a Twilio-shaped
// HTTP driver for SMS, and a worker that retries with backoff. Messages live in
// the store until they are sent, so none is lost across a restart.
package delivery

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"foyer/store"
)

// Driver sends one message over one channel.
type Driver interface {
	Send(ctx context.Context, m store.Message) error
}

// Backoff is the wait before attempt n+1 after n failed attempts.
func Backoff(n int) time.Duration {
	d := 30 * time.Second << min(n, 7)
	return min(d, time.Hour)
}

// MaxAttempts is how many times a message is tried before it is marked failed.
const MaxAttempts = 10

// Worker delivers due outbox messages.
type Worker struct {
	Store *store.Store
	// Email and SMS are the drivers; nil means "not configured": the message is logged.
	Email, SMS Driver
	Log        *slog.Logger
	Now        func() time.Time
	// Interval is how often the outbox is polled when nobody wakes the worker.
	Interval time.Duration

	wake chan struct{}
}

// NewWorker returns a worker polling every interval.
func NewWorker(s *store.Store, email, sms Driver, log *slog.Logger) *Worker {
	return &Worker{Store: s, Email: email, SMS: sms, Log: log, Now: time.Now, Interval: 5 * time.Second, wake: make(chan struct{}, 1)}
}

// Configured reports whether a channel has a real driver.
func (w *Worker) Configured(ch store.Channel) bool {
	if ch == store.ChannelSMS {
		return w.SMS != nil
	}
	return w.Email != nil
}

// Wake asks the worker to look at the outbox now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		w.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// RunOnce delivers every message due now and returns how many it attempted.
func (w *Worker) RunOnce(ctx context.Context) int {
	due, err := w.Store.DueMessages(w.Now(), 50)
	if err != nil {
		w.Log.Error("outbox: unable to list due messages", "err", err)
		return 0
	}
	for _, m := range due {
		if ctx.Err() != nil {
			break
		}
		w.deliver(ctx, m)
	}
	return len(due)
}

func (w *Worker) deliver(ctx context.Context, m store.Message) {
	drv := w.Email
	if m.Channel == store.ChannelSMS {
		drv = w.SMS
	}
	if drv == nil {
		w.Log.Warn("outbox: delivery not configured; message kept in the outbox",
			"id", m.ID, "channel", m.Channel, "to", m.To, "subject", m.Subject, "text", RedactTokens(m.Text))
		w.update(m.ID, func(m *store.Message) { m.State, m.DoneAt = store.StateLogged, w.Now().UTC() })
		return
	}
	sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := drv.Send(sendCtx, m)
	cancel()
	now := w.Now().UTC()
	if err == nil {
		w.Log.Info("outbox: sent", "id", m.ID, "channel", m.Channel)
		w.update(m.ID, func(m *store.Message) {
			m.Attempts++
			m.State, m.DoneAt, m.LastError = store.StateSent, now, ""
		})
		return
	}
	w.Log.Warn("outbox: attempt failed", "id", m.ID, "channel", m.Channel, "attempt", m.Attempts+1, "err", err)
	w.update(m.ID, func(m *store.Message) {
		m.Attempts++
		m.LastError = err.Error()
		if m.Attempts >= MaxAttempts {
			m.State, m.DoneAt = store.StateFailed, now
			return
		}
		m.NextAttempt = now.Add(Backoff(m.Attempts - 1))
	})
}

func (w *Worker) update(id uint64, fn func(*store.Message)) {
	if _, err := w.Store.UpdateMessage(id, fn); err != nil {
		w.Log.Error("outbox: unable to record delivery", "id", id, "err", err)
	}
}

// tokenRe matches Foyer's 256-bit URL tokens (43 base64url characters).
var tokenRe = regexp.MustCompile(`[A-Za-z0-9_-]{43}`)

// RedactTokens hides link tokens so a log never carries a working link; the
// whole message stays readable by owners and admins on the Outbox page.
func RedactTokens(s string) string {
	return tokenRe.ReplaceAllString(s, "[hidden: see the Outbox page]")
}
