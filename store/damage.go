package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// A data file whose pages are not what bbolt wrote (a failing disk, a copy
// cut or changed by hand) makes bbolt panic where it meets them rather than
// return an error: an assertion on the page's header, an index taken from
// garbage, a read past the end of the mapped file. This file turns those
// panics into a *DamagedError naming the file, where Foyer can catch them:
//
//   - every transaction (gatedDB) and the opening of the file (OpenFile)
//     recover a panic that comes from inside bbolt, and memory faults are
//     made panics for their length (debug.SetPanicOnFault), so a read past
//     the end of a truncated file is caught too;
//   - one panic cannot be caught in this process: when the file has no
//     freelist written (after a crash, and in every backup, which is written
//     from a read transaction), bbolt.Open finds the free pages by walking
//     every page in a goroutine of its own, where a panic ends the program.
//     So before such an open, checkPages walks the same pages here first,
//     where a panic is caught; bbolt's own walk then meets nothing it has
//     not already been shown. A file with its freelist (the usual start,
//     after a clean stop) is not walked: that would cost the start 0.13 to
//     0.36 s at 100,000 clients with the file in the page cache, seconds
//     without, and a page damaged there is met, and caught, by the
//     transaction that reads it.

// ErrDamaged is what a *DamagedError wraps.
var ErrDamaged = errors.New("store: the data file is damaged")

// DamagedError says which data file is damaged and what was found.
type DamagedError struct {
	Path    string
	Problem string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("store: the data file %s is damaged (%s)", e.Path, e.Problem)
}

// Unwrap makes a DamagedError an ErrDamaged.
func (e *DamagedError) Unwrap() error { return ErrDamaged }

// damage turns a value recovered from a panic into a *DamagedError when the
// panic is the data file's doing: raised inside bbolt, or a memory fault
// (the mapped file). Any other panic is a bug of Foyer's and goes on up.
// It must be called from the deferred function that recovered r, while
// the frames of the panic are still on the stack.
func damage(path string, r any) error {
	if _, fault := r.(interface{ Addr() uintptr }); fault {
		return &DamagedError{Path: path, Problem: "a page it refers to cannot be read: the file may be cut short"}
	}
	if !panickedInBolt() {
		panic(r)
	}
	return &DamagedError{Path: path, Problem: strings.TrimPrefix(fmt.Sprint(r), "runtime error: ")}
}

// panickedInBolt reports whether the panic being handled was raised by
// bbolt's code: the first frame under runtime.gopanic that is not the
// runtime's own (an index out of range, a fault) is bbolt's.
func panickedInBolt() bool {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	inPanic := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			inPanic = true
		case inPanic && !strings.HasPrefix(f.Function, "runtime."):
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt.") || strings.HasPrefix(f.Function, "go.etcd.io/bbolt/")
		}
		if !more {
			return false
		}
	}
}

// guarded runs fn with memory faults made panics and the data file's
// panics made errors (see damage).
func guarded(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damage(path, r)
		}
	}()
	return fn()
}

// checkPages reads every page the data file's buckets reach, in this
// goroutine: every key and value of every bucket (keys in order), and the
// first and last byte of each value, so a large one's last page is mapped
// and there. Call it through guarded.
//
// It follows what bbolt's walk follows (the children a branch page names,
// the records a leaf holds) but reads no key of a branch page, which only
// bbolt's check compares: a branch page whose header and children are whole
// but whose key offsets alone are damaged can still end the program in that
// walk. Seeking every key to read them too made the check five times
// slower (0.8 to 1.5 s at 100,000 clients, against 0.13 to 0.36 s); a
// damaged range of bytes, as disks and copies make, spoils a page header or
// a child's number, and is found here.
func checkPages(tx *bolt.Tx) error {
	var walk func(b *bolt.Bucket, name []byte) error
	walk = func(b *bolt.Bucket, name []byte) error {
		c := b.Cursor()
		var sum byte
		var prev []byte
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if prev != nil && bytes.Compare(prev, k) >= 0 {
				return fmt.Errorf("bucket %q: key %x is out of order", name, k)
			}
			prev = k
			if v == nil {
				child := b.Bucket(k)
				if child == nil {
					return fmt.Errorf("bucket %q: key %x has no value", name, k)
				}
				if err := walk(child, k); err != nil {
					return err
				}
			} else if len(v) > 0 {
				sum ^= v[0] ^ v[len(v)-1]
			}
		}
		runtime.KeepAlive(sum) // the bytes are read, not optimised away
		return nil
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(b, name) })
}

