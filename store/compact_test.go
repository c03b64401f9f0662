package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

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
// makes Compact give up (ErrBusy) and leaves everything as it was.
func TestCompactWaitsNoLongerThanItMay(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.db.shut(0) {
		t.Fatal("an idle store did not let the gate shut")
	}
	s.db.reopen(nil)
	inTx, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.db.View(func(*bolt.Tx) error { close(inTx); <-release; return nil })
	}()
	<-inTx
	if s.db.shut(0) {
		t.Fatal("the gate shut with a transaction in flight")
	}
	close(release)
	// The gate is open again: transactions go on.
	if err := s.Ping(); err != nil {
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
