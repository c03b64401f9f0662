package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"foyer/store"
	"foyer/store/storetest"
)

// copyOf writes p's store as a copy (encrypted, as the storage and a
// download hold it) named for at into dir; damaged, a page of its clients
// is spoilt first. It returns the copy's path.
func copyOf(t *testing.T, p *practice, dir string, at time.Time, damaged bool) string {
	t.Helper()
	plain := filepath.Join(t.TempDir(), "plain.db")
	f, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.st.WriteBackup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if damaged {
		storetest.DamageBucket(t, plain, "clients")
	}
	in, err := os.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := filepath.Join(dir, CopyName(at))
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := encrypt(out, in, p.st.SecretKey()); err != nil {
		t.Fatal(err)
	}
	return path
}

// withClients adds enough clients to p that their records fill pages of
// their own.
func withClients(t *testing.T, p *practice) {
	t.Helper()
	for i := range 300 {
		c := store.Client{FirstName: fmt.Sprintf("Client%d", i), LastName: "Durand", Lang: "fr", Notes: strings.Repeat("notes de séance ", 20)}
		if err := p.st.CreateClient(&c); err != nil {
			t.Fatal(err)
		}
	}
}

// leftIn lists what dir holds.
func leftIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestRestoreOfADamagedCopy: a copy whose data file has a damaged page is
// refused as damaged (it was a crash of the program, which left the
// decrypted data in the data directory), and nothing is left behind: not
// in an empty directory, and not beside the data kept by -force. An older,
// whole copy in the same directory of copies is restored with -at.
func TestRestoreOfADamagedCopy(t *testing.T) {
	p := newPractice(t, 64<<10)
	withClients(t, p)
	copies := t.TempDir()
	older := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	copyOf(t, p, copies, older, false)
	damaged := copyOf(t, p, copies, older.Add(time.Hour), true)
	key := p.st.SecretKey()

	dest := filepath.Join(t.TempDir(), "data")
	for _, src := range []Source{FileSource(damaged), DirSource(copies)} {
		r, err := Restore(t.Context(), src, time.Time{}, dest, key, false, older.Add(2*time.Hour))
		if !errors.Is(err, ErrDamaged) || r.Copy.Name != filepath.Base(damaged) {
			t.Fatalf("restore of a damaged copy from %T: %+v %v", src, r, err)
		}
		if left := leftIn(t, dest); len(left) != 0 {
			t.Fatalf("a failed restore left %v", left)
		}
		// The data directory it made for the copy goes too.
		if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a failed restore left its data directory: %v", err)
		}
	}
	// Over data kept by -force: the data stays, nothing is added.
	r, err := Restore(t.Context(), DirSource(copies), older, dest, key, false, older.Add(2*time.Hour))
	if err != nil || !r.Copy.Time.Equal(older) {
		t.Fatalf("restore of the older copy: %+v %v", r, err)
	}
	before := leftIn(t, dest)
	if _, err := Restore(t.Context(), FileSource(damaged), time.Time{}, dest, key, true, older.Add(3*time.Hour)); !errors.Is(err, ErrDamaged) {
		t.Fatalf("forced restore of a damaged copy: %v", err)
	}
	if left := leftIn(t, dest); strings.Join(left, " ") != strings.Join(before, " ") {
		t.Fatalf("a failed forced restore changed the directory: %v, was %v", left, before)
	}
	if err := store.CheckFile(filepath.Join(dest, store.FileName), key); err != nil {
		t.Fatalf("the data kept: %v", err)
	}
}

// A restore stopped (Ctrl-C) removes the decrypted copy it was writing.
func TestStoppedRestoreLeavesNothing(t *testing.T) {
	p := newPractice(t, 1<<20)
	path := copyOf(t, p, t.TempDir(), time.Now(), false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dest := t.TempDir()
	if _, err := Restore(ctx, FileSource(path), time.Time{}, dest, p.st.SecretKey(), false, time.Now()); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped restore: %v", err)
	}
	if left := leftIn(t, dest); len(left) != 0 {
		t.Fatalf("a stopped restore left %v", left)
	}
}

// A plain data file (a download of an older Foyer) restores with the same
// checks: the key must open it.
func TestRestoreOfAPlainCopy(t *testing.T) {
	p := newPractice(t, 1000)
	plain := filepath.Join(t.TempDir(), "foyer-backup-2026-03-02.db")
	var buf bytes.Buffer
	if _, err := p.st.WriteBackup(&buf); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(plain, buf.Bytes(), 0o600)
	var ke *store.KeyError
	if _, err := Restore(t.Context(), FileSource(plain), time.Time{}, t.TempDir(), "another key, long enough to be one", false, time.Now()); !errors.As(err, &ke) {
		t.Fatalf("a plain copy with another key: %v", err)
	}
	dest := t.TempDir()
	if _, err := Restore(t.Context(), FileSource(plain), time.Time{}, dest, p.st.SecretKey(), false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := store.CheckFile(filepath.Join(dest, store.FileName), p.st.SecretKey()); err != nil {
		t.Fatal(err)
	}
}

// -from says what it cannot read, and never repeats a secret.
func TestOpenSource(t *testing.T) {
	dir := t.TempDir()
	if src, where, err := OpenSource("s3://key:hidden-secret@127.0.0.1:1/bucket/prefix"); err != nil || strings.Contains(where, "hidden-secret") {
		t.Fatalf("s3: %T %q %v", src, where, err)
	}
	if _, _, err := OpenSource("https://user:hidden-secret@example.org/copy.age"); err == nil || !strings.Contains(err.Error(), "s3://") || strings.Contains(err.Error(), "hidden-secret") {
		t.Fatalf("https: %v", err)
	}
	if _, _, err := OpenSource(filepath.Join(dir, "nothing")); err == nil || !strings.Contains(err.Error(), "no copy there") {
		t.Fatalf("a missing file: %v", err)
	}
	if src, _, err := OpenSource(dir); err != nil {
		t.Fatal(err)
	} else if _, err := Restore(t.Context(), src, time.Time{}, t.TempDir(), "a key long enough to be one, really", false, time.Now()); !errors.Is(err, ErrNoCopy) {
		t.Fatalf("an empty directory: %v", err)
	}
}

// TestRestoredCopyOpensAsAfterACleanStop: a copy holds no list of its free
// pages (it is written from a read transaction), so the first start after
// a restore walked the whole file to find them and warned that the data
// file "was not closed cleanly last time", which no one had done. A
// restore writes that list: the start reads it, and says nothing.
func TestRestoredCopyOpensAsAfterACleanStop(t *testing.T) {
	p := newPractice(t, 64<<10)
	withClients(t, p)
	encrypted := copyOf(t, p, t.TempDir(), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false)
	plain := filepath.Join(t.TempDir(), "foyer.db")
	var buf bytes.Buffer
	if _, err := p.st.WriteBackup(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := p.st.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	for name, from := range map[string]string{"encrypted": encrypted, "plain": plain} {
		dest := t.TempDir()
		if _, err := Restore(t.Context(), FileSource(from), time.Time{}, dest, p.st.SecretKey(), false, time.Now()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st, err := store.Open(dest)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walked := st.WalkedAtOpen()
		got, err := st.Fingerprint()
		st.Close()
		if walked {
			t.Errorf("%s: the first start after the restore walked the file, as after a crash", name)
		}
		if err != nil || got != want {
			t.Errorf("%s: the restored records differ from the practice's: %v", name, err)
		}
	}
}
