package store_test

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"foyer/journal"
	"foyer/store"
)

// TestRemovedEntriesAreNamed: entries deleted from the journal's bucket in
// a copy of the file (in the middle, or at the end) break the chain where
// they were, and the check says so.
func TestRemovedEntriesAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		delete  []uint64
		seq     uint64
		problem journal.Problem
	}{
		{"middle", []uint64{12}, 12, journal.Missing},
		{"first", []uint64{1}, 1, journal.Missing},
		{"end", []uint64{19, 20}, 19, journal.Truncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := store.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
			j := journal.New(st, func() time.Time { return now })
			for i := range 20 {
				j.Record(journal.Entry{StaffID: 1, ClientID: uint64(i + 1), Action: journal.RecordRead})
			}
			if err := j.Flush(); err != nil {
				t.Fatal(err)
			}
			if _, err := j.Verify(); err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error {
				for _, seq := range tc.delete {
					k := make([]byte, 8)
					binary.BigEndian.PutUint64(k, seq)
					if err := tx.Bucket([]byte("journal")).Delete(k); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			st, err = store.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			_, err = journal.Verify(st)
			var broken *journal.BrokenError
			if !errors.As(err, &broken) || broken.Seq != tc.seq || broken.Problem != tc.problem {
				t.Fatalf("verify: %v, want entry %d %s", err, tc.seq, tc.problem)
			}
		})
	}
}

// journalOf fills a new data directory's journal with n entries and closes it.
func journalOf(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	j := journal.New(st, func() time.Time { return now })
	for i := range n {
		j.Record(journal.Entry{StaffID: 1, ClientID: uint64(i%4 + 1), Action: journal.RecordRead, Addr: "192.0.2.7"})
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Verify(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tamper changes a closed data file with bbolt alone, as someone holding
// the file but not its key can.
func tamper(t *testing.T, dir string, change func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(change); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// cutTail deletes the entries after keep, as a key-less tool would, and
// sets the bucket's sequence back so the next entry is numbered keep+1.
func cutTail(tx *bolt.Tx, keep uint64) error {
	b := tx.Bucket([]byte("journal"))
	c := b.Cursor()
	for k, _ := c.Seek(binary.BigEndian.AppendUint64(nil, keep+1)); k != nil; k, _ = c.Seek(binary.BigEndian.AppendUint64(nil, keep+1)) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return b.SetSequence(keep)
}

// TestCuttingTheTailWithoutTheKeyShows is the attack of someone who can
// write foyer.db (Foyer stopped, or a backup they change) but has no key:
// they delete the newest entries, point the head record at the last one
// kept (its MAC sits in clear beside it, as an older Foyer wrote the head)
// or remove it, and set the sequence back. The check names the first entry
// removed, before Foyer writes again and after.
func TestCuttingTheTailWithoutTheKeyShows(t *testing.T) {
	const keep = 15
	deleteHead := func(tx *bolt.Tx) error { return tx.Bucket([]byte("journal_meta")).Delete([]byte("head")) }
	for _, tc := range []struct {
		name    string
		cut     uint64 // entries after this one go
		head    func(tx *bolt.Tx) error
		write   bool // Foyer starts again and records two entries
		seq     uint64
		problem journal.Problem
	}{
		{"head pointed at the last kept", keep, pointHead(keep), false, keep + 1, journal.HeadAltered},
		{"head pointed at the last kept, then Foyer writes", keep, pointHead(keep), true, keep + 1, journal.HeadWasAltered},
		{"head deleted", keep, deleteHead, false, keep + 1, journal.HeadAltered},
		{"head deleted, then Foyer writes", keep, deleteHead, true, keep + 1, journal.HeadWasAltered},
		{"head left as it was", keep, func(*bolt.Tx) error { return nil }, false, keep + 1, journal.Truncated},
		{"head left as it was, then Foyer writes", keep, func(*bolt.Tx) error { return nil }, true, keep + 1, journal.Missing},
		{"every entry and the head deleted", 0, deleteHead, false, 1, journal.HeadAltered},
		{"every entry and the head deleted, then Foyer writes", 0, deleteHead, true, 1, journal.HeadWasAltered},
		// Set back to the schema before heads were signed, the upgrade
		// would sign the head pointed at entry 15: the data file's keys
		// say it was signed already, so it is not.
		{"schema set back", keep, func(tx *bolt.Tx) error {
			if err := pointHead(keep)(tx); err != nil {
				return err
			}
			return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 13))
		}, false, keep + 1, journal.HeadAltered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := journalOf(t, 20)
			tamper(t, dir, func(tx *bolt.Tx) error {
				if err := cutTail(tx, tc.cut); err != nil {
					return err
				}
				return tc.head(tx)
			})
			st, err := store.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if tc.write {
				j := journal.New(st, time.Now)
				j.Record(journal.Entry{StaffID: 1, Action: journal.SignIn})
				j.Record(journal.Entry{StaffID: 1, ClientID: 2, Action: journal.RecordRead})
				if err := j.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			r, err := journal.Verify(st)
			var broken *journal.BrokenError
			if !errors.As(err, &broken) || broken.Seq != tc.seq || broken.Problem != tc.problem {
				t.Fatalf("verify: %+v %v, want the chain broken at entry %d (%s)", r, err, tc.seq, tc.problem)
			}
			if tc.write {
				// Foyer numbers after every number used: nothing it kept is written over.
				recs, err := st.JournalRecords(0, 100)
				if err != nil || len(recs) != int(tc.cut)+2 {
					t.Fatalf("%d entries, %v", len(recs), err)
				}
			}
		})
	}
}

// pointHead sets the head record to entry seq, as the journal wrote it
// before it was signed: the sequence number and the entry's MAC, which the
// entry's own record begins with.
func pointHead(seq uint64) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		k := binary.BigEndian.AppendUint64(nil, seq)
		v := tx.Bucket([]byte("journal")).Get(k)
		return tx.Bucket([]byte("journal_meta")).Put([]byte("head"), append(k, v[:32]...))
	}
}

