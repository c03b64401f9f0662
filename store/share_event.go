package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// ShareEvent is one line of a share's activity.
type ShareEvent struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	// Recipient is the index of the recipient it concerns, -1 for none or unknown.
	Recipient int `json:"recipient"`
	// Item is the snapshot item it concerns (a file), 0 for the whole share.
	Item uint64 `json:"item,omitempty"`
	// Detail is a short free text: a file name, a channel, a masked number.
	Detail string `json:"detail,omitempty"`
	// UserAgent is the browser's User-Agent header, for the history's browser and OS.
	UserAgent string `json:"user_agent,omitempty"`
	// StaffID is the staff member who acted, 0 for the recipient or the system.
	StaffID uint64 `json:"staff_id,omitempty"`
	// Viewing is the preso viewing that began with this event (a name
	// picked, a code verified), 0 for none or before it was recorded.
	Viewing uint64 `json:"viewing,omitempty"`
}

func addShareEvent(tx *bolt.Tx, shareID uint64, ev ShareEvent) error {
	b := tx.Bucket(bucketShareEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return putJSON(tx, bucketShareEvents, pairKey(shareID, seq), ev)
}

// AddShareEvent records an event of a share.
func (s *Store) AddShareEvent(shareID uint64, ev ShareEvent) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketShares).Get(itob(shareID)) == nil {
			return ErrNotFound
		}
		return addShareEvent(tx, shareID, ev)
	})
}

// ShareEvents returns a share's events, oldest first.
func (s *Store) ShareEvents(shareID uint64) ([]ShareEvent, error) {
	var out []ShareEvent
	prefix := itob(shareID)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketShareEvents).Cursor()
		for k, v := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, v = c.Next() {
			var ev ShareEvent
			if err := unmarshal(v, &ev); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}
