package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SlideKind is what a slide is for.
type SlideKind string

// The slide kinds.
const (
	SlideContent SlideKind = "content"
	// SlideSigning asks the viewer to sign (typed name, drawing, consent).
	SlideSigning SlideKind = "signing"
)

// Slide is one slide of a preso. Its order is its place in Preso.Slides.
type Slide struct {
	ID    uint64    `json:"id"`
	Kind  SlideKind `json:"kind"`
	Title string    `json:"title"`
	// Body is Markdown, rendered and sanitized at display time.
	Body string `json:"body,omitempty"`
	// Image is the SHA-256 (hex) of the image in preso_images, "" when none.
	Image     string `json:"image,omitempty"`
	ImageType string `json:"image_type,omitempty"`
	// Excluded slides stay in the preso but are left out of shares.
	Excluded bool `json:"excluded,omitempty"`
	// Rev counts the saves of this slide: a save that names an older Rev is refused.
	Rev uint64 `json:"rev"`
}

// Preso is a slide presentation prepared by a practitioner for one or more clients,
// or, with Template set, a practice template to start presos from.
type Preso struct {
	ID         uint64     `json:"id"`
	Title      string     `json:"title"`
	OwnerID    uint64     `json:"owner_id"`
	ContactIDs []uint64   `json:"contact_ids,omitempty"`
	Slides     []Slide    `json:"slides"`
	Visibility Visibility `json:"visibility"`
	Template   bool       `json:"template,omitempty"`
	// Content counts the changes to what a share would show (slides, their order,
	// inclusion, content): a share made at an older count is out of date.
	Content     uint64    `json:"content"`
	NextSlideID uint64    `json:"next_slide_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Slide returns the slide with an ID and its index, or -1.
func (p *Preso) Slide(id uint64) (*Slide, int) {
	for i := range p.Slides {
		if p.Slides[i].ID == id {
			return &p.Slides[i], i
		}
	}
	return nil, -1
}

// Included returns the slides a share shows, in order.
func (p *Preso) Included() []Slide {
	var out []Slide
	for _, s := range p.Slides {
		if !s.Excluded {
			out = append(out, s)
		}
	}
	return out
}

// AddSlide appends a new slide with the next ID.
func (p *Preso) AddSlide(s Slide) *Slide {
	p.NextSlideID++
	s.ID = p.NextSlideID
	s.Rev = 1
	p.Slides = append(p.Slides, s)
	return &p.Slides[len(p.Slides)-1]
}

// HasContact reports whether a client is one of the preso's contacts.
func (p *Preso) HasContact(clientID uint64) bool { return slices.Contains(p.ContactIDs, clientID) }

// HasSigning reports whether an included slide is a signing slide.
func (p *Preso) HasSigning() bool {
	for _, s := range p.Slides {
		if !s.Excluded && s.Kind == SlideSigning {
			return true
		}
	}
	return false
}

// PresoEvent is one line of a preso's activity.
type PresoEvent struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"` // created, handed_over, shared, refreshed, expired, ...
	StaffID uint64    `json:"staff_id,omitempty"`
	// OtherID is the other staff member (hand-over) or a share ID.
	OtherID uint64 `json:"other_id,omitempty"`
}

// ErrStale is returned when a save names an older revision than the stored one.
var ErrStale = errors.New("store: the record changed since it was read")

// Snapshot is what a share of a preso shows, frozen when the link was made or refreshed.
type Snapshot struct {
	ID        uint64    `json:"id"`
	PresoID   uint64    `json:"preso_id"`
	Title     string    `json:"title"`
	Slides    []Slide   `json:"slides"`
	Content   uint64    `json:"content"`
	CreatedAt time.Time `json:"created_at"`
	// SHA256 is the hex digest of the slides as frozen, recorded with signatures.
	SHA256 string `json:"sha256"`
	// Outline says the content is gone (no live link shows the snapshot any
	// more): the slides keep their ID, kind and title, which the numbers of
	// the viewings made of it name, and nothing else.
	Outline bool `json:"outline,omitempty"`
}

func presoIndexKey(a, b uint64) []byte { return append(itob(a), itob(b)...) }