// TestCuttingTheStartWithoutTheKeyShows: the oldest entries deleted and an
// entry's own record (MAC and JSON, both in clear) put where the retention
// purge's signed anchor goes, so that the anchor seems to stand for them.
// An entry is no anchor: the check says the anchor was changed.
func TestCuttingTheStartWithoutTheKeyShows(t *testing.T) {
	const first = 6
	dir := journalOf(t, 20)
	tamper(t, dir, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("journal"))
		for seq := uint64(1); seq < first; seq++ {
			if err := b.Delete(binary.BigEndian.AppendUint64(nil, seq)); err != nil {
				return err
			}
		}
		v := b.Get(binary.BigEndian.AppendUint64(nil, first))
		return tx.Bucket([]byte("journal_meta")).Put([]byte("anchor"), append([]byte(nil), v...))
	})
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := journal.Verify(st)
	var broken *journal.BrokenError
	if !errors.As(err, &broken) || broken.Problem != journal.AnchorAltered {
		t.Fatalf("verify: %+v %v, want the anchor named as changed", r, err)
	}
}

// TestUpgradeSignsTheHead: a data file from before the head was signed gets
// it signed at the upgrade, as it stands, and says so; the chain checks;
// the next open signs nothing again, and a tail cut after the upgrade shows.
func TestUpgradeSignsTheHead(t *testing.T) {
	dir := journalOf(t, 20)
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.WriteAsSchema13(st); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = store.Open(dir); err != nil {
		t.Fatal(err)
	}
	up, ok := st.Upgraded()
	if !ok || up.From != 13 || !up.JournalHead.Signed || up.JournalHead.Seq != 20 || up.JournalHead.Refused {
		t.Fatalf("upgrade: %+v %v", up, ok)
	}
	if r, err := journal.Verify(st); err != nil || r.Last != 20 {
		t.Fatalf("after the upgrade: %+v %v", r, err)
	}
	st.Close()
	if st, err = store.Open(dir); err != nil {
		t.Fatal(err)
	}
	if up, ok := st.Upgraded(); ok {
		t.Fatalf("upgraded again: %+v", up)
	}
	st.Close()
	tamper(t, dir, func(tx *bolt.Tx) error {
		if err := cutTail(tx, 18); err != nil {
			return err
		}
		return pointHead(18)(tx)
	})
	if st, err = store.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var broken *journal.BrokenError
	if _, err := journal.Verify(st); !errors.As(err, &broken) || broken.Seq != 19 || broken.Problem != journal.HeadAltered {
		t.Fatalf("a tail cut after the upgrade: %v", err)
	}
}

// TestBreakGoesWithItsEntries: a break the head recorded is named until the
// retention purge removes the first entry written after it; what was cut
// before it is past the retention period by then.
func TestBreakGoesWithItsEntries(t *testing.T) {
	dir := journalOf(t, 20) // written on 1 May
	tamper(t, dir, func(tx *bolt.Tx) error {
		if err := cutTail(tx, 15); err != nil {
			return err
		}
		return pointHead(15)(tx)
	})
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 8, 1, 8, 0, 0, 0, time.UTC)
	j := journal.New(st, func() time.Time { return now })
	j.Record(journal.Entry{StaffID: 1, Action: journal.SignIn})
	j.Record(journal.Entry{StaffID: 1, Action: journal.SignIn})
	var broken *journal.BrokenError
	check := func(when string, seq uint64) {
		t.Helper()
		if _, err := j.Verify(); !errors.As(err, &broken) || broken.Seq != seq || broken.Problem != journal.HeadWasAltered {
			t.Fatalf("%s: %v, want the break at %d", when, err, seq)
		}
	}
	check("before the purge", 16)
	// Kept one month on 15 August: entries 1 to 15 go, 16 and 17 stay.
	if n, err := j.Purge(time.Date(2026, 8, 15, 0, 0, 0, 0, time.UTC), 1); err != nil || n != 15 {
		t.Fatalf("purged %d, %v", n, err)
	}
	check("after a purge that keeps entry 16", 16)
	if n, err := j.Purge(time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), 1); err != nil || n != 2 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if r, err := j.Verify(); err != nil || r.Purged != 17 {
		t.Fatalf("after entry 16 went: %+v %v", r, err)
	}
}
