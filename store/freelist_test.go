package store

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// checkFile runs bbolt's consistency check, which also finds pages both
// free and in use, or neither.
func checkFile(t *testing.T, s *Store) {
	t.Helper()
	if err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAfterCleanStopDoesNotWalkTheFile: commits skip the freelist, so
// Close must write it, or every start walks every page of the file
// (hundreds of milliseconds with 100,000 clients) before serving anything.
// After a crash the walk is the only way back, and must still happen.
func TestOpenAfterCleanStopDoesNotWalkTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Free pages: 8 MiB of a document written, then purged; one kept.
	var ids []uint64
	for range 3 {
		bl := Blob{Name: "x", CreatedAt: time.Now()}
		if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, 4<<20), 4<<20); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, bl.ID)
	}
	for _, id := range ids[1:] {
		if err := s.DeleteBlob(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.walkedAtOpen {
		t.Fatal("the open after a clean stop walked the file to rebuild the freelist")
	}
	if st := s.db.Stats(); st.TxStats.GetWrite() != 0 {
		t.Fatalf("opening a store whose schema and key are current wrote %d pages", st.TxStats.GetWrite())
	}
	free := s.db.Stats().FreePageN
	if free < (8<<20)/4096/2 {
		t.Fatalf("the freelist read at open has %d free pages; 8 MiB were purged", free)
	}
	checkFile(t, s)
	// The freed pages are used again rather than growing the file.
	bl := Blob{Name: "y", CreatedAt: time.Now()}
	if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, 4<<20), 4<<20); err != nil {
		t.Fatal(err)
	}
	if after := s.db.Stats().FreePageN; after >= free {
		t.Fatalf("a new document left the free pages at %d (were %d): freed pages are not used again", after, free)
	}

	// A crash: the file is closed without the store's last commit.
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.WalkedAtOpen() {
		t.Fatal("after a crash the open did not rebuild the freelist by walking the file")
	}
	checkFile(t, s)
	if r, err := s.OpenBlob(ids[0]); err != nil {
		t.Fatalf("the kept document after a crash: %v", err)
	} else {
		n, _ := io.Copy(io.Discard, r)
		if n != 4<<20 {
			t.Fatalf("the kept document reads %d bytes after a crash", n)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing twice is harmless.
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}
