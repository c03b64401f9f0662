// Package backup keeps encrypted copies of the data file off the machine,
// on S3-compatible storage the practice chooses, and brings one back.
//
// A run (Backups.Once) takes a consistent snapshot of the store into a
// temporary file (one read transaction, as long as the local copy and no
// longer), compresses and encrypts it into a second temporary file (see
// format.go), uploads that, checks the size the storage lists, and deletes
// the copies the retention no longer keeps. No transaction is open while
// anything crosses the network. The jobs schedule asks for a run when one
// is due (Tick: every interval, sooner after a failure) and Run takes it
// beside the schedule; the owner is emailed (through the outbox) once two
// runs in a row have failed.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"foyer/mail"
	"foyer/store"
)

// DefaultEvery is how often a copy is taken unless told otherwise.
const DefaultEvery = time.Hour

// firstRetry is how soon a failed run is tried again; each failure in a row
// doubles it, up to the usual interval.
const firstRetry = 5 * time.Minute

// notifyAfter is how many failures in a row make the owner be emailed.
const notifyAfter = 2

// Backups takes copies of one store to one target.
type Backups struct {
	st     *store.Store
	remote *Remote
	target Target
	every  time.Duration
	// now is the clock; tests move it instead of sleeping.
	now func() time.Time
	log *slog.Logger
	// wake tells the outbox worker a message is waiting; nil wakes nobody.
	wake func()

	// trigger carries a request for a copy to Run; busy is set from the
	// request until the copy is done, so requests meanwhile are dropped.
	trigger chan struct{}
	busy    atomic.Bool
	// mu lets one run happen at a time (Run, and tests calling Once).
	mu sync.Mutex
	// ran, when set, is called after each run of Run (tests wait on it).
	ran func()
}

// New prepares backups of st to t every every (DefaultEvery when 0).
func New(st *store.Store, t Target, every time.Duration, log *slog.Logger, wake func()) (*Backups, error) {
	r, err := NewRemote(t)
	if err != nil {
		return nil, err
	}
	if every <= 0 {
		every = DefaultEvery
	}
	return &Backups{st: st, remote: r, target: t, every: every, now: time.Now, log: log, wake: wake, trigger: make(chan struct{}, 1)}, nil
}

// SetClock replaces the clock (tests).
func (b *Backups) SetClock(now func() time.Time) { b.now = now }

// Target is where the copies go.
func (b *Backups) Target() Target { return b.target }

// Every is the interval between copies.
func (b *Backups) Every() time.Duration { return b.every }

// Trigger asks Run for a copy now (Settings → Back up now); it does
// nothing while one is being taken.
func (b *Backups) Trigger() bool {
	if !b.busy.CompareAndSwap(false, true) {
		return false
	}
	b.trigger <- struct{}{}
	return true
}

// Tick asks for a copy when one is due at now: b.every after the last
// success, sooner after a failure (the jobs schedule calls it every
// minute). It returns 1 when it asked.
func (b *Backups) Tick(now time.Time) (int, error) {
	if b.untilNext(now) > 0 || !b.Trigger() {
		return 0, nil
	}
	return 1, nil
}

// Run takes a copy each time one is asked for (Tick, Trigger) until ctx
// ends. It runs beside the schedule: an upload may take minutes.
func (b *Backups) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.trigger:
		}
		_, _ = b.Once(ctx)
		b.busy.Store(false)
		if b.ran != nil {
			b.ran()
		}
	}
}

// untilNext is how long after now the next copy is due.
func (b *Backups) untilNext(now time.Time) time.Duration {
	s, err := b.st.BackupStatus()
	if err != nil {
		return b.every
	}
	switch {
	case s.Failures > 0:
		retry := firstRetry << min(s.Failures-1, 16)
		return max(0, s.LastErrorAt.Add(min(retry, b.every)).Sub(now))
	case s.LastSuccess.IsZero():
		return 0
	}
	return max(0, s.LastSuccess.Add(b.every).Sub(now))
}

// Once takes a copy now, records how it went, and emails the owner when
// it is the second failure in a row.
func (b *Backups) Once(ctx context.Context) (Copy, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	at := b.now()
	c, err := b.take(ctx, at)
	if err != nil {
		b.failed(at, err)
		return c, err
	}
	took := b.now().Sub(at)
	if _, err := b.st.UpdateBackupStatus(func(s *store.BackupStatus) {
		s.LastSuccess, s.LastName, s.LastSize = at, c.Name, c.Size
		s.Failures, s.FailingSince, s.Notified = 0, time.Time{}, false
	}); err != nil {
		b.log.Error("off-site backup done but not recorded", "err", err)
	}
	b.log.Info("off-site backup done", "copy", c.Name, "size", c.Size, "target", b.target.String(), "took", took.Round(time.Millisecond))
	return c, nil
}

