package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"foyer/store"
)

// Source is where a restore reads copies from: the storage, a copy on
// this machine, or a directory of them.
type Source interface {
	List(ctx context.Context) ([]Copy, error)
	Get(ctx context.Context, name string) (io.ReadCloser, error)
}

// OpenSource is the source -from names: an s3:// URL as FOYER_BACKUP_URL
// reads them, or a path on this machine, to a copy (one downloaded from
// the storage, or from Settings → Download a backup, or written by foyer
// backup) or to a directory of copies. It also returns how to name the
// source in messages: an s3:// URL without its secret.
func OpenSource(from string) (Source, string, error) {
	if strings.HasPrefix(from, "s3://") {
		t, err := ParseURL(from)
		if err != nil {
			return nil, "", err
		}
		r, err := NewRemote(t)
		if err != nil {
			return nil, t.String(), err
		}
		return r, t.String(), nil
	}
	if scheme, _, ok := strings.Cut(from, "://"); ok && !strings.ContainsAny(scheme, "/.") {
		return nil, "", fmt.Errorf("-from %s: a restore reads s3:// URLs (as FOYER_BACKUP_URL) and copies on this machine, not %s://; download the copy first", redactURL(from), scheme)
	}
	fi, err := os.Stat(from)
	if err != nil {
		return nil, from, fmt.Errorf("-from %s: no copy there (%w)", from, errors.Unwrap(err))
	}
	if fi.IsDir() {
		return DirSource(from), from, nil
	}
	return FileSource(from), from, nil
}

// redactURL is a URL with its password, if any, hidden.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// FileSource is one copy on this machine.
type FileSource string

// List gives the file as the only copy, dated by its name when it has a
// copy's name (else by its modification time).
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

// DirSource is a directory of copies on this machine (a bucket synced to a
// disk, downloads kept together): the files named as copies are.
type DirSource string

// List gives the copies in the directory, oldest first.
func (d DirSource) List(context.Context) ([]Copy, error) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil, err
	}
	var out []Copy
	for _, e := range entries {
		t, ok := parseName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, Copy{Name: e.Name(), Time: t, Size: fi.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// Get opens the copy name in the directory.
func (d DirSource) Get(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(d), name))
}

// ErrNoCopy is returned when no copy matches.
var ErrNoCopy = errors.New("backup: no copy there")

// ErrDataExists is returned when the data directory already holds a data file and force is not set.
var ErrDataExists = errors.New("backup: the data directory already holds a data file")

// ErrInUse is returned when a running Foyer holds the data file to be replaced.
var ErrInUse = errors.New("backup: a running Foyer uses the data directory")

// ErrDamaged is returned when the copy is not whole: cut short, changed, or
// holding a data file with a damaged page.
var ErrDamaged = errors.New("backup: the copy is damaged")

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
// it), writes its list of free pages (store.WriteFreelist: the first start
// then opens it as after a clean stop) and only then puts it in place as
// dataDir/foyer.db, with the key beside it in secret.key. A data directory that already holds a data file
// is refused unless force is set; then the files there are kept aside under
// a dated name, never deleted.
func Restore(ctx context.Context, src Source, at time.Time, dataDir, key string, force bool, now time.Time) (out Restored, err error) {
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
	// A data directory made for this restore goes again when it fails, so a
	// failed restore leaves nothing behind (Remove takes only an empty one).
	if _, serr := os.Stat(dataDir); errors.Is(serr, os.ErrNotExist) {
		defer func() {
			if err != nil {
				os.Remove(dataDir)
			}
		}()
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return out, err
	}
	// The copy decrypted: the practice's data in the clear until it is in
	// place. Removed on every way out (once renamed, the remove finds
	// nothing), and on Ctrl-C, which ends ctx (see main).
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
		var de *store.DamagedError
		if errors.As(err, &de) {
			return out, fmt.Errorf("%w: %s", ErrDamaged, de.Problem)
		}
		return out, err
	}
	if err := store.WriteFreelist(tmp.Name()); err != nil {
		return out, err
	}
	if err := ctx.Err(); err != nil {
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
	rc, err := src.Get(ctx, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	r := bufio.NewReader(ctxReader{ctx, rc})
	if head, _ := r.Peek(24); isPlain(head) {
		// A plain data file: a download of an older Foyer, or a copy
		// decrypted by hand. It is checked as any other.
		if _, err := io.Copy(f, r); err != nil {
			return err
		}
		return f.Sync()
	}
	if err := decrypt(f, r, key); err != nil {
		if strings.Contains(err.Error(), "no identity matched") || strings.Contains(err.Error(), "incorrect passphrase") {
			return fmt.Errorf("%w (the copy %s was made with another secret key)", err, name)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return f.Sync()
}

// ctxReader reads r until ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
