package main

import (
	"bytes"
	"log/slog"
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