// take snapshots, encrypts, uploads, checks and prunes.
func (b *Backups) take(ctx context.Context, at time.Time) (Copy, error) {
	if n, err := b.remote.AbortUnfinished(ctx); err != nil {
		// Some storages cannot list uploads; the copy itself may still go through.
		b.log.Warn("off-site backup: unfinished uploads could not be listed", "err", b.redact(err))
	} else if n > 0 {
		b.log.Info("off-site backup: removed uploads left unfinished", "count", n)
	}
	enc, size, err := Seal(b.st)
	if err != nil {
		return Copy{}, err
	}
	defer enc.Close()
	c := Copy{Name: CopyName(at), Time: at.UTC(), Size: size}
	if err := b.remote.Put(ctx, c.Name, enc, size); err != nil {
		return c, err
	}
	listed, err := b.remote.Size(ctx, c.Name)
	if err != nil {
		return c, err
	}
	if listed != size {
		_ = b.remote.Delete(ctx, c.Name)
		return c, fmt.Errorf("%w: %d bytes sent, %d listed", errSize, size, listed)
	}
	if err := b.prune(ctx); err != nil {
		// The copy is there; old ones are deleted at the next run.
		b.log.Warn("off-site backup: old copies could not be deleted", "err", b.redact(err))
	}
	return c, nil
}

// Seal writes a consistent snapshot of st, compressed and encrypted with
// its secret key (the format of every copy, format.go), to a temporary file
// beside the data file, and returns it with its size. The file has no name
// on disk, so it is gone once closed, even after a crash; the caller
// closes it. The plain snapshot is gone before Seal returns, and no
// transaction is open once it has: the copy can be sent at any pace. It
// runs at the lowest CPU and I/O priority. Every copy is made by it: the
// off-site ones, Settings → Download a backup and foyer backup, so a copy
// alone, wherever it ends up, holds nothing in the clear.
func Seal(st *store.Store) (enc *os.File, size int64, err error) {
	err = lowPriority(func() error {
		enc, size, err = seal(st)
		return err
	})
	return enc, size, err
}

func seal(st *store.Store) (*os.File, int64, error) {
	snap, _, err := st.BackupSnapshot()
	if err != nil {
		return nil, 0, errLocal{err}
	}
	defer snap.Close()
	enc, err := os.CreateTemp(filepath.Dir(st.Path()), ".backup-*")
	if err != nil {
		return nil, 0, errLocal{st.DiskError(fmt.Errorf("backup: unable to create a temporary file: %w", err))}
	}
	_ = os.Remove(enc.Name())
	if err := encrypt(&store.SyncingWriter{F: enc}, snap, st.SecretKey()); err != nil {
		enc.Close()
		return nil, 0, errLocal{st.DiskError(fmt.Errorf("backup: unable to write the encrypted copy: %w", err))}
	}
	size, err := enc.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = enc.Seek(0, io.SeekStart)
	}
	if err != nil {
		enc.Close()
		return nil, 0, errLocal{err}
	}
	return enc, size, nil
}

// prune deletes the copies the practice's retention no longer keeps.
func (b *Backups) prune(ctx context.Context) error {
	p, err := b.st.Practice()
	if err != nil {
		return err
	}
	copies, err := b.remote.List(ctx)
	if err != nil {
		return err
	}
	_, drop := Keep(copies, RetentionOf(p))
	for _, c := range drop {
		if err := b.remote.Delete(ctx, c.Name); err != nil {
			return err
		}
	}
	return nil
}

// redact describes an error for the owner and the log (Target.Redact).
func (b *Backups) redact(err error) string { return b.target.Redact(err) }

// failed records a failure, logs it and, at the second in a row, emails the owner.
func (b *Backups) failed(at time.Time, err error) {
	kind, detail := Classify(err), b.redact(err)
	s, serr := b.st.UpdateBackupStatus(func(s *store.BackupStatus) {
		if s.Failures == 0 {
			s.FailingSince = at
		}
		s.Failures++
		s.LastErrorAt, s.LastErrorKind, s.LastErrorDetail = at, kind, detail
	})
	b.log.Error("off-site backup failed", "target", b.target.String(), "kind", kind, "err", detail, "failures_in_a_row", s.Failures)
	if serr != nil {
		b.log.Error("off-site backup failure not recorded", "err", serr)
		return
	}
	if s.Failures < notifyAfter || s.Notified {
		return
	}
	if err := b.notify(s); err != nil {
		b.log.Error("the owner could not be told that backups fail", "err", err)
	}
}

// notify queues the email that tells the owners backups are failing.
func (b *Backups) notify(s store.BackupStatus) error {
	staff, err := b.st.ListStaff()
	if err != nil {
		return err
	}
	queued := 0
	for _, st := range staff {
		if st.Role != store.RoleOwner || !st.Active {
			continue
		}
		m := &store.Message{Channel: store.ChannelEmail, To: st.Email, Lang: st.Lang, Kind: mail.BackupFailed,
			Args: map[string]string{"Name": st.Name, "Since": s.FailingSince.UTC().Format(time.RFC3339), "Kind": s.LastErrorKind, "Target": b.target.String()},
			// Once backups work again the message is withdrawn (see package mail).
			ExpiresAt: b.now().Add(store.DefaultMessageTTL), CreatedAt: b.now().UTC()}
		if err := b.st.Enqueue(m); err != nil {
			return err
		}
		queued++
	}
	if queued == 0 {
		return errors.New("backup: no active owner to tell")
	}
	if _, err := b.st.UpdateBackupStatus(func(s *store.BackupStatus) { s.Notified = true }); err != nil {
		return err
	}
	if b.wake != nil {
		b.wake()
	}
	return nil
}

// Failing reports whether backups have failed notifyAfter times in a row
// or more: the staff banners say so.
func Failing(s store.BackupStatus) bool { return s.Failures >= notifyAfter }
