package store

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A blob is a file kept in the store in encrypted chunks, so a backup stays one
// file and a stolen data file (with FOYER_SECRET_KEY set) reveals no document.

// BlobChunkSize is the plain size of every chunk but the last.
const BlobChunkSize = 256 << 10

// blobChunksPerTx is how many chunks one write transaction holds: small enough
// that another write waits a few milliseconds and that little is held for the
// commit (bbolt allocates the pages it writes on the heap), large enough to
// keep commits (two fsyncs each) few. 4 kept 4-6 MB live during an upload.
const blobChunksPerTx = 2

// ErrTooLarge is returned by CreateBlob when the data is longer than allowed.
var ErrTooLarge = errors.New("store: too large")

// Blob describes a stored file.
type Blob struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	// StaffID uploaded it; only they may attach it to a share.
	StaffID uint64 `json:"staff_id"`
	// Complete is set with the last chunk: only then is the blob visible.
	Complete bool `json:"complete"`
	// Attached is set once a share holds the blob; unattached blobs are purged after a day.
	Attached  bool      `json:"attached,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Chunks is how many chunks the blob has.
func (b Blob) Chunks() int64 { return (b.Size + BlobChunkSize - 1) / BlobChunkSize }

func chunkKey(id uint64, n int64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, id)
	binary.BigEndian.PutUint64(k[8:], uint64(n))
	return k
}

// chunkValueKey is the one key in a chunk's bucket.
var chunkValueKey = []byte{0}

// putChunk stores a sealed chunk in a bucket of its own under blob_chunks.
//
// A bbolt leaf holds at least two keys, and up to four before it splits, so
// with the chunks side by side as plain values every write transaction wrote
// the last leaf again with the two or three chunks already in it: 50 MiB
// uploaded wrote about 100 MB, all of it allocated on the heap for the
// commit. In a bucket of its own each chunk is written once; the leaves of
// blob_chunks hold only the small bucket headers.
func putChunk(chunks *bolt.Bucket, key, sealed []byte) error {
	b, err := chunks.CreateBucket(key)
	if err != nil {
		return err
	}
	return b.Put(chunkValueKey, sealed)
}

// getChunk returns a sealed chunk (nil when missing), whether it sits in a
// bucket of its own or, as blobs written before did, as a plain value. The
// bytes are the data file's: valid only inside the transaction.
func getChunk(chunks *bolt.Bucket, key []byte) []byte {
	if b := chunks.Bucket(key); b != nil {
		return b.Get(chunkValueKey)
	}
	return chunks.Get(key)
}

// blobCipher is the AES-GCM for chunks, under a key derived from the seal key.
func (s *Store) blobCipher() cipher.AEAD {
	s.blobOnce.Do(func() { s.blobAEAD = chunkCipher(s.sealKey) })
	return s.blobAEAD
}

func chunkCipher(sealKey []byte) cipher.AEAD {
	m := hmac.New(sha256.New, sealKey)
	m.Write([]byte("foyer blob chunks v1"))
	aead, err := newAEAD(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key always makes an AES-256 cipher
	}
	return aead
}

// gcmNonceSize and gcmTagSize are the sizes AES-GCM (cipher.NewGCM) adds to a chunk.
const (
	gcmNonceSize = 12
	gcmTagSize   = 16
	// sealedChunkSize is the stored size of a full chunk.
	sealedChunkSize = gcmNonceSize + BlobChunkSize + gcmTagSize
)

// chunkBufs keeps buffers of one sealed chunk. Uploads and downloads of large
// files would otherwise make 256 KiB of garbage per chunk (twice over on
// read), and the garbage collector lets the heap grow to twice what is live
// before it runs: the process's memory rose by tens of MB during a transfer.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, sealedChunkSize); return &b }}

// sealChunkInPlace encrypts the plain bytes in buf[gcmNonceSize:gcmNonceSize+n]
// where they lie and returns the sealed chunk (nonce, ciphertext, tag), a
// prefix of buf. The key binds the chunk to its blob and position so chunks
// cannot be swapped.
func (s *Store) sealChunkInPlace(key, buf []byte, n int) []byte {
	aead := s.blobCipher()
	nonce := buf[:aead.NonceSize()]
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	// Seal appends to nonce, over the plain bytes: an exact overlap, which AEADs allow.
	return aead.Seal(nonce, nonce, buf[len(nonce):len(nonce)+n], key)
}

// openChunkInto decrypts a sealed chunk into dst[:0] and returns the plain bytes.
// sealed may be memory of the data file: it is only read.
func (s *Store) openChunkInto(dst, key, sealed []byte) ([]byte, error) {
	aead := s.blobCipher()
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("store: chunk too short")
	}
	plain, err := aead.Open(dst[:0], sealed[:aead.NonceSize()], sealed[aead.NonceSize():], key)
	if err != nil {
		return nil, fmt.Errorf("store: unable to open chunk: %w", err)
	}
	return plain, nil
}

// CreateBlob streams r into the store: chunk by chunk, a few chunks per short
// write transaction, never the whole file in memory. It reads at most max bytes;
// beyond that, or on a read error, it removes what it wrote and returns ErrTooLarge
// (or the error). b.ID, b.Size and b.Complete are set.
//
// Each chunk is read into a pooled buffer and sealed where it lies. bbolt keeps
// a reference to a value until its transaction commits, so the buffers of a
// batch go back to the pool only after the commit.
func (s *Store) CreateBlob(b *Blob, r io.Reader, max int64) error {
	b.Complete, b.Size = false, 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		id, err := tx.Bucket(bucketBlobs).NextSequence()
		if err != nil {
			return err
		}
		b.ID = id
		return putJSON(tx, bucketBlobs, itob(id), b)
	})
	if err != nil {
		return err
	}
	var held [blobChunksPerTx]*[]byte
	var batch [blobChunksPerTx][]byte
	nb := 0
	release := func() {
		for i := range nb {
			chunkBufs.Put(held[i])
			held[i], batch[i] = nil, nil
		}
		nb = 0
	}
	defer release()
	fail := func(err error) error {
		release()
		if derr := s.DeleteBlob(b.ID); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	var n, next int64 // bytes read, index of the next chunk to write
	for done := false; !done; {
		for nb < blobChunksPerTx {
			bp := chunkBufs.Get().(*[]byte)
			buf := *bp
			k, err := io.ReadFull(r, buf[gcmNonceSize:gcmNonceSize+BlobChunkSize])
			if k > 0 {
				if n+int64(k) > max {
					chunkBufs.Put(bp)
					return fail(ErrTooLarge)
				}
				held[nb], batch[nb] = bp, s.sealChunkInPlace(chunkKey(b.ID, n/BlobChunkSize), buf, k)
				nb++
				n += int64(k)
			} else {
				chunkBufs.Put(bp)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				done = true
				break
			}
			if err != nil {
				return fail(err)
			}
		}
		if nb == 0 {
			break
		}
		first := next
		next += int64(nb)
		err := s.db.Update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketBlobChunks)
			for i, sealed := range batch[:nb] {
				if err := putChunk(c, chunkKey(b.ID, first+int64(i)), sealed); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
		release() // committed (or rolled back): bbolt holds the values no longer
	}
	b.Size, b.Complete = n, true
	if err := s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketBlobs, itob(b.ID), b) }); err != nil {
		return fail(err)
	}
	return nil
}

// Blob loads a blob's description; an incomplete blob is not found.
func (s *Store) Blob(id uint64) (Blob, error) {
	var b Blob
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketBlobs, itob(id), &b) })
	if err == nil && !b.Complete {
		return Blob{}, ErrNotFound
	}
	return b, err
}

// AttachBlobs marks blobs as held by a share, so the purge of abandoned uploads leaves them.
func (s *Store) AttachBlobs(ids []uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			var b Blob
			if err := getJSON(tx, bucketBlobs, itob(id), &b); err != nil {
				return err
			}
			b.Attached = true
			if err := putJSON(tx, bucketBlobs, itob(id), b); err != nil {
				return err
			}
		}
		return nil
	})
}

// blobDeleteBatch is how many chunks one transaction deletes.
const blobDeleteBatch = 64

// DeleteBlob removes a blob and its chunks, a batch of chunks per transaction.
// The description goes first, so a half-deleted blob is never served.
func (s *Store) DeleteBlob(id uint64) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlobs).Delete(itob(id)) }); err != nil {
		return err
	}
	for {
		more := false
		err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			more, err = deleteChunks(tx, id, blobDeleteBatch)
			return err
		})
		if err != nil || !more {
			return err
		}
	}
}

// deleteChunks deletes up to limit chunks of blob id (all of them when
// limit is 0) and reports whether more are left.
func deleteChunks(tx *bolt.Tx, id uint64, limit int) (more bool, err error) {
	chunks := tx.Bucket(bucketBlobChunks)
	prefix := itob(id)
	type doomedChunk struct {
		k      []byte
		bucket bool
	}
	var doomed []doomedChunk
	c := chunks.Cursor()
	for k, v := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, v = c.Next() {
		if limit > 0 && len(doomed) == limit {
			more = true
			break
		}
		doomed = append(doomed, doomedChunk{append([]byte(nil), k...), v == nil})
	}
	for _, d := range doomed {
		del := chunks.Delete
		if d.bucket {
			del = chunks.DeleteBucket
		}
		if err := del(d.k); err != nil {
			return false, err
		}
	}
	return more, nil
}

// AbandonedBlobs returns the IDs of blobs created before cutoff that never
// completed or were never attached to a share.
func (s *Store) AbandonedBlobs(cutoff time.Time) ([]uint64, error) {
	var out []uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
			var b Blob
			if err := unmarshal(v, &b); err != nil {
				return err
			}
			if (!b.Complete || !b.Attached) && b.CreatedAt.Before(cutoff) {
				out = append(out, b.ID)
			}
			return nil
		})
	})
	return out, err
}

// BlobReader reads a blob: one short read transaction per chunk, so a slow
// download holds no transaction open. It is an io.ReadSeeker (for
// http.ServeContent) and an io.WriterTo (whole chunks, no copy). Close gives
// its buffer back.
type BlobReader struct {
	s     *Store
	b     Blob
	off   int64
	buf   *[]byte // pooled; chunk is a prefix of it
	chunk []byte
	at    int64 // index of the chunk in chunk, -1 for none
}

// OpenBlob returns a reader over a complete blob.
func (s *Store) OpenBlob(id uint64) (*BlobReader, error) {
	b, err := s.Blob(id)
	if err != nil {
		return nil, err
	}
	return &BlobReader{s: s, b: b, at: -1}, nil
}

// Blob is the description of the blob being read.
func (r *BlobReader) Blob() Blob { return r.b }

// Close gives the reader's buffer back for other transfers; the reader must
// not be used after.
func (r *BlobReader) Close() error {
	if r.buf != nil {
		chunkBufs.Put(r.buf)
		r.buf, r.chunk, r.at = nil, nil, -1
	}
	return nil
}

// load decrypts chunk idx into the reader's buffer. The chunk is decrypted
// straight from the data file's memory inside the read transaction (about
// 0.1 ms), so nothing is copied twice and the transaction stays short.
func (r *BlobReader) load(idx int64) error {
	if idx == r.at {
		return nil
	}
	if r.buf == nil {
		r.buf = chunkBufs.Get().(*[]byte)
	}
	key := chunkKey(r.b.ID, idx)
	r.at = -1
	err := r.s.db.View(func(tx *bolt.Tx) error {
		v := getChunk(tx.Bucket(bucketBlobChunks), key)
		if v == nil {
			return ErrNotFound
		}
		plain, err := r.s.openChunkInto(*r.buf, key, v)
		r.chunk = plain
		return err
	})
	if err != nil {
		return err
	}
	r.at = idx
	return nil
}

// Read reads from the current offset.
func (r *BlobReader) Read(p []byte) (int, error) {
	if r.off >= r.b.Size {
		return 0, io.EOF
	}
	idx := r.off / BlobChunkSize
	if err := r.load(idx); err != nil {
		return 0, err
	}
	n := copy(p, r.chunk[r.off-idx*BlobChunkSize:])
	r.off += int64(n)
	return n, nil
}

// WriteTo writes the blob from the current offset to its end, a whole chunk per Write.
func (r *BlobReader) WriteTo(w io.Writer) (int64, error) {
	return r.CopyTo(w, r.b.Size-r.off)
}

// CopyTo writes at most n bytes from the current offset, a whole chunk per
// Write (http.ServeContent copies through a LimitedReader; see handlers).
func (r *BlobReader) CopyTo(w io.Writer, n int64) (int64, error) {
	var written int64
	for written < n && r.off < r.b.Size {
		idx := r.off / BlobChunkSize
		if err := r.load(idx); err != nil {
			return written, err
		}
		part := r.chunk[r.off-idx*BlobChunkSize:]
		if rest := n - written; int64(len(part)) > rest {
			part = part[:rest]
		}
		k, err := w.Write(part)
		written += int64(k)
		r.off += int64(k)
		if err != nil {
			return written, err
		}
		if k < len(part) {
			return written, io.ErrShortWrite
		}
	}
	return written, nil
}

// Seek sets the offset of the next Read.
func (r *BlobReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.b.Size
	default:
		return 0, errors.New("store: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("store: negative offset")
	}
	r.off = offset
	return offset, nil
}
