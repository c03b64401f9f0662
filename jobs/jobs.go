// Package jobs is the work Foyer does on a schedule rather than for a
// request: appointment reminders, share expiry, purge and reminders, the
// removal of abandoned uploads and of preso snapshots no link shows, the
// reports of preso viewings, the purge of ended sessions and links, and
// personal data's: the erasure of clients due under the retention rule (when
// the practice turned it on), the journal's retention purge, and the
// compaction an erasure left pending. main starts it (Run); tests move an injected
// clock and call Tick or a job by name. It knows nothing of HTTP.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"foyer/mail"
	"foyer/preso"
	"foyer/privacy"
	"foyer/share"
	"foyer/store"
)

// Waker is told when messages were queued, so they leave at once (delivery.Worker).
type Waker interface{ Wake() }

// Config is what the jobs work with.
type Config struct {
	Store  *store.Store
	Shares *share.Engine
	// Presos, when set, has the snapshots no link shows any more removed.
	Presos *preso.Service
	Mail   *mail.Mailer
	// Outbox, when set, is woken when a job queued messages.
	Outbox Waker
	Log    *slog.Logger
	Now    func() time.Time
	// IdleTimeout and SessionLifetime end staff and portal sessions (the purge removes them).
	IdleTimeout, SessionLifetime time.Duration
	// ViewingEnd is how long after a viewer's last slide their viewing counts
	// as over and is reported (5 minutes when 0).
	ViewingEnd time.Duration
	// ReportViewing queues the report of one ended viewing to its preso's owner.
	ReportViewing func(store.Viewing) error
	// Backup, when set, starts an off-site backup if one is due (package
	// backup); the backup runs beside the schedule, not in it.
	Backup func(now time.Time) (int, error)
	// IssueCertificates issues the signing certificates of new signatures
	// (and stamps those the timestamp authority did not answer for); nil: none.
	IssueCertificates func(context.Context) (int, error)
	// Privacy applies the retention rules; nil leaves personal data's jobs out.
	Privacy *privacy.Service
}

// Jobs runs the schedule.
type Jobs struct {
	cfg   Config
	tasks []task
	// readClient reads an appointment's client for its reminder; tests replace it to make one fail.
	readClient func(id uint64) (store.Client, error)

	mu   sync.Mutex // one Tick at a time
	next []time.Time
}

// task is one job of the schedule.
type task struct {
	// what the job does, for the log: "unable to " + what.
	what string
	// first is how long after the start it first runs, every how often after.
	first, every time.Duration
	run          func(now time.Time) (int, error)
	// done is the log line when it did something (a count); "" says nothing.
	done string
}

// The schedule's rhythms.
const (
	// minute is the rhythm of everything someone waits for: a reminder, a
	// share's end, a report.
	minute = time.Minute
	// purgeEvery is the rhythm of the purges, which read every session and
	// link: not in the first minutes, so that a start costs the same
	// whatever the size of the data.
	purgeEvery = 10 * time.Minute
	// ReminderLead is how long before a session its reminder goes out.
	ReminderLead = 24 * time.Hour
	// AbandonedUpload is how long an upload may wait for its share before it is removed.
	AbandonedUpload = 24 * time.Hour
	// retentionEvery is the rhythm of the retention rules: they count in
	// years and months, an hour late is nothing.
	retentionEvery = time.Hour
)

