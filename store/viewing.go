package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Viewing is one person's viewing of a shared preso: it starts when they pick
// their name (or say who they are, or go on anonymously) and collects the
// time spent on each slide. The viewer's page holds a random viewing token;
// the store keeps only its keyed hash.
type Viewing struct {
	ID         uint64 `json:"id"`
	ShareID    uint64 `json:"share_id"`
	PresoID    uint64 `json:"preso_id"`
	SnapshotID uint64 `json:"snapshot_id"`
	// ContactID is the client who picked their name, 0 for someone not on the list.
	ContactID uint64 `json:"contact_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Anonymous bool   `json:"anonymous,omitempty"`
	// Verification is how the viewer proved who they are: "none", or "sms" or
	// "email" (a code).
	Verification string `json:"verification"`
	// VerifiedTo is where the code went, masked ("••• ••• 678"), when known.
	VerifiedTo string    `json:"verified_to,omitempty"`
	Browser    string    `json:"browser,omitempty"`
	IP         string    `json:"ip,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	// LastAt is the time of the last beacon (StartedAt before any).
	LastAt time.Time `json:"last_at"`
	// CreditedMillis is the time on slides recorded so far, for the wall-clock bound.
	CreditedMillis int64 `json:"credited_ms,omitempty"`
	// Notified: the owner got the viewing's one email; later beacons add to
	// the numbers but send no other.
	Notified bool `json:"notified,omitempty"`
}

// Verified tells whether a code proved who the viewer is, by the same rule
// as Signature.Verified.
func (v Viewing) Verified() bool { return verifiedBy(v.Verification) }

// BeaconSlack is how much a beacon may report beyond the wall-clock time the
// server saw pass: the viewer's clock started after the page was served, but a
// beacon can overtake the next slide's request on the network.
const BeaconSlack = 2 * time.Second

// Beacon is a report of time spent on one slide of a viewing.
type Beacon struct {
	Token   string // the viewing token, as the page sent it
	ShareID uint64 // the share the request came through
	SlideID uint64
	Millis  int64
	At      time.Time
}

// SlideTime is one stored beacon.
type SlideTime struct {
	SlideID uint64    `json:"slide_id"`
	Millis  int64     `json:"ms"`
	At      time.Time `json:"at"`
}

// ErrNotLive is returned for a beacon whose viewing does not exist or belongs to another share.
var ErrNotLive = errors.New("store: no such viewing for this share")

func (s *Store) viewingKey(token string) []byte { return s.Hash("viewing\x00" + token) }

func viewingDueKey(v Viewing) []byte {
	return append(itob(uint64(v.LastAt.UnixNano())), itob(v.ID)...)
}

// StartViewing records a viewing under the keyed hash of token.
func (s *Store) StartViewing(v *Viewing, token string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return s.startViewing(tx, v, token) })
}

func (s *Store) startViewing(tx *bolt.Tx, v *Viewing, token string) error {
	id, err := tx.Bucket(bucketViewings).NextSequence()
	if err != nil {
		return err
	}
	v.ID = id
	v.LastAt = v.StartedAt
	if err := tx.Bucket(bucketViewingsByToken).Put(s.viewingKey(token), itob(id)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketViewingsByShare).Put(presoIndexKey(v.ShareID, id), nil); err != nil {
		return err
	}
	return putJSON(tx, bucketViewings, itob(id), v)
}

// ViewingByToken finds a viewing by its token; ErrNotLive when it is unknown or
// belongs to another share.
func (s *Store) ViewingByToken(token string, shareID uint64) (Viewing, error) {
	var v Viewing
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketViewingsByToken).Get(s.viewingKey(token))
		if id == nil {
			return ErrNotLive
		}
		if err := getJSON(tx, bucketViewings, id, &v); err != nil {
			return err
		}
		if v.ShareID != shareID {
			return ErrNotLive
		}
		return nil
	})
	return v, err
}

