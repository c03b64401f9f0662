// Package delivery sends the outbox: an SMTP driver for email, a Twilio-shaped
// HTTP driver for SMS, and a worker that retries with backoff. Messages live in
// the store until they are sent, so none is lost across a restart.
//
// A message is stored as what is needed to write it, its token or code
// sealed; the worker has it rendered (Renderer, package mail) only at the
// moment it sends it. Each channel is its own lane, and a lane sends several messages at
// once: a hung SMTP server does not hold back text messages, nor one slow
// message the others.
package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"foyer/mail"
	"foyer/store"
)

// Outgoing is a message written for sending (package mail writes it).
type Outgoing = mail.Outgoing

// MessageKey is the Key of an outbox message: opaque (it says neither how
// many messages the practice sent nor when), and different for a message of
// the same number in another data file or after a restore.
func MessageKey(m store.Message) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], m.ID)
	binary.BigEndian.PutUint64(b[8:], uint64(m.CreatedAt.UnixNano()))
	sum := sha256.Sum256(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// Driver sends one message over one channel.
type Driver interface {
	Send(ctx context.Context, o Outgoing) error
}

// Renderer writes an outbox message. secret is the message's token or code
// opened, or "" when the message is only shown or logged: the renderer then
// puts a visible placeholder where the link or code would be.
type Renderer interface {
	Render(m store.Message, secret string) (Outgoing, error)
}

// Checker is implemented by a Renderer that can tell, at send time, that a
// message has become void (its link used or revoked, its session cancelled):
// such a message is withdrawn instead of sent.
type Checker interface {
	StillValid(m store.Message, secret string) bool
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
	// Renderer writes messages at send time (package mail's table of kinds).
	Renderer Renderer
	Log      *slog.Logger
	Now      func() time.Time
	// Interval is how often the outbox is polled when nobody wakes the worker.
	Interval time.Duration
	// SendTimeout bounds one attempt at one message.
	SendTimeout time.Duration
	// Parallel is how many messages one lane sends at once.
	Parallel int

	wake map[store.Channel]chan struct{}
}

// NewWorker returns a worker that has messages written by r, polling every five seconds.
func NewWorker(s *store.Store, email, sms Driver, r Renderer, log *slog.Logger) *Worker {
	w := &Worker{Store: s, Email: email, SMS: sms, Renderer: r, Log: log, Now: time.Now, Interval: 5 * time.Second,
		SendTimeout: 30 * time.Second, Parallel: 4, wake: map[store.Channel]chan struct{}{}}
	for _, ch := range store.Channels {
		w.wake[ch] = make(chan struct{}, 1)
	}
	return w
}

// Configured reports whether a channel has a real driver.
func (w *Worker) Configured(ch store.Channel) bool { return w.driver(ch) != nil }

func (w *Worker) driver(ch store.Channel) Driver {
	if ch == store.ChannelSMS {
		return w.SMS
	}
	return w.Email
}

// Wake asks the worker to look at the outbox now.
func (w *Worker) Wake() {
	for _, ch := range store.Channels {
		w.wakeLane(ch)
	}
}

func (w *Worker) wakeLane(ch store.Channel) {
	select {
	case w.wake[ch] <- struct{}{}:
	default:
	}
}

// lease is how long a message being sent is kept from other polls; past it,
// a message whose sending never finished (a crash) is tried again.
func (w *Worker) lease() time.Duration { return w.SendTimeout + time.Minute }

// Run delivers messages until ctx ends, one lane per channel, and returns
// once every send in flight has finished.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, ch := range store.Channels {
		wg.Go(func() { w.lane(ctx, ch) })
	}
	wg.Wait()
}

func (w *Worker) lane(ctx context.Context, ch store.Channel) {
	drv := w.driver(ch)
	w.release(ch)
	sem := make(chan struct{}, max(w.Parallel, 1))
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		// Only this loop takes slots, so the free count cannot shrink underneath it.
		if free := cap(sem) - len(sem); free > 0 && ctx.Err() == nil {
			for _, m := range w.claim(ch, free) {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem; w.wakeLane(ch) }()
					w.deliver(ctx, drv, m)
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake[ch]:
		}
	}
}

