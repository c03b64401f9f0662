package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"foyer/store/storetest"
)

// practiceWithClients is a store of many clients (their bucket spans many
// pages) at dir, closed cleanly: its freelist is written.
func practiceWithClients(t *testing.T, dir string) string {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		c := Client{FirstName: fmt.Sprintf("Client%d", i), LastName: "Durand", Lang: "fr",
			Notes: strings.Repeat("notes de séance ", 20)}
		if err := s.CreateClient(&c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, FileName)
}

// snapshotOf writes a backup of the store at dir to a file of its own, as
// a download or an off-site copy is written (no freelist in it).
func snapshotOf(t *testing.T, dir string) string {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write since the open: the freelist the last Close wrote is void.
	if err := s.CreateClient(&Client{FirstName: "Anne", LastName: "Zola", Lang: "fr"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteBackup(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDamagedBackupIsAnErrorNotACrash: a backup (no freelist in it) with a
// damaged page was a crash of the whole program in bbolt's walk of the
// file, at restore (CheckFile) and at any command's open. Now both say
// which file is damaged.
func TestDamagedBackupIsAnErrorNotACrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	practiceWithClients(t, dir)
	copyPath := snapshotOf(t, dir)
	if freelistWritten(copyPath) {
		t.Fatal("a backup holds a freelist: opening it walks nothing, and this test proves nothing")
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := s.SecretKey()
	s.Close()
	if err := CheckFile(copyPath, key); err != nil {
		t.Fatalf("the whole copy: %v", err)
	}
	storetest.DamageBucket(t, copyPath, string(bucketClients))

	var de *DamagedError
	if err := CheckFile(copyPath, key); !errors.As(err, &de) || de.Path != copyPath {
		t.Fatalf("check of a damaged copy: %v", err)
	}
	if _, err := OpenFile(copyPath, WithSecretKey(key)); !errors.As(err, &de) || !strings.Contains(err.Error(), copyPath) {
		t.Fatalf("open of a damaged copy: %v", err)
	}
	if err := CheckPages(copyPath); !errors.Is(err, ErrDamaged) {
		t.Fatalf("pages of a damaged copy: %v", err)
	}

}

// TestDamagedPageMetAfterOpenIsAnError: a file closed cleanly (its freelist
// written) opens without a walk; a damaged page its records sit on is met
// by the read that needs it, which fails with an error naming the file
// instead of panicking (a crash, when the read was a background job's).
func TestDamagedPageMetAfterOpenIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := practiceWithClients(t, dir)
	if !freelistWritten(path) {
		t.Fatal("a file closed cleanly has no freelist")
	}
	storetest.DamageBucket(t, path, string(bucketClients))
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("the damage is where the open does not read, yet: %v", err)
	}
	defer s.Close()
	var de *DamagedError
	var readErr error
	for id := uint64(1); id <= 400 && readErr == nil; id++ {
		_, readErr = s.Client(id)
	}
	if !errors.As(readErr, &de) || de.Path != path {
		t.Fatalf("reading the clients: %v", readErr)
	}
	// The store still answers what is whole.
	if err := s.Ping(); err != nil {
		t.Fatalf("after the damaged read: %v", err)
	}
	// A check of every page finds it too.
	s.Close()
	if err := CheckPages(path); !errors.Is(err, ErrDamaged) {
		t.Fatalf("pages of the damaged file: %v", err)
	}

}

// A panic of Foyer's own code in a transaction is a bug, not damage: it
// goes on up.
func TestBugInTransactionIsNotDamage(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	defer func() {
		if r := recover(); r != "a bug" {
			t.Fatalf("recovered %v, want the bug's panic", r)
		}
	}()
	s.db.View(func(*bolt.Tx) error { panic("a bug") })
	t.Fatal("the panic was swallowed")
}

// A file cut short (a copy interrupted) is found damaged by the walk:
// reading past its end is a fault made a panic, then an error.
func TestTruncatedFileIsDamaged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	practiceWithClients(t, dir)
	copyPath := snapshotOf(t, dir)
	fi, err := os.Stat(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(copyPath, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := OpenFile(copyPath); err == nil {
		t.Fatal("a file cut in half opened")
	} else {
		t.Logf("%v (%v)", err, time.Since(start))
	}
}
