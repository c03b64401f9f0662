package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"foyer/backup"
	"foyer/backup/s3test"
	"foyer/store"
)

// TestRestoreMessagesHideTheSecret: what foyer restore and foyer backups
// print names the storage as the server log and Settings do, without its
// secret; and -from that is no copy says so plainly.
func TestRestoreMessagesHideTheSecret(t *testing.T) {
	srv := s3test.Start(t)
	data := t.TempDir()
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := st.KeyFile()
	st.Close()
	cfg := config{data: filepath.Join(t.TempDir(), "restored"), keyFile: keyFile, logFormat: "text", idleTimeout: time.Minute, lifetime: time.Hour, shutdownTimeout: time.Second}
	url := s3test.URL(srv.Addr, "cabinet")
	for _, tc := range []struct {
		from, at, want string
	}{
		{url, "2020-01-01", "no copy taken at or before"},
		{url, "", "no copy at http://" + srv.Addr + "/" + s3test.Bucket + "/cabinet"},
		{"http://user:" + s3test.Secret + "@example.org/copy.age", "", "s3://"},
		{t.TempDir(), "", "no copy at"},
		{filepath.Join(t.TempDir(), "missing.age"), "", "no copy there"},
	} {
		c := cfg
		c.restoreFrom, c.restoreAt = tc.from, tc.at
		err := restore(c, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), s3test.Secret) || strings.Contains(err.Error(), "copy  ") {
			t.Errorf("restore -from %s -at %q: %v", tc.from, tc.at, err)
		}
	}

	// One copy is one copy.
	b, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := backup.ParseURL(url)
	bk, err := backup.New(b, target, time.Hour, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bk.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.Close()
	var out bytes.Buffer
	lc := cfg
	lc.data, lc.backupURL, lc.backupEvery = data, url, time.Hour
	if err := listBackups(lc, &out); err != nil || !strings.Contains(out.String(), "1 copy at http://") || strings.Contains(out.String(), s3test.Secret) {
		t.Fatalf("foyer backups: %v\n%s", err, out.String())
	}
}

// TestBackupCommandWritesAnEncryptedCopy: foyer backup writes a copy in the
// format of the off-site ones, which holds nothing in the clear and which
// foyer restore brings back with the key.
func TestBackupCommandWritesAnEncryptedCopy(t *testing.T) {
	data := t.TempDir()
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	c := store.Client{FirstName: "Éloïse", LastName: "Confidentielle", Lang: "fr", Notes: "angoisses nocturnes depuis mars"}
	if err := st.CreateClient(&c); err != nil {
		t.Fatal(err)
	}
	keyFile := st.KeyFile()
	st.Close()
	cfg := config{data: data, logFormat: "text", idleTimeout: time.Minute, lifetime: time.Hour, shutdownTimeout: time.Second}

	dir := t.TempDir()
	if err := backupFile(cfg, dir); err != nil {
		t.Fatal(err)
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(written) != 1 || !strings.HasSuffix(written[0], ".db.zst.age") || !strings.HasPrefix(filepath.Base(written[0]), "foyer-") {
		t.Fatalf("foyer backup DIR wrote %v", written)
	}
	raw, err := os.ReadFile(written[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) || bytes.Contains(raw, []byte("Confidentielle")) || bytes.Contains(raw, []byte("angoisses")) {
		t.Fatalf("the copy is not encrypted: %q", raw[:40])
	}
	named := filepath.Join(t.TempDir(), "before-upgrade.age")
	if err := backupFile(cfg, named); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{written[0], named} {
		rc := cfg
		rc.data, rc.restoreFrom, rc.keyFile = filepath.Join(t.TempDir(), "restored"), from, keyFile
		var out bytes.Buffer
		if err := restore(rc, &out); err != nil {
			t.Fatalf("restore -from %s: %v", from, err)
		}
		back, err := store.Open(rc.data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := back.Client(c.ID)
		back.Close()
		if err != nil || got.Notes != c.Notes {
			t.Fatalf("restored client: %+v %v", got, err)
		}
	}
	// A copy cut short is damaged; the message does not send the reader to
	// -at, which picks among off-site copies, not within one file.
	cut := filepath.Join(t.TempDir(), "cut.db.zst.age")
	if err := os.WriteFile(cut, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	rc := cfg
	rc.data, rc.restoreFrom, rc.keyFile = filepath.Join(t.TempDir(), "restored"), cut, keyFile
	err = restore(rc, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "is damaged, nothing was changed") || strings.Contains(err.Error(), "-at") {
		t.Fatalf("restore of a cut copy: %v", err)
	}
	if _, serr := os.Stat(rc.data); !os.IsNotExist(serr) {
		t.Fatalf("a failed restore left its data directory: %v", serr)
	}
}
