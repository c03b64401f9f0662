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
// end, at each of its two closings of the gate, before it gives up and
// leaves the mark for a later attempt.
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
	// WritesPaused is how long writes waited (the copy); ReadsPaused how
	// long reads did (putting the copy in place).
	WritesPaused, ReadsPaused time.Duration
}

// Compact rewrites the data file into a new one holding only its live data
// and puts it in place, while the store stays open: writes wait at the gate
// (gate.go) while the file is copied, reads go on, and wait only for the
// moment the new file takes the old one's place. The old file's freed pages,
// and whatever they held, leave with it.
func (s *Store) Compact() (CompactStats, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	var st CompactStats
	start := time.Now()
	if !s.db.shut(false, compactWait) {
		return st, ErrBusy
	}
	old := s.db.DB
	st.Before = fileSizeOf(old)
	tmp, err := compactCopy(old, s.db.path)
	if err != nil {
		s.db.reopen(nil)
		return st, s.disk.seen(err)
	}
	swap := time.Now()
	if !s.db.shut(true, compactWait) {
		_ = os.Remove(tmp)
		return st, ErrBusy
	}
	db, err := putInPlace(tmp, s.db.path)
	if err != nil {
		s.db.reopen(nil)
		return st, err
	}
	_ = old.Close()
	s.db.reopen(db)
	st.ReadsPaused, st.WritesPaused = time.Since(swap), time.Since(start)
	if fi, err := os.Stat(s.db.path); err == nil {
		st.After = fi.Size()
	}
	return st, nil
}

// fileSizeOf is the size of the file a bbolt handle has open.
func fileSizeOf(db *bolt.DB) int64 {
	var n int64
	_ = db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// compactCopy writes the live data of src into a new file beside path and
// returns its name. No write may reach src meanwhile (the gate is closed to
// writes), so the copy is the file as it stands.
func compactCopy(src *bolt.DB, path string) (string, error) {
	tmp := path + compactSuffix
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType, NoSync: true})
	if err != nil {
		return "", fmt.Errorf("store: unable to compact: %w", err)
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
		_ = os.Remove(tmp)
		return "", fmt.Errorf("store: unable to compact: %w", err)
	}
	return tmp, nil
}

// putInPlace opens the compacted file tmp and renames it over path. It is
// opened (and locked) before the rename, so the data file's name never
// points at a file no Foyer holds. The caller closes the old handle.
func putInPlace(tmp, path string) (*bolt.DB, error) {
	db, err := bolt.Open(tmp, 0o600, boltOptions())
	if err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("store: unable to open the compacted file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = db.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("store: unable to put the compacted file in place: %w", err)
	}
	// The rename is done; should syncing the directory fail, only its
	// durability is in doubt, and the store goes on with the new file.
	_ = syncDir(filepath.Dir(path))
	return db, nil
}
