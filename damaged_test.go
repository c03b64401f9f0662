package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"foyer/store"
	"foyer/store/storetest"
)

// damagedCopy is a data directory holding a backup of a practice (written
// as Settings → Download a backup writes its snapshot: no freelist in it)
// with a damaged page, and its secret key.
func damagedCopy(t *testing.T) string {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 300 {
		c := store.Client{FirstName: fmt.Sprintf("Client%d", i), LastName: "Durand", Lang: "fr", Notes: strings.Repeat("notes de séance ", 20)}
		if err := st.CreateClient(&c); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, store.FileName)
	var buf bytes.Buffer
	if _, err := st.WriteBackup(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteKeyFile(filepath.Join(dir, store.KeyFileName), st.SecretKey()); err != nil {
		t.Fatal(err)
	}
	storetest.DamageBucket(t, path, "clients")
	return dir
}

// TestDamagedDataFileStopsCommands: serving, checking the journal and
// backing up a data file with a damaged page stop with a message naming the
// file and what to do, where each was a crash with a stack trace.
func TestDamagedDataFileStopsCommands(t *testing.T) {
	dir := damagedCopy(t)
	cfg := config{data: dir, addr: "127.0.0.1:0", logFormat: "text", idleTimeout: time.Minute, lifetime: time.Hour, shutdownTimeout: time.Second}
	path := filepath.Join(dir, store.FileName)
	for name, run := range map[string]func() error{
		"serve":          func() error { return serve(cfg) },
		"journal verify": func() error { return verifyJournal(cfg, &bytes.Buffer{}) },
		"backup":         func() error { return backupFile(cfg, filepath.Join(t.TempDir(), "copy")) },
	} {
		err := run()
		if err == nil || !strings.Contains(err.Error(), path+" is damaged") || !strings.Contains(err.Error(), "foyer restore") {
			t.Errorf("%s on a damaged data file: %v", name, err)
		}
	}
}

// TestCutOrForeignDataFileStopsServe: a data file cut short, or one that
// holds no practice (another program's bbolt file), stops the start with a
// message naming it and how to restore, and nothing is made: no practice
// written into it (which offered /setup to whoever came first), no key.
func TestCutOrForeignDataFileStopsServe(t *testing.T) {
	cut := damagedCopy(t)
	path := filepath.Join(cut, store.FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	foreign := t.TempDir()
	db, err := bolt.Open(filepath.Join(foreign, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for name, dir := range map[string]string{"cut short": cut, "another program's": foreign} {
		path := filepath.Join(dir, store.FileName)
		before, _ := os.ReadFile(path)
		cfg := config{data: dir, addr: "127.0.0.1:0", logFormat: "text", idleTimeout: time.Minute, lifetime: time.Hour, shutdownTimeout: time.Second}
		err := serve(cfg)
		if err == nil || !strings.Contains(err.Error(), path+" is damaged") || !strings.Contains(err.Error(), "foyer restore") {
			t.Errorf("%s: serve: %v", name, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("%s: the data file was written to", name)
		}
	}
	if _, err := os.Stat(filepath.Join(foreign, store.KeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a secret key was made beside another program's file: %v", err)
	}
}
