package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"foyer/journal"
	"foyer/store"
)

// TestJournalVerifyCommand: "foyer journal verify" says a journal is intact,
// and names the entry a copy of the data file had altered.
func TestJournalVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	j := journal.New(st, func() time.Time { return now })
	for i := range 12 {
		j.Record(journal.Entry{StaffID: 1, ClientID: uint64(i + 1), Action: journal.RecordRead, Addr: "203.0.113.9"})
	}
	j.Record(journal.Entry{StaffID: 1, Action: journal.BackupDownload, Addr: "203.0.113.66"})
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := verifyJournal(config{data: dir, logFormat: "text", baseURL: "http://localhost:8080", idleTimeout: time.Minute, lifetime: time.Hour, shutdownTimeout: time.Second}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "intact: 13 entries, from 1 to 13") {
		t.Fatalf("intact journal: %q", out.String())
	}
	// A copy where entry 13 (the backup download) says another address.
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	altered := bytes.Replace(raw, []byte("203.0.113.66"), []byte("203.0.113.67"), 1)
	if bytes.Equal(altered, raw) {
		t.Fatal("the entry was not found in the file")
	}
	copyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(copyDir, store.FileName), altered, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dir, store.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, store.KeyFileName), key, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = verifyJournal(config{data: copyDir, logFormat: "text", baseURL: "http://localhost:8080", idleTimeout: time.Minute, lifetime: time.Hour, shutdownTimeout: time.Second}, &out)
	if err == nil || !strings.Contains(err.Error(), "broken at entry 13") || !strings.Contains(err.Error(), "changed after it was written") {
		t.Fatalf("altered copy: %v (%q)", err, out.String())
	}
}

// TestJournalVerifyCommandNamesACutTail: a copy whose three newest entries
// were deleted with bbolt alone, its head record pointed at the last entry
// kept (whose MAC lies in clear beside it) and its sequence set back, does
// not pass for intact: the command names the first entry missing.
func TestJournalVerifyCommandNamesACutTail(t *testing.T) {
	var entries []journal.Entry
	for i := range 13 {
		entries = append(entries, journal.Entry{StaffID: 1, ClientID: uint64(i + 1), Action: journal.RecordRead, Addr: "203.0.113.9"})
	}
	dir := journalDir(t, entries...)
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("journal"))
		for seq := uint64(11); seq <= 13; seq++ {
			if err := b.Delete(binary.BigEndian.AppendUint64(nil, seq)); err != nil {
				return err
			}
		}
		k := binary.BigEndian.AppendUint64(nil, 10)
		if err := tx.Bucket([]byte("journal_meta")).Put([]byte("head"), append(k, b.Get(k)[:32]...)); err != nil {
			return err
		}
		return b.SetSequence(10)
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := verifyDir(dir)
	if err == nil || !strings.Contains(err.Error(), "broken at entry 11") || !strings.Contains(err.Error(), "signed record of the journal's last entry is missing or was changed") {
		t.Fatalf("a cut tail: %v (%q)", err, out)
	}
}

// TestJournalVerifyCommandOneEntry: a journal of one entry is said in the singular.
func TestJournalVerifyCommandOneEntry(t *testing.T) {
	got, err := verifyDir(journalDir(t, journal.Entry{StaffID: 1, Action: journal.BackupDownload, Addr: "203.0.113.66"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "intact: 1 entry, number 1.") {
		t.Fatalf("one entry: %q", got)
	}
}

// journalDir is a data directory whose journal holds entries, flushed and closed.
func journalDir(t *testing.T, entries ...journal.Entry) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	j := journal.New(st, func() time.Time { return time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC) })
	for _, e := range entries {
		j.Record(e)
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// verifyDir runs "foyer journal verify" on dir, and gives what it printed.
func verifyDir(dir string) (string, error) {
	var out bytes.Buffer
	err := verifyJournal(config{data: dir, logFormat: "text", baseURL: "http://localhost:8080", idleTimeout: time.Minute, lifetime: time.Hour, shutdownTimeout: time.Second}, &out)
	return out.String(), err
}
