// Package storetest damages data files as a failing disk or a careless copy
// would, for the tests of what Foyer does with such a file.
package storetest

import (
	"encoding/binary"
	"hash/fnv"
	"os"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// DamageBucket XORs 2,000 bytes from the start of the first page of
// bucket's records in the data file at path (which no one holds open), and
// returns that page's number: a page only a read of those records, or a
// walk of the whole file, reaches.
func DamageBucket(t testing.TB, path, bucket string) uint64 {
	t.Helper()
	pgid, pageSize := bucketPage(t, path, bucket)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 2000)
	off := int64(pgid) * int64(pageSize)
	if _, err := f.ReadAt(buf, off); err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] ^= 0x5a
	}
	if _, err := f.WriteAt(buf, off); err != nil {
		t.Fatal(err)
	}
	return pgid
}

// PointRootAt rewrites both meta pages of the data file at path (which no
// one holds open) so that its root is the first page of bucket's records,
// as in pieces of two copies joined, where the meta pages of one point at
// whatever the other holds there. The file stays a valid bbolt file whose
// root holds none of the buckets it had.
func PointRootAt(t testing.TB, path, bucket string) {
	t.Helper()
	pgid, pageSize := bucketPage(t, path, bucket)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A meta page: a 16-byte page header, then magic, version, page size,
	// flags (4 bytes each), the root bucket's page and sequence, ...; its
	// last 8 bytes are the FNV-1a checksum of the 56 before them.
	for _, off := range []int64{0, int64(pageSize)} {
		meta := make([]byte, 64)
		if _, err := f.ReadAt(meta, off+16); err != nil {
			t.Fatal(err)
		}
		binary.NativeEndian.PutUint64(meta[16:], pgid)
		h := fnv.New64a()
		h.Write(meta[:56])
		binary.NativeEndian.PutUint64(meta[56:], h.Sum64())
		if _, err := f.WriteAt(meta, off+16); err != nil {
			t.Fatal(err)
		}
	}
}

// bucketPage is the number of the first page of bucket's records in the
// data file at path, and the file's page size.
func bucketPage(t testing.TB, path, bucket string) (uint64, int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var pgid uint64
	err = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			pgid = uint64(b.Root())
		}
		return nil
	})
	pageSize := db.Info().PageSize
	db.Close()
	if err != nil || pgid == 0 {
		t.Fatalf("bucket %s has no page of its own (missing, or inline): %v", bucket, err)
	}
	return pgid, pageSize
}