// New returns the jobs of cfg on their schedule.
func New(cfg Config) *Jobs {
	if cfg.ViewingEnd <= 0 {
		cfg.ViewingEnd = 5 * time.Minute
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	j := &Jobs{cfg: cfg, readClient: cfg.Store.Client}
	j.tasks = []task{
		{what: "send reminders", every: minute, run: j.SendReminders, done: "reminders queued"},
		{what: "sweep shares", every: minute, run: j.ExpireShares, done: "shares expired"},
		{what: "remind share recipients", every: minute, run: j.RemindShares, done: "share reminders queued"},
		{what: "purge share sessions", every: minute, run: j.PurgeShareSessions},
		{what: "remove abandoned uploads", every: minute, run: j.RemoveAbandonedUploads, done: "abandoned uploads removed"},
		// A few times within each ViewingEnd, so a report leaves soon after it.
		{what: "report preso viewings", every: min(minute, max(time.Second, cfg.ViewingEnd/4)), run: j.ReportViewings, done: "preso viewings reported"},
		{what: "issue signing certificates", every: minute, run: j.IssueCertificates, done: "signing certificates issued"},
		{what: "purge sessions", first: purgeEvery, every: purgeEvery, run: j.PurgeSessions, done: "purged ended sessions"},
		{what: "purge expired links", first: purgeEvery, every: purgeEvery, run: j.PurgeLinks, done: "purged expired links"},
		{what: "remove preso snapshots", first: purgeEvery, every: purgeEvery, run: j.RemoveUnusedSnapshots,
			done: "preso snapshots no link shows any more removed"},
	}
	if cfg.Backup != nil {
		j.tasks = append(j.tasks, task{what: "start an off-site backup", every: minute, run: cfg.Backup})
	}
	if cfg.Privacy != nil {
		j.tasks = append(j.tasks,
			task{what: "compact the data file after an erasure", every: minute, run: j.CompactAfterErasure, done: "data file compacted after an erasure"},
			task{what: "erase clients due under the retention rule", first: purgeEvery, every: retentionEvery, run: j.EraseDueClients, done: "clients erased under the retention rule"},
			task{what: "purge the access journal", first: purgeEvery, every: retentionEvery, run: j.PurgeJournal, done: "old journal entries purged"},
		)
	}
	return j
}

// Tick runs every job due at the clock's now, in the schedule's order, and
// returns when the next one is due. The first Tick is the schedule's start.
func (j *Jobs) Tick() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.cfg.Now()
	if j.next == nil {
		j.next = make([]time.Time, len(j.tasks))
		for i, t := range j.tasks {
			j.next[i] = now.Add(t.first)
		}
	}
	soonest := time.Time{}
	for i, t := range j.tasks {
		if !now.Before(j.next[i]) {
			n, err := t.run(now)
			if err != nil {
				j.cfg.Log.Error("unable to "+t.what, "err", err)
			}
			if n > 0 && t.done != "" {
				j.cfg.Log.Info(t.done, "count", n)
			}
			j.next[i] = now.Add(t.every)
		}
		if soonest.IsZero() || j.next[i].Before(soonest) {
			soonest = j.next[i]
		}
	}
	return soonest
}

