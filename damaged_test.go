package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
