package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// refusedUnchanged opens the data file at path as Foyer starts and checks
// that it is refused as damaged, naming the file, with nothing written to
// it and no secret key made beside it.
func refusedUnchanged(t *testing.T, path, want string) {
	t.Helper()
	before := fileSum(t, path)
	_, err := Open(filepath.Dir(path))
	var de *DamagedError
	if !errors.As(err, &de) || de.Path != path || !strings.Contains(err.Error(), path) || !strings.Contains(de.Problem, want) {
		t.Errorf("open: %v, want it damaged (%s)", err, want)
	}
	if fileSum(t, path) != before {
		t.Error("the file was written to")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), KeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a secret key was made beside it: %v", err)
	}
}

// inDir copies the file at path into a new directory as its data file.
func inDir(t *testing.T, raw []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCutShortFileIsDamaged: a data file cut short (a copy onto a full
// disk, a download cut) ended Foyer's start with a bus error where bbolt
// read past its end. Its length is now checked against its meta page
// before it is mapped: a message naming it, nothing written.
func TestCutShortFileIsDamaged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	closed := practiceWithClients(t, dir)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := s.SecretKey()
	s.Close()
	backupCopy := snapshotOf(t, dir)
	for name, path := range map[string]string{"closed cleanly": closed, "a backup": backupCopy} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Where its pages end: a file closed cleanly has room to grow after them.
		f, _ := os.Open(path)
		m := readMeta(f)
		f.Close()
		end := int(m.pages) * int(m.pageSize)
		if !m.ok || end > len(raw) || end < 100<<10 {
			t.Fatalf("%s: its pages end at %d of %d bytes", name, end, len(raw))
		}
		cut := inDir(t, raw[:end/2])
		refusedUnchanged(t, cut, "cut short")
		if err := CheckFile(cut, key); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "cut short") {
			t.Errorf("%s, cut: check: %v", name, err)
		}
		if err := CheckPages(cut); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s, cut: pages: %v", name, err)
		}
		// A byte short.
		refusedUnchanged(t, inDir(t, raw[:end-1]), "cut short")
	}
}

// TestFileOfNoPracticeIsNotNew: a data file that is not empty yet holds no
// practice where its meta pages point (another program's bbolt file, a
// practice's file with its buckets gone, pieces of two copies joined,
// random bytes) was opened as a new practice: one was written into it and
// /setup offered to whoever came first. It is refused, unchanged; an empty
// file is still a new practice.
func TestFileOfNoPracticeIsNotNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	practiceWithClients(t, dir)
	older := snapshotOf(t, dir)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := s.CreateClient(&Client{FirstName: fmt.Sprintf("Later%d", i), LastName: "Roux", Lang: "fr", Notes: strings.Repeat("suite ", 50)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	newer := snapshotOf(t, dir)

	t.Run("another program's file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), FileName)
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("widgets"))
			if err == nil {
				err = b.Put([]byte("w1"), []byte("a widget"))
			}
			return err
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		refusedUnchanged(t, path, "no Foyer practice")
	})
	t.Run("a practice's buckets deleted", func(t *testing.T) {
		raw, _ := os.ReadFile(older)
		path := inDir(t, raw)
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			var names [][]byte
			tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				names = append(names, append([]byte(nil), name...))
				return nil
			})
			for _, n := range names {
				if err := tx.DeleteBucket(n); err != nil {
					return err
				}
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		refusedUnchanged(t, path, "no Foyer practice")
	})
	t.Run("meta pages pointing at other records", func(t *testing.T) {
		// Closed cleanly: no walk of its pages at open meets the mix-up first.
		raw, _ := os.ReadFile(filepath.Join(dir, FileName))
		path := inDir(t, raw)
		storetest.PointRootAt(t, path, string(bucketClients))
		refusedUnchanged(t, path, "no Foyer practice")
	})
	t.Run("halves of two copies", func(t *testing.T) {
		a, _ := os.ReadFile(older)
		b, _ := os.ReadFile(newer)
		half := len(a) / 2 / 4096 * 4096
		refusedUnchanged(t, inDir(t, append(a[:half:half], b[half:]...)), "")
	})
	t.Run("random bytes", func(t *testing.T) {
		raw := make([]byte, 256<<10)
		rand.Read(raw)
		refusedUnchanged(t, inDir(t, raw), "not those of a data file")
	})
	t.Run("an empty file is a new practice", func(t *testing.T) {
		path := inDir(t, nil)
		s, err := Open(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, err := s.SchemaVersion(); err != nil || v != CurrentSchema {
			t.Fatalf("schema %d: %v", v, err)
		}
	})
}