// CheckPages opens the data file at path read-only and reads every page
// its buckets reach (see checkPages), returning a *DamagedError if one is
// not what bbolt wrote. A file a running Foyer holds is ErrLocked.
func CheckPages(path string) error {
	if err := checkLength(path); err != nil {
		return err
	}
	return guarded(path, func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return openError(path, err)
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error {
			if err := checkPages(tx); err != nil {
				return &DamagedError{Path: path, Problem: err.Error()}
			}
			return nil
		})
	})
}

// metaSize is how much of a meta page readMeta reads: the page header (16
// bytes) and bbolt's meta (64 bytes: magic, version, page size, flags, root
// bucket, freelist, high water mark, txid, checksum).
const metaSize = 16 + 64

// fileMeta is what the meta page bbolt would pick says of its file.
type fileMeta struct {
	pageSize uint32
	// pages is the high water mark: the file holds at least this many pages.
	pages    uint64
	freelist uint64
	txid     uint64
	ok       bool
}

// readMeta reads the newer valid one of the data file's two meta pages, as
// bbolt picks it; ok is false when neither is valid.
func readMeta(f *os.File) fileMeta {
	var best fileMeta
	// Meta 0 says the page size, which says where meta 1 is.
	offset := int64(0)
	for i := 0; i < 2; i++ {
		buf := make([]byte, metaSize)
		if _, err := f.ReadAt(buf, offset); err != nil {
			return best
		}
		m := buf[16:]
		magic, version := binary.NativeEndian.Uint32(m[0:]), binary.NativeEndian.Uint32(m[4:])
		h := fnv.New64a()
		h.Write(m[:56])
		if magic == 0xED0CDAED && version == 2 && h.Sum64() == binary.NativeEndian.Uint64(m[56:]) {
			if txid := binary.NativeEndian.Uint64(m[48:]); !best.ok || txid > best.txid {
				best = fileMeta{pageSize: binary.NativeEndian.Uint32(m[8:]), freelist: binary.NativeEndian.Uint64(m[32:]),
					pages: binary.NativeEndian.Uint64(m[40:]), txid: txid, ok: true}
			}
		}
		if i == 0 {
			size := binary.NativeEndian.Uint32(m[8:])
			if magic != 0xED0CDAED || size < 1024 || size > 1<<20 {
				size = uint32(os.Getpagesize())
			}
			offset = int64(size)
		}
	}
	return best
}

// freelistWritten reports whether the data file at path holds its
// freelist: when it does not, opening it walks every page. It answers false
// when it cannot tell, so the file is checked before bbolt walks it.
func freelistWritten(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	const noFreelist = ^uint64(0) // bbolt's PgidNoFreelist
	m := readMeta(f)
	return m.ok && m.freelist != noFreelist
}

// checkLength checks, before bbolt maps it, that the data file at path
// (which exists and is not empty) is a bbolt file as long as its meta page
// says. bbolt maps the file and reads its pages where they should be: a
// file cut short (a copy onto a full disk, a download cut) is a read past
// its end, a bus error that ends the program in whichever goroutine meets
// it, bbolt's own at open included.
func checkLength(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: unable to open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: unable to open %s: %w", path, err)
	}
	m := readMeta(f)
	if !m.ok {
		return &DamagedError{Path: path, Problem: "its first pages are not those of a data file: it is not one, or they were overwritten"}
	}
	if need := m.pages * uint64(m.pageSize); uint64(fi.Size()) < need {
		return &DamagedError{Path: path, Problem: fmt.Sprintf("it is cut short: %d bytes, where its own pages say %d; a copy or a download was not finished", fi.Size(), need)}
	}
	return nil
}

// openError says why bbolt could not open a file.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return ErrLocked
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return &DamagedError{Path: path, Problem: err.Error()}
	}
	return fmt.Errorf("store: unable to open %s: %w", path, err)
}
