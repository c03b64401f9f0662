package store

import (
	"bytes"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OutlineSnapshot removes what a snapshot shows, once no live link shows it:
// the slides' text and images go (an image nothing else shows leaves the
// store), their ID, kind and title stay, for the numbers of the viewings
// made of it, and so do the title and the digest signatures state. A
// snapshot someone signed stays whole: it is the record of what was signed
// (see signedSnapshots).
func (s *Store) OutlineSnapshot(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var snap Snapshot
		if err := getJSON(tx, bucketPresoSnapshots, itob(id), &snap); errors.Is(err, ErrNotFound) || snap.Outline {
			return nil // gone already
		} else if err != nil {
			return err
		}
		if signed, err := signedSnapshots(tx, snap.PresoID); err != nil || signed[id] {
			return err
		}
		images := imagesOf(snap.Slides)
		for i, sl := range snap.Slides {
			snap.Slides[i] = Slide{ID: sl.ID, Kind: sl.Kind, Title: sl.Title}
		}
		snap.Outline = true
		if err := putJSON(tx, bucketPresoSnapshots, itob(id), snap); err != nil {
			return err
		}
		return dropUnusedImages(tx, images)
	})
}

// DeleteSnapshot removes a snapshot that no link and no viewing names, and
// the images nothing else shows, unless someone signed it.
func (s *Store) DeleteSnapshot(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var snap Snapshot
		if err := getJSON(tx, bucketPresoSnapshots, itob(id), &snap); errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if signed, err := signedSnapshots(tx, snap.PresoID); err != nil || signed[id] {
			return err
		}
		if err := tx.Bucket(bucketPresoSnapshots).Delete(itob(id)); err != nil {
			return err
		}
		return dropUnusedImages(tx, imagesOf(snap.Slides))
	})
}

// SnapshotUse is what deciding a snapshot's fate needs to know of it.
type SnapshotUse struct {
	ID        uint64
	CreatedAt time.Time
	Outline   bool
	// Shown: a share whose content is not purged shows it (a live link, or
	// one whose end is not swept yet).
	Shown bool
	// Viewed: a viewing was of it; its numbers name its slides.
	Viewed bool
	// Signed: someone signed it; it is the record of what they signed.
	Signed bool
}

// scanBatch is how many records one read transaction of a scan reads: a
// long read transaction keeps the file from reusing its free pages.
const scanBatch = 512

// scan calls fn with every record of a bucket, in key order, scanBatch
// records per read transaction (the key and value are valid during fn only).
func (s *Store) scan(bucket []byte, fn func(k, v []byte) error) error {
	var after []byte
	for {
		n := 0
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucket).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && n < scanBatch; k, v = c.Next() {
				if err := fn(k, v); err != nil {
					return err
				}
				after, n = bytes.Clone(k), n+1
			}
			return nil
		})
		if err != nil || n < scanBatch {
			return err
		}
	}
}

// SnapshotUses lists every preso snapshot, oldest first, with whether a
// share not purged shows it, whether a viewing was of it and whether
// someone signed it. It reads the shares, the viewings, the signatures and
// the snapshots a batch at a time.
func (s *Store) SnapshotUses() ([]SnapshotUse, error) {
	shown, viewed, signed := map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}
	err := s.scan(bucketShares, func(_, v []byte) error {
		var sh struct {
			Kind     ShareKind `json:"kind"`
			Snapshot []uint64  `json:"snapshot"`
			Purged   bool      `json:"purged"`
		}
		if err := unmarshal(v, &sh); err != nil {
			return err
		}
		if sh.Kind == SharePreso && !sh.Purged {
			for _, id := range sh.Snapshot {
				shown[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.scan(bucketViewings, func(_, v []byte) error {
		var vw struct {
			SnapshotID uint64 `json:"snapshot_id"`
		}
		if err := unmarshal(v, &vw); err != nil {
			return err
		}
		viewed[vw.SnapshotID] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.scan(bucketSignatures, func(_, v []byte) error {
		var sig struct {
			SnapshotID uint64 `json:"snapshot_id"`
		}
		if err := unmarshal(v, &sig); err != nil {
			return err
		}
		signed[sig.SnapshotID] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []SnapshotUse
	err = s.scan(bucketPresoSnapshots, func(k, v []byte) error {
		var snap struct {
			CreatedAt time.Time `json:"created_at"`
			Outline   bool      `json:"outline"`
		}
		if err := unmarshal(v, &snap); err != nil {
			return err
		}
		id := btoi(k)
		out = append(out, SnapshotUse{ID: id, CreatedAt: snap.CreatedAt, Outline: snap.Outline, Shown: shown[id], Viewed: viewed[id], Signed: signed[id]})
		return nil
	})
	return out, err
}
