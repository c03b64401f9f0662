package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"foyer/store"
)

// Source is where a restore reads copies from: the storage, or a copy
// downloaded by hand.
type Source interface {
	List(ctx context.Context) ([]Copy, error)
	Get(ctx context.Context, name string) (io.ReadCloser, error)
}

// FileSource is one copy on this machine (a file downloaded from the storage).
type FileSource string

// List gives the file as the only copy, dated by its name when it has a
// copy's name.
func (f FileSource) List(context.Context) ([]Copy, error) {
	fi, err := os.Stat(string(f))
	if err != nil {
		return nil, err
	}
	t, ok := parseName(filepath.Base(string(f)))
	if !ok {
		t = fi.ModTime()
	}
	return []Copy{{Name: filepath.Base(string(f)), Time: t, Size: fi.Size()}}, nil
}

// Get opens the file.
func (f FileSource) Get(context.Context, string) (io.ReadCloser, error) { return os.Open(string(f)) }

// ErrNoCopy is returned when no copy matches.
var ErrNoCopy = errors.New("backup: no copy there")

// ErrDataExists is returned when the data directory already holds a data file and force is not set.
var ErrDataExists = errors.New("backup: the data directory already holds a data file")

// ErrInUse is returned when a running Foyer holds the data file to be replaced.
var ErrInUse = errors.New("backup: a running Foyer uses the data directory")

// Pick is the newest copy taken at or before at (the newest of all when at is zero).
func Pick(copies []Copy, at time.Time) (Copy, error) {
	var best Copy
	found := false
	for _, c := range copies {
		if (at.IsZero() || !c.Time.After(at)) && (!found || c.Time.After(best.Time)) {
			best, found = c, true
		}
	}
	if !found {
		return best, ErrNoCopy
	}
	return best, nil
}

// Restored says what a restore did.
type Restored struct {
	Copy Copy
	// Path is the data file written; KeyFile the secret key written beside it.
	Path, KeyFile string
	// Aside are the files that were there before, kept under another name (-force).
	Aside []string
}

// Restore fetches the copy of src taken at or before at (the newest when at
// is zero), decrypts it with key, checks it (every page, and that key opens
// it) and only then puts it in place as dataDir/foyer.db, with the key
// beside it in secret.key. A data directory that already holds a data file
// is refused unless force is set; then the files there are kept aside under
// a dated name, never deleted.
func Restore(ctx context.Context, src Source, at time.Time, dataDir, key string, force bool, now time.Time) (Restored, error) {
	var out Restored
	key = store.ParseSecretKey(key)
	dbPath := filepath.Join(dataDir, store.FileName)
	out.Path, out.KeyFile = dbPath, filepath.Join(dataDir, store.KeyFileName)
	if _, err := os.Stat(dbPath); err == nil {
		if !force {
			return out, ErrDataExists
		}
		if store.InUse(dbPath) {
			return out, ErrInUse
		}
	}
	copies, err := src.List(ctx)
	if err != nil {
		return out, err
	}
	if out.Copy, err = Pick(copies, at); err != nil {
		return out, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return out, err
	}
	tmp, err := os.CreateTemp(dataDir, ".restore-*")
	if err != nil {
		return out, err
	}
	defer os.Remove(tmp.Name())
	err = fetch(ctx, src, out.Copy.Name, tmp, key)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return out, err
	}
	if err := store.CheckFile(tmp.Name(), key); err != nil {
		return out, err
	}

	suffix := ".before-restore-" + now.UTC().Format(nameLayout)
	for _, p := range []string{dbPath, out.KeyFile} {
		if _, err := os.Stat(p); err == nil && force {
			if err := os.Rename(p, p+suffix); err != nil {
				return out, err
			}
			out.Aside = append(out.Aside, p+suffix)
		}
	}
	if err := store.WriteKeyFile(out.KeyFile, key); err != nil {
		return out, err
	}
	if err := os.Rename(tmp.Name(), dbPath); err != nil {
		return out, err
	}
	d, err := os.Open(dataDir)
	if err == nil {
		err = d.Sync()
		d.Close()
	}
	return out, err
}

// fetch writes the decrypted copy name of src to f, durably.
func fetch(ctx context.Context, src Source, name string, f *os.File, key string) error {
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	r, err := src.Get(ctx, name)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := decrypt(f, r, key); err != nil {
		if strings.Contains(err.Error(), "no identity matched") || strings.Contains(err.Error(), "incorrect passphrase") {
			return fmt.Errorf("%w (the copy %s was made with another secret key)", err, name)
		}
		return err
	}
	return f.Sync()
}
