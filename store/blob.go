package store

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A blob is a file kept in the store in encrypted chunks, so a backup stays one
// file and a stolen data file (with FOYER_SECRET_KEY set) reveals no document.

// BlobChunkSize is the plain size of every chunk but the last.
const BlobChunkSize = 256 << 10

// blobChunksPerTx is how many chunks one write transaction holds: small enough
// that another write waits a few milliseconds, large enough to keep commits few.
const blobChunksPerTx = 4

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

// resealShares seals share tokens and blob chunks again under key, when the
// operator first sets FOYER_SECRET_KEY. It runs once, inside Open's transaction.
func resealShares(tx *bolt.Tx, old, key []byte) error {
	shares := tx.Bucket(bucketShares)
	if shares == nil {
		return nil
	}
	type change struct{ k, v []byte }
	var changes []change
	err := shares.ForEach(func(k, v []byte) error {
		var sh Share
		if err := unmarshal(v, &sh); err != nil {
			return err
		}
		plain, err := unseal(old, sh.TokenSealed)
		if err != nil {
			return err
		}
		if sh.TokenSealed, err = seal(key, plain); err != nil {
			return err
		}
		raw, err := json.Marshal(sh)
		changes = append(changes, change{append([]byte(nil), k...), raw})
		return err
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := shares.Put(c.k, c.v); err != nil {
			return err
		}
	}
	from, to := chunkCipher(old), chunkCipher(key)
	chunks := tx.Bucket(bucketBlobChunks)
	changes = changes[:0]
	err = chunks.ForEach(func(k, v []byte) error {
		plain, err := from.Open(nil, v[:from.NonceSize()], v[from.NonceSize():], k)
		if err != nil {
			return fmt.Errorf("store: unable to open chunk: %w", err)
		}
		out := make([]byte, to.NonceSize(), to.NonceSize()+len(plain)+to.Overhead())
		if _, err := rand.Read(out); err != nil {
			return err
		}
		changes = append(changes, change{append([]byte(nil), k...), to.Seal(out, out, plain, k)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := chunks.Put(c.k, c.v); err != nil {
			return err
		}
	}
	return nil
}

// sealChunk encrypts a chunk; the key binds it to its blob and position so chunks cannot be swapped.
func (s *Store) sealChunk(key, plain []byte) []byte {
	aead := s.blobCipher()
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic(err)
	}
	return aead.Seal(out, out, plain, key)
}

func (s *Store) openChunk(key, sealed []byte) ([]byte, error) {
	aead := s.blobCipher()
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("store: chunk too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], key)
	if err != nil {
		return nil, fmt.Errorf("store: unable to open chunk: %w", err)
	}
	return plain, nil
}

// CreateBlob streams r into the store: chunk by chunk, a few chunks per short
// write transaction, never the whole file in memory. It reads at most max bytes;
// beyond that, or on a read error, it removes what it wrote and returns ErrTooLarge
// (or the error). b.ID, b.Size and b.Complete are set.
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
	fail := func(err error) error {
		if derr := s.DeleteBlob(b.ID); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	buf := make([]byte, BlobChunkSize)
	var n, next int64 // bytes read, index of the next chunk to write
	for done := false; !done; {
		var batch [][]byte
		for len(batch) < blobChunksPerTx {
			k, err := io.ReadFull(r, buf)
			if k > 0 {
				if n+int64(k) > max {
					return fail(ErrTooLarge)
				}
				batch = append(batch, s.sealChunk(chunkKey(b.ID, n/BlobChunkSize), buf[:k]))
				n += int64(k)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				done = true
				break
			}
			if err != nil {
				return fail(err)
			}
		}
		if len(batch) == 0 {
			break
		}
		first := next
		next += int64(len(batch))
		err := s.db.Update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketBlobChunks)
			for i, sealed := range batch {
				if err := c.Put(chunkKey(b.ID, first+int64(i)), sealed); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
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
	prefix := itob(id)
	for {
		more := false
		err := s.db.Update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketBlobChunks).Cursor()
			var doomed [][]byte
			for k, _ := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, _ = c.Next() {
				if len(doomed) == blobDeleteBatch {
					more = true
					break
				}
				doomed = append(doomed, append([]byte(nil), k...))
			}
			for _, k := range doomed {
				if err := tx.Bucket(bucketBlobChunks).Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !more {
			return err
		}
	}
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
// download holds no transaction open. It is an io.ReadSeeker (for http.ServeContent).
type BlobReader struct {
	s     *Store
	b     Blob
	off   int64
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

// Read reads from the current offset.
func (r *BlobReader) Read(p []byte) (int, error) {
	if r.off >= r.b.Size {
		return 0, io.EOF
	}
	idx := r.off / BlobChunkSize
	if idx != r.at {
		var sealed []byte
		key := chunkKey(r.b.ID, idx)
		err := r.s.db.View(func(tx *bolt.Tx) error {
			v := tx.Bucket(bucketBlobChunks).Get(key)
			if v == nil {
				return ErrNotFound
			}
			sealed = append(sealed[:0], v...)
			return nil
		})
		if err != nil {
			return 0, err
		}
		plain, err := r.s.openChunk(key, sealed)
		if err != nil {
			return 0, err
		}
		r.chunk, r.at = plain, idx
	}
	n := copy(p, r.chunk[r.off-idx*BlobChunkSize:])
	r.off += int64(n)
	return n, nil
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
