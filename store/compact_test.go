package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fileHolds reports whether the data file's bytes on disk hold marker.
func fileHolds(t *testing.T, dir, marker string) bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(raw, []byte(marker))
}

// TestDeletedBytesStayUntilCompacted shows why erasure compacts: a deleted
// record's bytes stay in the file, and the compaction takes them out while
// the store stays open and keeps what is live.
func TestDeletedBytesStayUntilCompacted(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const marker = "zq-deleted-notes-7f3a"
	keep := &Client{FirstName: "Kept", LastName: "Client", Lang: "fr"}
	gone := &Client{FirstName: "Gone", LastName: "Client", Lang: "fr", Notes: marker}
	for _, c := range []*Client{keep, gone} {
		if err := s.CreateClient(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := deleteClientIndexes(tx, *gone); err != nil {
			return err
		}
		return tx.Bucket(bucketClients).Delete(itob(gone.ID))
	}); err != nil {
		t.Fatal(err)
	}
	if !fileHolds(t, dir, marker) {
		t.Fatal("the deleted notes are gone without a compaction: the test shows nothing")
	}
	if err := s.db.Update(markCompactDue); err != nil {
		t.Fatal(err)
	}
	stats, err := s.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if fileHolds(t, dir, marker) {
		t.Fatal("the deleted notes are still in the file after the compaction")
	}
	if stats.After <= 0 || stats.Before <= 0 {
		t.Fatalf("stats: %+v", stats)
	}
	if due, err := s.CompactDue(); err != nil || due {
		t.Fatalf("still due after compacting: %v %v", due, err)
	}
	got, err := s.Client(keep.ID)
	if err != nil || got.FirstName != "Kept" {
		t.Fatalf("the kept client after compaction: %+v %v", got, err)
	}
	if _, err := s.Client(gone.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the deleted client: %v", err)
	}
	// The sequence goes on: no ID is given twice.
	next := &Client{FirstName: "Next", LastName: "Client", Lang: "fr"}
	if err := s.CreateClient(next); err != nil || next.ID != gone.ID+1 {
		t.Fatalf("next ID %d after %d: %v", next.ID, gone.ID, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+compactSuffix)); !os.IsNotExist(err) {
		t.Fatal("the compaction left its temporary file")
	}
}

// TestCompactWhileWriting: transactions running during a compaction wait at
// the gate and land in the new file; none is lost.
func TestCompactWhileWriting(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	const writers, each = 4, 25
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				c := &Client{FirstName: "W", LastName: "Client", Lang: "en"}
				if err := s.CreateClient(c); err != nil {
					errs <- err
					return
				}
				if _, err := s.Client(c.ID); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 3 {
		if _, err := s.Compact(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	list, total, err := s.SearchClients(ClientFilter{Limit: 1000})
	if err != nil || total != writers*each || len(list) != writers*each {
		t.Fatalf("%d clients listed of %d, want %d: %v", len(list), total, writers*each, err)
	}
}

// TestCompactWaitsNoLongerThanItMay: a transaction that outlasts the wait
// makes the gate's closing give up (Compact answers ErrBusy) and leaves
// everything open as it was.
func TestCompactWaitsNoLongerThanItMay(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.db.shut(true, 0) {
		t.Fatal("an idle store did not let the gate close")
	}
	s.db.reopen(nil)
	for _, tc := range []struct {
		name  string
		all   bool
		hold  func(func(*bolt.Tx) error) error
		gives bool // the closing gives up
	}{
		{"a write in flight, writes", false, s.db.Update, true},
		{"a read in flight, writes", false, s.db.View, false},
		{"a read in flight, all", true, s.db.View, true},
	} {
		inTx, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			_ = tc.hold(func(*bolt.Tx) error { close(inTx); <-release; return nil })
			close(done)
		}()
		<-inTx
		closed := s.db.shut(tc.all, 10*time.Millisecond)
		if closed == tc.gives {
			t.Fatalf("%s: closed %v", tc.name, closed)
		}
		if closed {
			s.db.reopen(nil)
		}
		close(release)
		<-done
		// The gate is open again: transactions go on.
		if err := s.Ping(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadsGoOnWhileWritesWait: with the gate closed to writes (the copy),
// a read passes and a write waits until the gate opens.
func TestReadsGoOnWhileWritesWait(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.db.shut(false, time.Second) {
		t.Fatal("the gate did not close to writes")
	}
	if err := s.Ping(); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() { wrote <- s.CreateClient(&Client{FirstName: "Late", LastName: "Writer", Lang: "fr"}) }()
	select {
	case err := <-wrote:
		t.Fatalf("a write passed the closed gate: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	s.db.reopen(nil)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// TestInterruptedCompactionIsDoneAtOpen: a file left marked (a crash after
// an erasure) is compacted by the next Open, and a half-written compaction
// file is dropped.
func TestInterruptedCompactionIsDoneAtOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const marker = "zq-left-by-a-crash-91c2"
	c := &Client{FirstName: "Crash", LastName: "Client", Lang: "fr", Address: marker}
	if err := s.CreateClient(c); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := deleteClientIndexes(tx, *c); err != nil {
			return err
		}
		if err := tx.Bucket(bucketClients).Delete(itob(c.ID)); err != nil {
			return err
		}
		return markCompactDue(tx)
	}); err != nil {
		t.Fatal(err)
	}
	// A crash: the file is let go without Close's last commit (which would
	// write the freelist, perhaps over the freed page).
	if err := s.db.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName+compactSuffix), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !fileHolds(t, dir, marker) {
		t.Fatal("the marker left without a compaction: the test shows nothing")
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fileHolds(t, dir, marker) {
		t.Fatal("Open did not compact the marked file")
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+compactSuffix)); !os.IsNotExist(err) {
		t.Fatal("the half-written compaction file is still there")
	}
}
