package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Compaction: bbolt reuses the pages a deletion frees but never wipes them,
// so what was deleted stays readable in the file until the page is written
// over, which may be never. An erasure (erase.go) must take the bytes out of
// the file, so it marks the file for compaction in its own transaction, and
// Compact then writes every live page into a new file and puts that file in
// place of the old one, while Foyer runs. A crash between the two leaves the
// mark (meta's compact_due, which a secrets record replaced leaves too), and
// the next Open compacts before anything else (Store.open).

// compactWait is how long Compact waits for the transactions in flight to
// end before it gives up and leaves the mark for a later attempt.
const compactWait = 10 * time.Second

// compactTxSize bounds the size of each transaction writing the new file.
const compactTxSize = 64 << 20

// ErrBusy is returned by Compact when transactions did not end in time; the
// file stays marked, and a later attempt (the schedule's) compacts it.
var ErrBusy = errors.New("store: the data file is busy; it will be compacted later")

// markCompactDue marks the file for compaction in tx.
func markCompactDue(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyCompactDue, []byte{1}) }

// CompactDue reports whether the data file waits for a compaction.
func (s *Store) CompactDue() (bool, error) {
	due := false
	err := s.db.View(func(tx *bolt.Tx) error {
		due = tx.Bucket(bucketMeta).Get(keyCompactDue) != nil
		return nil
	})
	return due, err
}

// CompactStats says what a compaction did.
type CompactStats struct {
	Before, After int64
	// Paused is how long every transaction waited.
	Paused time.Duration
}

// Compact rewrites the data file into a new one holding only its live data
// and puts it in place, while the store stays open: transactions wait at the
// gate (gate.go) for the length of the copy, then go on in the new file. The
// old file's freed pages, and whatever they held, leave with it.
func (s *Store) Compact() (CompactStats, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	var st CompactStats
	if !s.db.shut(compactWait) {
		return st, ErrBusy
	}
	start := time.Now()
	old := s.db.DB
	st.Before = fileSizeOf(old)
	db, err := compactInto(old, s.db.path)
	st.Paused = time.Since(start)
	if err != nil {
		s.db.reopen(nil)
		return st, err
	}
	if fi, err := os.Stat(s.db.path); err == nil {
		st.After = fi.Size()
	}
	_ = old.Close()
	s.db.reopen(db)
	return st, nil
}

// fileSizeOf is the size of the file a bbolt handle has open.
func fileSizeOf(db *bolt.DB) int64 {
	var n int64
	_ = db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// compactInto writes the live data of src into a new file beside path,
// opens it, and renames it over path. On success the caller closes src (its
// file is gone from the directory) and uses the returned handle.
func compactInto(src *bolt.DB, path string) (*bolt.DB, error) {
	tmp := path + compactSuffix
	_ = os.Remove(tmp)
	fail := func(err error) (*bolt.DB, error) {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("store: unable to compact: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType, NoSync: true})
	if err != nil {
		return fail(err)
	}
	err = bolt.Compact(dst, src, compactTxSize)
	if err == nil {
		err = dst.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyCompactDue) })
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	// Opened (and locked) before the rename, so that the data file's name
	// never points at a file no Foyer holds.
	db, err := bolt.Open(tmp, 0o600, boltOptions())
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = db.Close()
		return fail(err)
	}
	// The rename is done; should syncing the directory fail, only its
	// durability is in doubt, and the store goes on with the new file.
	_ = syncDir(filepath.Dir(path))
	return db, nil
}
