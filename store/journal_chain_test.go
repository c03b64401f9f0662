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
