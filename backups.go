package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"foyer/backup"
	"foyer/store"
)

// listBackups prints the off-site copies at -backup-url, oldest first.
func listBackups(cfg config, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.backupURL == "" {
		return errors.New("no off-site backups to list: give the storage with -backup-url or FOYER_BACKUP_URL")
	}
	target, _ := backup.ParseURL(cfg.backupURL)
	remote, err := backup.NewRemote(target)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	copies, err := remote.List(ctx)
	if err != nil {
		return fmt.Errorf("the copies at %s cannot be listed (%s): %s", target, backup.Classify(err), target.Redact(err))
	}
	switch len(copies) {
	case 0:
		fmt.Fprintf(out, "No copy at %s yet.\n", target)
	case 1:
		fmt.Fprintf(out, "1 copy at %s:\n", target)
	default:
		fmt.Fprintf(out, "%d copies at %s, oldest first:\n", len(copies), target)
	}
	for _, c := range copies {
		fmt.Fprintf(out, "  %s  %10s  %s\n", c.Time.Local().Format("2006-01-02 15:04 MST"), humanSize(c.Size), c.Name)
	}
	fmt.Fprintln(out, restoreNeedsKey(cfg))
	return nil
}

// restoreNeedsKey says that a restore needs the secret key, and where it is.
func restoreNeedsKey(cfg config) string {
	keyFile := filepath.Join(cfg.data, store.KeyFileName)
	if key, err := store.ReadKeyFile(keyFile); err == nil {
		return fmt.Sprintf("A restore needs the secret key %s: it is in %s (and on the recovery sheet).", store.SecretKeyID(key), keyFile)
	}
	if cfg.secretKey != "" {
		return fmt.Sprintf("A restore needs the secret key %s: FOYER_SECRET_KEY.", store.SecretKeyID(store.ParseSecretKey(cfg.secretKey)))
	}
	return "A restore needs the secret key the copies were made with: secret.key beside the data file, or the recovery sheet."
}

// restore brings an off-site copy back into -data.
func restore(cfg config, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	from := cfg.restoreFrom
	if from == "" {
		from = cfg.backupURL
	}
	if from == "" {
		return errors.New("restore from where? Give -from s3://… (or a copy downloaded to this machine), or FOYER_BACKUP_URL")
	}
	var key string
	switch {
	case cfg.keyFile != "":
		var err error
		if key, err = store.ReadKeyFile(cfg.keyFile); err != nil {
			return fmt.Errorf("-key-file: %w", err)
		}
	case cfg.secretKey != "":
		key = cfg.secretKey
	default:
		return errors.New("a restore needs the secret key the copy was made with: -key-file FILE (a kept secret.key, or the key of the recovery sheet typed into a file), or FOYER_SECRET_KEY")
	}
	at, err := parseAt(cfg.restoreAt, time.Local)
	if err != nil {
		return err
	}
	src, where, err := backup.OpenSource(from)
	if err != nil {
		return err
	}
	// Ctrl-C ends the restore through its clean-up: the decrypted copy it
	// was writing is removed, not left in the data directory.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	r, err := backup.Restore(ctx, src, at, cfg.data, key, cfg.force, time.Now())
	var ke *store.KeyError
	switch {
	case errors.Is(err, backup.ErrDataExists):
		return fmt.Errorf("%s already holds a data file: restore into an empty directory, or add -force to keep the current files aside (renamed, never deleted)", cfg.data)
	case errors.Is(err, backup.ErrInUse):
		return fmt.Errorf("a Foyer server is running on %s: stop it first", cfg.data)
	case errors.Is(err, backup.ErrNoCopy) && !at.IsZero():
		return fmt.Errorf("no copy taken at or before %s at %s: foyer backups lists them", at.Format(time.RFC3339), where)
	case errors.Is(err, backup.ErrNoCopy):
		return fmt.Errorf("no copy at %s (copies are named foyer-YYYYMMDDTHHMMSSZ.db.zst.age)", where)
	case err != nil && r.Copy.Name == "":
		return fmt.Errorf("the copies at %s cannot be read, nothing was changed: %s", where, redact(src, err))
	case errors.As(err, &ke):
		return fmt.Errorf("the copy %s was made with the secret key %s, not with %s: nothing was changed", r.Copy.Name, ke.Need, ke.Have)
	case errors.Is(err, backup.ErrDamaged):
		if _, one := src.(backup.FileSource); one {
			return fmt.Errorf("the copy %s is damaged, nothing was changed (%s): restore another copy", r.Copy.Name, redact(src, err))
		}
		return fmt.Errorf("the copy %s is damaged, nothing was changed (%s): try an older one with -at (foyer backups lists them)", r.Copy.Name, redact(src, err))
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("the restore of %s was stopped, nothing was changed", r.Copy.Name)
	case err != nil:
		return fmt.Errorf("the copy %s was not restored, nothing was changed: %s", r.Copy.Name, redact(src, err))
	}
	fmt.Fprintf(out, "Restored %s (taken %s, %s) into %s, checked, in %s.\n", r.Copy.Name, r.Copy.Time.Local().Format("2006-01-02 15:04 MST"),
		humanSize(r.Copy.Size), r.Path, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(out, "The secret key is in %s.\n", r.KeyFile)
	for _, a := range r.Aside {
		fmt.Fprintf(out, "Kept aside: %s\n", a)
	}
	fmt.Fprintf(out, "Start Foyer with -data %s.\n", cfg.data)
	return nil
}

// redact is err's text without the storage's secret, when src is the storage.
func redact(src backup.Source, err error) string {
	if r, ok := src.(*backup.Remote); ok {
		return r.Target().Redact(err)
	}
	return err.Error()
}

// parseAt reads -at: a date (its end), a date and time, or RFC 3339.
func parseAt(v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
	}
	return time.Time{}, fmt.Errorf("-at %q is not a time such as 2026-03-02, 2026-03-02T14:00 or 2026-03-02T14:00:00+01:00", v)
}

// humanSize writes bytes in binary units.
func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