// RunOnce delivers every message due now, the lanes side by side, and
// returns how many it attempted once all are done. Like Run, it starts by
// releasing claims, so it is never run beside Run.
func (w *Worker) RunOnce(ctx context.Context) int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for _, ch := range store.Channels {
		wg.Go(func() {
			drv := w.driver(ch)
			w.release(ch)
			due := w.claim(ch, 50)
			mu.Lock()
			total += len(due)
			mu.Unlock()
			sem := make(chan struct{}, max(w.Parallel, 1))
			var sends sync.WaitGroup
			for _, m := range due {
				sem <- struct{}{}
				sends.Go(func() {
					defer func() { <-sem }()
					w.deliver(ctx, drv, m)
				})
			}
			sends.Wait()
		})
	}
	wg.Wait()
	return total
}

// release queues again what a stop cut while it was being sent, and what was
// only logged while the lane had no driver.
func (w *Worker) release(ch store.Channel) {
	if n, err := w.Store.ReleaseClaims(ch, w.Now()); err != nil {
		w.Log.Error("outbox: unable to release interrupted messages", "channel", ch, "err", err)
	} else if n > 0 {
		w.Log.Info("outbox: sending again the messages a stop interrupted", "channel", ch, "count", n)
	}
	if w.driver(ch) == nil {
		return
	}
	n, err := w.Store.ReleaseLogged(ch, w.Now())
	if err != nil {
		w.Log.Error("outbox: unable to queue logged messages", "channel", ch, "err", err)
	} else if n > 0 {
		w.Log.Info("outbox: delivery is configured now: sending the messages that waited", "channel", ch, "count", n)
	}
}

func (w *Worker) claim(ch store.Channel, limit int) []store.Message {
	due, err := w.Store.ClaimDue(ch, w.Now(), w.lease(), limit)
	if err != nil {
		w.Log.Error("outbox: unable to list due messages", "channel", ch, "err", err)
	}
	return due
}

func (w *Worker) render(m store.Message, secret string) (Outgoing, error) {
	if w.Renderer == nil {
		return Outgoing{}, errors.New("delivery: no renderer")
	}
	return w.Renderer.Render(m, secret)
}

func (w *Worker) deliver(ctx context.Context, drv Driver, m store.Message) {
	if drv == nil {
		// Rendered without its secret: a log is no place for a working link.
		out, err := w.render(m, "")
		if err != nil {
			w.Log.Error("outbox: unable to render a message", "id", m.ID, "err", err)
		}
		w.Log.Warn("outbox: delivery not configured; message kept in the outbox",
			"id", m.ID, "channel", m.Channel, "to", m.To, "subject", out.Subject, "text", RedactTokens(out.Text))
		w.update(m.ID, func(m *store.Message) {
			m.EndTry("", "")
			m.State, m.DoneAt = store.StateLogged, w.Now().UTC()
		})
		return
	}
	if c, ok := w.Renderer.(Checker); ok && !c.StillValid(m, m.Secret) {
		w.Log.Info("outbox: withdrawn, what it was about is void now", "id", m.ID, "channel", m.Channel)
		w.update(m.ID, func(m *store.Message) {
			m.EndTry("", "")
			m.State, m.DoneAt = store.StateWithdrawn, w.Now().UTC()
		})
		return
	}
	out, err := w.render(m, m.Secret)
	out.Key = MessageKey(m)
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, w.SendTimeout)
		err = drv.Send(sendCtx, out)
		cancel()
	}
	now := w.Now().UTC()
	if err == nil {
		w.Log.Info("outbox: sent", "id", m.ID, "channel", m.Channel)
		w.update(m.ID, func(m *store.Message) {
			m.Attempts++
			m.EndTry(store.TrySent, "")
			m.State, m.DoneAt, m.LastError = store.StateSent, now, ""
		})
		return
	}
	if ctx.Err() != nil {
		// Shutting down: not the message's fault. It stays claimed, and the
		// next start sends it again (Store.ReleaseClaims).
		return
	}
	w.Log.Warn("outbox: attempt failed", "id", m.ID, "channel", m.Channel, "attempt", m.Attempts+1, "err", err)
	w.update(m.ID, func(m *store.Message) {
		m.Attempts++
		m.LastError = RedactTokens(err.Error())
		m.EndTry(store.TryFailed, m.LastError)
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

// RedactTokens hides link tokens, so that neither a log line nor a recorded
// error ever carries a working link.
func RedactTokens(s string) string {
	return tokenRe.ReplaceAllString(s, "[hidden]")
}