// RecordBeacon stores one beacon and returns the milliseconds it was credited.
// A viewing's time cannot run faster than the clock: a beacon counts for at most
// the time since the later of the viewing's start and its previous beacon, and
// the viewing's whole time for at most the time since it started, each plus
// BeaconSlack. Thirty beacons sent in one second, or two tabs of one viewing,
// add up to about the second that passed; a beacon credited nothing leaves no
// line. Calls from many requests are written together by DB.Batch: one
// transaction and one fsync for up to a thousand of them.
func (s *Store) RecordBeacon(b Beacon) (int64, error) {
	key := s.viewingKey(b.Token)
	var credited int64
	err := s.db.Batch(func(tx *bolt.Tx) error {
		credited = 0 // Batch may run the function again
		id := tx.Bucket(bucketViewingsByToken).Get(key)
		if id == nil {
			return ErrNotLive
		}
		var v Viewing
		if err := getJSON(tx, bucketViewings, id, &v); err != nil {
			return err
		}
		if v.ShareID != b.ShareID {
			return ErrNotLive
		}
		times, err := tx.Bucket(bucketSlideTimes).CreateBucketIfNotExists(itob(v.ID))
		if err != nil {
			return err
		}
		if v.CreditedMillis == 0 {
			// A viewing recorded before the total was kept: add up its lines once.
			if err := times.ForEach(func(_, raw []byte) error {
				var t SlideTime
				if err := unmarshal(raw, &t); err != nil {
					return err
				}
				v.CreditedMillis += t.Millis
				return nil
			}); err != nil {
				return err
			}
		}
		since := v.StartedAt
		if v.LastAt.After(since) {
			since = v.LastAt
		}
		credit := min(b.Millis, (b.At.Sub(since) + BeaconSlack).Milliseconds(),
			(b.At.Sub(v.StartedAt)+BeaconSlack).Milliseconds()-v.CreditedMillis)
		credited = max(credit, 0)
		if credited > 0 {
			seq, err := times.NextSequence()
			if err != nil {
				return err
			}
			raw, err := json.Marshal(SlideTime{SlideID: b.SlideID, Millis: credited, At: b.At})
			if err != nil {
				return err
			}
			if err := times.Put(itob(seq), raw); err != nil {
				return err
			}
			v.CreditedMillis += credited
		}
		if !b.At.After(v.LastAt) {
			return putJSON(tx, bucketViewings, id, v)
		}
		// The report waits until the viewing has been quiet for a while; once
		// sent, it is not sent again (one email a viewing).
		due := tx.Bucket(bucketViewingsDue)
		if !v.Notified {
			if err := due.Delete(viewingDueKey(v)); err != nil {
				return err
			}
		}
		v.LastAt = b.At
		if !v.Notified {
			if err := due.Put(viewingDueKey(v), nil); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketViewings, id, v)
	})
	return credited, err
}

// MoveViewing carries viewing id on to snapshot snap of its link (Refresh
// link gave the link a new one): what its viewer sees next adds to it.
func (s *Store) MoveViewing(id, snap uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var v Viewing
		if err := getJSON(tx, bucketViewings, itob(id), &v); err != nil {
			return err
		}
		v.SnapshotID = snap
		return putJSON(tx, bucketViewings, itob(id), v)
	})
}

// Viewing loads a viewing by ID.
func (s *Store) Viewing(id uint64) (Viewing, error) {
	var v Viewing
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketViewings, itob(id), &v) })
	return v, err
}

// ShareViewings returns the viewings of a share, oldest first.
func (s *Store) ShareViewings(shareID uint64) ([]Viewing, error) {
	var out []Viewing
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketViewingsByShare).Cursor()
		prefix := itob(shareID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var v Viewing
			if err := getJSON(tx, bucketViewings, k[8:], &v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// SlideTimes returns the beacons of a viewing in the order they arrived.
func (s *Store) SlideTimes(viewingID uint64) ([]SlideTime, error) {
	var out []SlideTime
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSlideTimes).Bucket(itob(viewingID))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, raw []byte) error {
			var t SlideTime
			if err := unmarshal(raw, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// EndedViewings returns the viewings whose last beacon is before cutoff and whose
// owner has not been told yet.
func (s *Store) EndedViewings(cutoff time.Time) ([]Viewing, error) {
	var out []Viewing
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketViewingsDue).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k[:8]) < uint64(cutoff.UnixNano()); k, _ = c.Next() {
			var v Viewing
			if err := getJSON(tx, bucketViewings, k[8:], &v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// MarkViewingNotified records that the owner was told of a viewing: its one
// email is out, even if a beacon came in while it was being written.
func (s *Store) MarkViewingNotified(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var v Viewing
		if err := getJSON(tx, bucketViewings, itob(id), &v); err != nil {
			return err
		}
		if err := tx.Bucket(bucketViewingsDue).Delete(viewingDueKey(v)); err != nil {
			return err
		}
		v.Notified = true
		return putJSON(tx, bucketViewings, itob(id), v)
	})
}
