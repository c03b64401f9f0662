package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"
)

func TestBlobRoundTripEncryptedAndSeekable(t *testing.T) {
	s := openTest(t)
	data := make([]byte, 3*BlobChunkSize+123)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	marker := []byte("A plain sentence that must not be found in the data file.")
	copy(data[BlobChunkSize+5:], marker)
	b := Blob{Name: "x.pdf", StaffID: 1, CreatedAt: time.Now()}
	if err := s.CreateBlob(&b, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if b.Size != int64(len(data)) || !b.Complete || b.Chunks() != 4 {
		t.Fatalf("blob %+v", b)
	}
	r, err := s.OpenBlob(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := r.Seek(BlobChunkSize-10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 20)
	if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, data[BlobChunkSize-10:BlobChunkSize+10]) {
		t.Fatalf("read across a chunk boundary: %v", err)
	}
	var file bytes.Buffer
	if _, err := s.WriteBackup(&file); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file.Bytes(), marker) {
		t.Fatal("the data file holds the document in the clear")
	}
	if err := s.DeleteBlob(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenBlob(b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted blob: %v", err)
	}
	_ = s.db.View(func(tx *boltTx) error {
		if k, _ := tx.Bucket(bucketBlobChunks).Cursor().First(); k != nil {
			t.Fatal("chunks left after delete")
		}
		return nil
	})
}

func TestBlobTooLargeLeavesNothing(t *testing.T) {
	s := openTest(t)
	b := Blob{Name: "big.bin", CreatedAt: time.Now()}
	err := s.CreateBlob(&b, io.LimitReader(zeros{}, 2*BlobChunkSize+1), 2*BlobChunkSize)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
	_ = s.db.View(func(tx *boltTx) error {
		if k, _ := tx.Bucket(bucketBlobChunks).Cursor().First(); k != nil {
			t.Fatal("chunks left after a refused upload")
		}
		if k, _ := tx.Bucket(bucketBlobs).Cursor().First(); k != nil {
			t.Fatal("blob left after a refused upload")
		}
		return nil
	})
}

func TestAbandonedBlobs(t *testing.T) {
	s := openTest(t)
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kept := Blob{Name: "kept", CreatedAt: old}
	loose := Blob{Name: "loose", CreatedAt: old}
	recent := Blob{Name: "recent", CreatedAt: old.Add(48 * time.Hour)}
	for _, b := range []*Blob{&kept, &loose, &recent} {
		if err := s.CreateBlob(b, bytes.NewReader([]byte("hi")), 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AttachBlobs([]uint64{kept.ID}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.AbandonedBlobs(old.Add(24 * time.Hour))
	if err != nil || len(ids) != 1 || ids[0] != loose.ID {
		t.Fatalf("abandoned %v %v", ids, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// flattenChunks rewrites a blob's chunks as plain values of blob_chunks, the
// way files written before chunks had buckets of their own kept them.
func flattenChunks(t *testing.T, s *Store, id uint64) {
	t.Helper()
	err := s.db.Update(func(tx *boltTx) error {
		chunks := tx.Bucket(bucketBlobChunks)
		var keys [][]byte
		c := chunks.Cursor()
		for k, v := c.Seek(itob(id)); k != nil && bytes.HasPrefix(k, itob(id)); k, v = c.Next() {
			if v != nil {
				t.Fatal("a new chunk is a plain value")
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			v := append([]byte(nil), chunks.Bucket(k).Get(chunkValueKey)...)
			if err := chunks.DeleteBucket(k); err != nil {
				return err
			}
			if err := chunks.Put(k, v); err != nil {
				return err
			}
		}
		if len(keys) == 0 {
			t.Fatal("no chunks")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBlobsWrittenBeforeChunkBucketsStillReadAndDelete(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 2*BlobChunkSize+77)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	old := Blob{Name: "old", CreatedAt: time.Now()}
	if err := s.CreateBlob(&old, bytes.NewReader(data), 1<<30); err != nil {
		t.Fatal(err)
	}
	flattenChunks(t, s, old.ID)
	fresh := Blob{Name: "new", CreatedAt: time.Now()}
	if err := s.CreateBlob(&fresh, bytes.NewReader(data[:BlobChunkSize+1]), 1<<30); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// As a file from before the key was kept apart: its keys are wrapped at the next Open.
	makeLegacy(t, dir, "")
	if s, err = Open(dir, WithSecretKey("a secret key of more than thirty-two characters")); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		id   uint64
		want []byte
	}{{old.ID, data}, {fresh.ID, data[:BlobChunkSize+1]}} {
		r, err := s.OpenBlob(c.id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("blob %d after the keys were wrapped: %d bytes, %v", c.id, len(got), err)
		}
		if err := s.DeleteBlob(c.id); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.db.View(func(tx *boltTx) error {
		if k, _ := tx.Bucket(bucketBlobChunks).Cursor().First(); k != nil {
			t.Fatal("chunks left after delete")
		}
		return nil
	})
}

func TestBlobReaderWriteToAndCopyTo(t *testing.T) {
	s := openTest(t)
	data := make([]byte, 2*BlobChunkSize+10)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	b := Blob{Name: "x", CreatedAt: time.Now()}
	if err := s.CreateBlob(&b, bytes.NewReader(data), 1<<30); err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenBlob(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	if _, err := r.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n, err := r.CopyTo(&out, BlobChunkSize); err != nil || n != BlobChunkSize || !bytes.Equal(out.Bytes(), data[5:5+BlobChunkSize]) {
		t.Fatalf("CopyTo: %d %v", n, err)
	}
	out.Reset()
	if n, err := io.Copy(&out, r); err != nil || n != int64(len(data)-5-BlobChunkSize) || !bytes.Equal(out.Bytes(), data[5+BlobChunkSize:]) {
		t.Fatalf("WriteTo: %d %v", n, err)
	}
}