func putPresoIndexes(tx *bolt.Tx, p Preso) error {
	for _, cid := range p.ContactIDs {
		if err := tx.Bucket(bucketPresosByClient).Put(presoIndexKey(cid, p.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

func deletePresoIndexes(tx *bolt.Tx, p Preso) error {
	for _, cid := range p.ContactIDs {
		if err := tx.Bucket(bucketPresosByClient).Delete(presoIndexKey(cid, p.ID)); err != nil {
			return err
		}
	}
	return nil
}

func addPresoEvent(tx *bolt.Tx, presoID uint64, e PresoEvent) error {
	b, err := tx.Bucket(bucketPresoActivity).CreateBucketIfNotExists(itob(presoID))
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Put(itob(seq), raw)
}

// CreatePreso inserts a preso and records its creation in its activity.
func (s *Store) CreatePreso(p *Preso, by uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		id, err := tx.Bucket(bucketPresos).NextSequence()
		if err != nil {
			return fmt.Errorf("store: unable to allocate preso ID: %w", err)
		}
		p.ID = id
		p.UpdatedAt = p.CreatedAt
		if p.Visibility == "" {
			p.Visibility = VisibilityAnyone
		}
		if err := putPresoIndexes(tx, *p); err != nil {
			return err
		}
		if err := addPresoEvent(tx, id, PresoEvent{At: p.CreatedAt, Kind: "created", StaffID: by}); err != nil {
			return err
		}
		return putJSON(tx, bucketPresos, itob(id), p)
	})
}

// Preso loads a preso.
func (s *Store) Preso(id uint64) (Preso, error) {
	var p Preso
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketPresos, itob(id), &p) })
	return p, err
}

// UpdatePreso applies fn to a preso and saves it with its indexes in one transaction.
// fn may return ErrStale (or any error) to save nothing. events are added to the activity.
func (s *Store) UpdatePreso(id uint64, now time.Time, fn func(*Preso) ([]PresoEvent, error)) (Preso, error) {
	var p Preso
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketPresos, itob(id), &p); err != nil {
			return err
		}
		if err := deletePresoIndexes(tx, p); err != nil {
			return err
		}
		events, err := fn(&p)
		if err != nil {
			return err
		}
		p.ID, p.UpdatedAt = id, now
		for _, e := range events {
			if err := addPresoEvent(tx, id, e); err != nil {
				return err
			}
		}
		if err := putPresoIndexes(tx, p); err != nil {
			return err
		}
		return putJSON(tx, bucketPresos, itob(id), p)
	})
	return p, err
}

// AddPresoEvent records one line of a preso's activity.
func (s *Store) AddPresoEvent(presoID uint64, e PresoEvent) error {
	return s.db.Update(func(tx *bolt.Tx) error { return addPresoEvent(tx, presoID, e) })
}

// PresoActivity returns a preso's activity, newest first.
func (s *Store) PresoActivity(presoID uint64) ([]PresoEvent, error) {
	var out []PresoEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPresoActivity).Bucket(itob(presoID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var e PresoEvent
			if err := unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// PresoFilter narrows a preso list.
type PresoFilter struct {
	// OwnerID, when not 0, keeps only that staff member's presos.
	OwnerID   uint64
	Templates bool // templates instead of presos
}

// ListPresos returns the matching presos, most recently changed first.
func (s *Store) ListPresos(f PresoFilter) ([]Preso, error) {
	var out []Preso
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPresos).ForEach(func(_, v []byte) error {
			var p Preso
			if err := unmarshal(v, &p); err != nil {
				return err
			}
			if p.Template != f.Templates || (f.OwnerID != 0 && p.OwnerID != f.OwnerID) {
				return nil
			}
			out = append(out, p)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Preso) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out, err
}

// ClientPresos returns the presos a client is a contact of.
func (s *Store) ClientPresos(clientID uint64) ([]Preso, error) {
	var out []Preso
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPresosByClient).Cursor()
		prefix := itob(clientID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var p Preso
			if err := getJSON(tx, bucketPresos, k[8:], &p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Preso) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out, err
}

// PutSlideImage stores image bytes under their SHA-256 and returns the hex digest.
// Images are addressed by content, so a snapshot keeps the image it was made with.
func (s *Store) PutSlideImage(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPresoImages)
		if b.Get(sum[:]) != nil {
			return nil
		}
		return b.Put(sum[:], data)
	})
	return hex.EncodeToString(sum[:]), err
}

