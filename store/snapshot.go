package store

import (
	"errors"

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
