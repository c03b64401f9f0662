package store

import (
	"errors"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrDiskFull is what a write returns when the file system holding the data
// file has no room left for it: nothing of that write was saved (a bbolt
// commit that cannot write its pages rolls back whole). The error it wraps
// says which write failed.
var ErrDiskFull = errors.New("store: the disk is full")

// diskFullError is a write refused for want of space: it is ErrDiskFull and
// still the error the system gave.
type diskFullError struct{ err error }

func (e *diskFullError) Error() string   { return "store: the disk is full: " + e.err.Error() }
func (e *diskFullError) Unwrap() []error { return []error{ErrDiskFull, e.err} }

// noSpace tells a full disk from other failures, in the one place the store
// looks: ENOSPC (and EDQUOT, a quota, which is the same to whoever saves).
// bbolt reports the failure to grow its file as text ("file resize error:
// …: no space left on device"), hence the look at the message too.
func noSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.HasSuffix(msg, syscall.ENOSPC.Error()) || strings.HasSuffix(msg, syscall.EDQUOT.Error())
}

// diskRecheck is how often, at most, a full disk's free space is measured
// again while nothing has been saved: a statfs is cheap, but a page for every
// owner asks.
const diskRecheck = 30 * time.Second

// maxDiskMargin is the free space that makes a full disk count as freed again:
// room for bbolt to grow the file (16 MiB at a time) and for an upload. On a
// small file system (a test's), an eighth of its size.
const maxDiskMargin = 64 << 20

// diskWatch remembers that a write was refused for want of space, so the
// owner is told on every page, until space returns: a measure of the free
// space (after a write that succeeded, else at most every diskRecheck) shows
// the margin free again.
type diskWatch struct {
	dir string
	now func() time.Time
	// free measures the file system holding dir: free bytes for this
	// process and its size; ok is false where it cannot be measured.
	free func(dir string) (avail, size uint64, ok bool)

	mu      sync.Mutex
	full    bool
	since   time.Time
	checked time.Time
}

func newDiskWatch(dir string, now func() time.Time) *diskWatch {
	if now == nil {
		now = time.Now
	}
	return &diskWatch{dir: dir, now: now, free: freeSpace}
}

// seen wraps err as ErrDiskFull when it is a full disk, and remembers it.
func (w *diskWatch) seen(err error) error {
	if !noSpace(err) {
		return err
	}
	var df *diskFullError
	if errors.As(err, &df) {
		return err
	}
	w.mu.Lock()
	now := w.now()
	if !w.full {
		w.full, w.since = true, now
	}
	w.checked = now
	w.mu.Unlock()
	return &diskFullError{err}
}

// saved notes a write that succeeded: while the disk counted as full, it is
// a sign space may be back, measured at once.
func (w *diskWatch) saved() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.full {
		w.recheckLocked(w.now(), true)
	}
}

// state says whether the disk counts as full, and since when.
func (w *diskWatch) state() (bool, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.full {
		w.recheckLocked(w.now(), false)
	}
	return w.full, w.since
}

// recheckLocked measures the free space again (at once after a successful
// write, else at most every diskRecheck) and lifts the full state once the
// margin is free. Where space cannot be measured, a successful write alone lifts it.
func (w *diskWatch) recheckLocked(now time.Time, wrote bool) {
	if !wrote && now.Sub(w.checked) < diskRecheck {
		return
	}
	w.checked = now
	avail, size, ok := w.free(w.dir)
	if !ok {
		if wrote {
			w.full = false
		}
		return
	}
	if avail >= min(maxDiskMargin, size/8) {
		w.full = false
	}
}

// DiskFull reports whether a write was refused lately for want of space and
// space has not come back since, and since when: the owner's banner.
func (s *Store) DiskFull() (bool, time.Time) { return s.disk.state() }