// SlideImage returns the bytes of an image stored by PutSlideImage.
func (s *Store) SlideImage(digest string) ([]byte, error) {
	key, err := hex.DecodeString(digest)
	if err != nil || len(key) != sha256.Size {
		return nil, ErrNotFound
	}
	var out []byte
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPresoImages).Get(key)
		if v == nil {
			return ErrNotFound
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// SaveSnapshot freezes the included slides of a preso as they are now.
func (s *Store) SaveSnapshot(presoID uint64, now time.Time) (Snapshot, error) {
	var snap Snapshot
	err := s.db.Update(func(tx *bolt.Tx) error {
		var p Preso
		if err := getJSON(tx, bucketPresos, itob(presoID), &p); err != nil {
			return err
		}
		id, err := tx.Bucket(bucketPresoSnapshots).NextSequence()
		if err != nil {
			return err
		}
		snap = Snapshot{ID: id, PresoID: p.ID, Title: p.Title, Slides: p.Included(), Content: p.Content, CreatedAt: now}
		raw, err := json.Marshal(struct {
			Title  string  `json:"title"`
			Slides []Slide `json:"slides"`
		}{snap.Title, snap.Slides})
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		snap.SHA256 = hex.EncodeToString(sum[:])
		return putJSON(tx, bucketPresoSnapshots, itob(id), snap)
	})
	return snap, err
}

// Snapshot loads a frozen preso.
func (s *Store) Snapshot(id uint64) (Snapshot, error) {
	var snap Snapshot
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketPresoSnapshots, itob(id), &snap) })
	return snap, err
}

// SnapshotTitle reads only a snapshot's title: a share's landing shows it
// on every visit, and decoding the slides there would be wasted work.
//
// A share link's landing asks on every visit: the title is kept with the
// record it came from (see keptDecodes), as decoding a snapshot means reading
// all its slides.
func (s *Store) SnapshotTitle(id uint64) (string, error) {
	var title string
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketPresoSnapshots).Get(itob(id))
		if raw == nil {
			return ErrNotFound
		}
		var ok bool
		if title, ok = s.snapshotTitles.get(id, raw); ok {
			return nil
		}
		var snap struct {
			Title string `json:"title"`
		}
		if err := json.Unmarshal(raw, &snap); err != nil {
			return fmt.Errorf("store: unable to decode %s record: %w", bucketPresoSnapshots, err)
		}
		title = snap.Title
		s.snapshotTitles.put(id, raw, title)
		return nil
	})
	return title, err
}

// PresoContacts reports, for each client, whether they are a contact of the
// preso (all false when the preso is gone).
func (s *Store) PresoContacts(presoID uint64, clientIDs []uint64) ([]bool, error) {
	var out []bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = LinkTx{s: s, tx: tx}.PresoContacts(presoID, clientIDs)
		return err
	})
	return out, err
}

// PresoContacts reports, for each client, whether they are a contact of the
// preso (all false when the preso is gone). It reads the contacts index, not
// the preso and its slides: a share link's pages ask on every visit.
func (t LinkTx) PresoContacts(presoID uint64, clientIDs []uint64) ([]bool, error) {
	out := make([]bool, len(clientIDs))
	if t.tx.Bucket(bucketPresos).Get(itob(presoID)) == nil {
		return out, nil
	}
	c := t.tx.Bucket(bucketPresosByClient).Cursor()
	for i, cid := range clientIDs {
		key := presoIndexKey(cid, presoID)
		k, _ := c.Seek(key)
		out[i] = cid != 0 && bytes.Equal(k, key)
	}
	return out, nil
}

// migrate6to7 adds presos, their slides' images, snapshots and viewings.
func migrate6to7(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketPresos, bucketPresosByClient, bucketPresoActivity, bucketPresoImages, bucketPresoSnapshots,
		bucketViewings, bucketViewingsByToken, bucketViewingsByShare, bucketSlideTimes, bucketViewingsDue, bucketSignatures, bucketSignaturesByShare} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// signedSnapshots returns the snapshots of preso presoID that someone signed:
