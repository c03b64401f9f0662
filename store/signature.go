package store

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Signature is a viewer's signature on the signing slide of a shared preso,
// with the facts the signing certificate states.
type Signature struct {
	ID        uint64 `json:"id"`
	ShareID   uint64 `json:"share_id"`
	PresoID   uint64 `json:"preso_id"`
	ViewingID uint64 `json:"viewing_id"`
	// SnapshotID and SnapshotSHA256 say exactly what was signed.
	SnapshotID     uint64 `json:"snapshot_id"`
	SnapshotSHA256 string `json:"snapshot_sha256"`
	SlideID        uint64 `json:"slide_id"`
	// Name is the full name typed by the signer.
	Name string `json:"name"`
	// Drawing is the drawn signature as a PNG; empty when the signer typed their name only.
	Drawing []byte `json:"drawing,omitempty"`
	Consent bool   `json:"consent"`
	// Verification is how the signer proved who they are: "sms" (a code) or "none".
	Verification string    `json:"verification"`
	Browser      string    `json:"browser,omitempty"`
	IP           string    `json:"ip,omitempty"`
	At           time.Time `json:"at"`
}

// AddSignature stores a signature.
func (s *Store) AddSignature(sig *Signature) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		id, err := tx.Bucket(bucketSignatures).NextSequence()
		if err != nil {
			return err
		}
		sig.ID = id
		if err := tx.Bucket(bucketSignaturesByShare).Put(presoIndexKey(sig.ShareID, id), nil); err != nil {
			return err
		}
		return putJSON(tx, bucketSignatures, itob(id), sig)
	})
}

// Signature loads a signature.
func (s *Store) Signature(id uint64) (Signature, error) {
	var sig Signature
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketSignatures, itob(id), &sig) })
	return sig, err
}

// ShareSignatures returns the signatures made through a share, oldest first.
func (s *Store) ShareSignatures(shareID uint64) ([]Signature, error) {
	var out []Signature
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSignaturesByShare).Cursor()
		prefix := itob(shareID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var sig Signature
			if err := getJSON(tx, bucketSignatures, k[8:], &sig); err != nil {
				return err
			}
			out = append(out, sig)
		}
		return nil
	})
	return out, err
}

// DeleteSnapshot removes a frozen preso (when its share's content is purged).
func (s *Store) DeleteSnapshot(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPresoSnapshots).Delete(itob(id)) })
}