// Run runs the schedule until ctx ends.
func (j *Jobs) Run(ctx context.Context) {
	for {
		next := j.Tick()
		t := time.NewTimer(max(0, next.Sub(j.cfg.Now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// IssueCertificates issues the certificates of the signatures made since it
// last ran: soon after the signature, so its seal (and its timestamp, with a
// timestamp authority) is close to it.
func (j *Jobs) IssueCertificates(time.Time) (int, error) {
	if j.cfg.IssueCertificates == nil {
		return 0, nil
	}
	return j.cfg.IssueCertificates(context.Background())
}

// wake tells the outbox that n messages were queued.
func (j *Jobs) wake(n int) {
	if n > 0 && j.cfg.Outbox != nil {
		j.cfg.Outbox.Wake()
	}
}

// SendReminders emails every client whose booked session starts within
// ReminderLead and has had no reminder, in the client's language; it returns
// how many. One appointment that cannot be read does not hold back the
// others' reminders: its error is logged and returned after them.
func (j *Jobs) SendReminders(now time.Time) (int, error) {
	due, err := j.cfg.Store.DueReminders(now, now.Add(ReminderLead))
	if err != nil {
		return 0, err
	}
	sent := 0
	var failed error
	for _, ap := range due {
		ok, err := j.remind(ap, now)
		if err != nil {
			j.cfg.Log.Error("unable to send a reminder", "appointment", ap.ID, "err", err)
			failed = err
			continue
		}
		if ok {
			sent++
		}
	}
	j.wake(sent)
	return sent, failed
}

// remind queues the reminder of one appointment and reports whether an email went.
func (j *Jobs) remind(ap store.Appointment, now time.Time) (bool, error) {
	st := j.cfg.Store
	cl, err := j.readClient(ap.ClientID)
	if err != nil {
		return false, err
	}
	to, portal := cl.Email, ""
	if cl.AccountID != 0 {
		if a, err := st.Account(cl.AccountID); err == nil {
			portal = "1"
			if to == "" {
				to = a.Email
			}
		}
	}
	var m *store.Message
	if to != "" && !cl.Archived {
		practitioner := ""
		if p, err := st.Staff(ap.PractitionerID); err == nil {
			practitioner = p.Name
		}
		// A reminder that could not go out before the session began is no use after.
		m = &store.Message{Channel: store.ChannelEmail, To: to, Lang: j.cfg.Mail.Lang(cl.Lang), Kind: mail.Reminder,
			Args: map[string]string{"Appointment": strconv.FormatUint(ap.ID, 10), "FirstName": cl.FirstName, "Start": mail.TimeArg(ap.Start),
				"Practitioner": practitioner, "Kind": string(ap.Kind), "Minutes": strconv.Itoa(ap.Minutes), "Portal": portal},
			ClientID: cl.ID, CreatedAt: now.UTC(), ExpiresAt: ap.Start}
	}
	// Marked even without an address (m nil), so the job does not look at it every minute.
	return st.QueueReminder(ap.ID, ap.Start, m)
}

// ExpireShares marks every share past its expiry as expired and purges what
// every ended share still holds; it returns how many it expired.
func (j *Jobs) ExpireShares(time.Time) (int, error) {
	expired, err := j.cfg.Shares.Sweep()
	return len(expired), err
}

// RemindShares reminds the recipients of undownloaded document shares two
// days before they are deleted; it returns how many reminders it queued.
func (j *Jobs) RemindShares(time.Time) (int, error) {
	n, err := j.cfg.Shares.Remind(j.cfg.Mail.ComposeShareReminder)
	j.wake(n)
	return n, err
}

// PurgeShareSessions removes the verified sessions of share links idle for share.SessionIdle.
func (j *Jobs) PurgeShareSessions(now time.Time) (int, error) {
	return j.cfg.Store.PurgeShareSessions(now.Add(-share.SessionIdle))
}

// RemoveAbandonedUploads removes the files uploaded for a share that was
// never made (the dialog closed, the form never sent) AbandonedUpload after
// their upload; it returns how many.
func (j *Jobs) RemoveAbandonedUploads(now time.Time) (int, error) {
	ids, err := j.cfg.Store.AbandonedBlobs(now.Add(-AbandonedUpload))
	if err != nil {
		return 0, err
	}
	n := 0
	var failed error
	for _, id := range ids {
		if err := j.cfg.Store.DeleteBlob(id); err != nil {
			failed = errors.Join(failed, err)
			continue
		}
		n++
	}
	return n, failed
}

// ReportViewings has each preso's owner emailed about the viewings that
// ended (no beacon for ViewingEnd) and were not reported yet, each once; it
// returns how many.
func (j *Jobs) ReportViewings(now time.Time) (int, error) {
	ended, err := j.cfg.Store.EndedViewings(now.Add(-j.cfg.ViewingEnd))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range ended {
		if err := j.cfg.ReportViewing(v); err != nil {
			return n, err
		}
		if err := j.cfg.Store.MarkViewingNotified(v.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RemoveUnusedSnapshots removes the preso snapshots no link shows any more
// (preso.Service.SweepSnapshots); it returns how many.
func (j *Jobs) RemoveUnusedSnapshots(time.Time) (int, error) {
	if j.cfg.Presos == nil {
		return 0, nil
	}
	return j.cfg.Presos.SweepSnapshots()
}

// PurgeSessions removes staff and portal sessions that ended (idle, or past their lifetime).
func (j *Jobs) PurgeSessions(now time.Time) (int, error) {
	return j.cfg.Store.PurgeSessions(now.Add(-j.cfg.IdleTimeout), now.Add(-j.cfg.SessionLifetime))
}

// PurgeLinks removes portal links (verification, reset) past their expiry.
func (j *Jobs) PurgeLinks(now time.Time) (int, error) {
	return j.cfg.Store.PurgeAccountTokens(now)
}

// EraseDueClients erases the clients due under the retention rule, when the
// practice turned automatic erasure on; it returns how many.
func (j *Jobs) EraseDueClients(time.Time) (int, error) { return j.cfg.Privacy.AutoErase() }

// PurgeJournal removes the journal's entries older than the practice keeps them.
func (j *Jobs) PurgeJournal(time.Time) (int, error) { return j.cfg.Privacy.PurgeJournal() }

// CompactAfterErasure compacts the data file when an erasure could not (it
// was busy), so the erased bytes leave the file within a minute or so.
func (j *Jobs) CompactAfterErasure(time.Time) (int, error) {
	done, err := j.cfg.Privacy.CompactIfDue()
	if done {
		return 1, err
	}
	return 0, err
}
