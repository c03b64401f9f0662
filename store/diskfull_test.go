package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"foyer/testtool"
)

// TestDiskFull fills a real (small, in-memory) file system under the store:
// an upload, a client and a snapshot are refused as ErrDiskFull, nothing of
// them is kept, the file stays sound, and the store says the disk is full
// until space returns.
func TestDiskFull(t *testing.T) {
	dir := testtool.SmallDisk(t, 8<<20)
	var mu sync.Mutex
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	s, err := Open(dir, WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	before := &Client{FirstName: "Mia", LastName: "Martin", Lang: "fr"}
	if err := s.CreateClient(before); err != nil {
		t.Fatal(err)
	}
	if full, _ := s.DiskFull(); full {
		t.Fatal("the disk counts as full before anything failed")
	}
	filler := testtool.FillDisk(t, dir)

	// An upload larger than any free page inside the file must grow it.
	data := make([]byte, 3<<20)
	rand.Read(data)
	b := &Blob{Name: "scan.pdf", Type: "application/pdf", StaffID: 1, CreatedAt: now()}
	err = s.CreateBlob(b, bytes.NewReader(data), 10<<20)
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("upload on a full disk: %v, want ErrDiskFull wrapping ENOSPC", err)
	}
	if _, err := s.Blob(b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused upload can be read: %v", err)
	}
	full, since := s.DiskFull()
	if !full || !since.Equal(clock) {
		t.Fatalf("DiskFull = %v, %v after a refused write", full, since)
	}
	// Clients, many of them, until one is refused too: none half-saved.
	var refused error
	for i := 0; i < 5000 && refused == nil; i++ {
		refused = s.CreateClient(&Client{FirstName: fmt.Sprint("Client ", i), LastName: string(bytes.Repeat([]byte("x"), 2000)), Lang: "fr"})
	}
	if !errors.Is(refused, ErrDiskFull) {
		t.Fatalf("clients on a full disk: %v", refused)
	}
	if _, _, err := s.BackupSnapshot(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("snapshot on a full disk: %v", err)
	}
	// The file is sound and what was saved before is there.
	if err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("the file after a full disk: %v", err)
	}
	if c, err := s.Client(before.ID); err != nil || c.FirstName != "Mia" {
		t.Fatalf("a client saved before: %v %+v", err, c)
	}

	// Space comes back: measured at most every 30 s while nothing is saved.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	advance(29 * time.Second)
	if full, _ := s.DiskFull(); !full {
		t.Error("the free space was measured again before 30 s")
	}
	advance(2 * time.Second)
	if full, _ := s.DiskFull(); full {
		t.Error("the disk still counts as full 31 s after space came back")
	}

	// Full again; a write that succeeds measures at once.
	filler = testtool.FillDisk(t, dir)
	if err := s.CreateBlob(&Blob{Name: "b", StaffID: 1}, bytes.NewReader(data), 10<<20); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("second upload: %v", err)
	}
	os.Remove(filler)
	if full, _ := s.DiskFull(); !full {
		t.Error("the disk counts as freed without a measure")
	}
	if err := s.CreateClient(&Client{FirstName: "Léa", LastName: "Roux", Lang: "fr"}); err != nil {
		t.Fatal(err)
	}
	if full, _ := s.DiskFull(); full {
		t.Error("the disk still counts as full after a write succeeded with space back")
	}
	b = &Blob{Name: "scan.pdf", StaffID: 1}
	if err := s.CreateBlob(b, bytes.NewReader(data), 10<<20); err != nil {
		t.Fatalf("upload once space is back: %v", err)
	}

	// Closed and opened again, the file holds what was saved.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Client(before.ID); err != nil || c.FirstName != "Mia" {
		t.Fatalf("after reopening: %v %+v", err, c)
	}
	if got, err := s.Blob(b.ID); err != nil || got.Size != int64(len(data)) {
		t.Fatalf("the upload made once space was back: %v %+v", err, got)
	}
}

func TestNoSpaceSeenInBboltText(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "write", Path: "foyer.db", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("store: unable to write a snapshot: %w", &os.PathError{Op: "write", Err: syscall.EDQUOT}), true},
		// bbolt's grow: "file resize error: %s".
		{errors.New("file resize error: truncate foyer.db: " + syscall.ENOSPC.Error()), true},
		{ErrNotFound, false},
		{errors.New("no space left, said someone"), false},
		{nil, false},
	} {
		if got := noSpace(tc.err); got != tc.want {
			t.Errorf("noSpace(%v) = %v", tc.err, got)
		}
	}
}