// they are the record of what was signed (the certificate lists their
// hashes and shows their slides), so neither the end of a link nor the
// preso's deletion removes them.
func signedSnapshots(tx *bolt.Tx, presoID uint64) (map[uint64]bool, error) {
	out := map[uint64]bool{}
	c := tx.Bucket(bucketSharesBySubject).Cursor()
	prefix := append(append([]byte(SharePreso), 0), itob(presoID)...)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		shareID := k[len(prefix):]
		sc := tx.Bucket(bucketSignaturesByShare).Cursor()
		for sk, _ := sc.Seek(shareID); sk != nil && bytes.HasPrefix(sk, shareID); sk, _ = sc.Next() {
			var sig Signature
			if err := getJSON(tx, bucketSignatures, sk[8:], &sig); err != nil {
				return nil, err
			}
			out[sig.SnapshotID] = true
		}
	}
	return out, nil
}

// DeletePreso removes a preso with its slides, activity and snapshots, and the
// slide images nothing else uses any more (images are shared by content, so
// another preso or snapshot may hold the same one). Viewings and signatures
// stay: they are the record of what a client saw and signed. The caller ends
// the preso's shares first. The scan of the other presos and snapshots runs
// in the same transaction, so an image cannot be taken up meanwhile.
func (s *Store) DeletePreso(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return deletePreso(tx, id) })
}

func deletePreso(tx *bolt.Tx, id uint64) error {
	var p Preso
	if err := getJSON(tx, bucketPresos, itob(id), &p); err != nil {
		return err
	}
	if err := deletePresoIndexes(tx, p); err != nil {
		return err
	}
	if err := tx.Bucket(bucketPresos).Delete(itob(id)); err != nil {
		return err
	}
	if act := tx.Bucket(bucketPresoActivity); act.Bucket(itob(id)) != nil {
		if err := act.DeleteBucket(itob(id)); err != nil {
			return err
		}
	}
	images := imagesOf(p.Slides)
	signed, err := signedSnapshots(tx, id)
	if err != nil {
		return err
	}
	snaps := tx.Bucket(bucketPresoSnapshots)
	var gone [][]byte
	err = snaps.ForEach(func(k, v []byte) error {
		var snap Snapshot
		if err := json.Unmarshal(v, &snap); err != nil {
			return err
		}
		// A signed snapshot stays, with its images: see signedSnapshots.
		if snap.PresoID == id && !signed[snap.ID] {
			maps.Copy(images, imagesOf(snap.Slides))
			gone = append(gone, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range gone {
		if err := snaps.Delete(k); err != nil {
			return err
		}
	}
	return dropUnusedImages(tx, images)
}

// imagesOf is the set of the images the slides show.
func imagesOf(slides []Slide) map[string]bool {
	out := map[string]bool{}
	for _, sl := range slides {
		if sl.Image != "" {
			out[sl.Image] = true
		}
	}
	return out
}

// dropUnusedImages deletes, of the images given, those no preso and no
// snapshot shows any more (images are kept by content, so another preso or
// snapshot may hold the same one). The scan of the presos and snapshots
// runs in the caller's transaction, so an image cannot be taken up meanwhile.
func dropUnusedImages(tx *bolt.Tx, images map[string]bool) error {
	if len(images) == 0 {
		return nil
	}
	inUse := map[string]bool{}
	for _, b := range [][]byte{bucketPresos, bucketPresoSnapshots} {
		err := tx.Bucket(b).ForEach(func(_, v []byte) error {
			var rec struct {
				Slides []Slide `json:"slides"`
			}
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			maps.Copy(inUse, imagesOf(rec.Slides))
			return nil
		})
		if err != nil {
			return err
		}
	}
	for digest := range images {
		key, err := hex.DecodeString(digest)
		if err != nil || inUse[digest] {
			continue
		}
		if err := tx.Bucket(bucketPresoImages).Delete(key); err != nil {
			return err
		}
	}
	return nil
}
