package store

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The access journal's storage. Package journal decides what an entry says
// and how entries are chained; the store keeps them in order, each stored as
// its MAC followed by its JSON, so a check reads exactly the bytes that were
// chained. No method here changes an entry: AppendJournal adds at the end
// and PurgeJournal removes from the start only, leaving a signed anchor so
// that what is left can still be checked.

var (
	bucketJournal         = []byte("journal")
	bucketJournalByClient = []byte("journal_by_client")
	bucketJournalByStaff  = []byte("journal_by_staff")
	bucketJournalMeta     = []byte("journal_meta")

	keyJournalHead   = []byte("head")
	keyJournalAnchor = []byte("anchor")
)

// journalMACSize is the size of an entry's MAC (HMAC-SHA256).
const journalMACSize = 32

// JournalEntry is one line of the access journal: who, when, which client,
// what, from where.
type JournalEntry struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
	// StaffID is the staff member who acted; 0 for a portal client or Foyer itself.
	StaffID uint64 `json:"staff,omitempty"`
	// AccountID is the portal account that acted, for a client's own actions.
	AccountID uint64 `json:"account,omitempty"`
	// ClientID is the client whose data was read or changed, 0 for none.
	ClientID uint64 `json:"client,omitempty"`
	Action   string `json:"action"`
	// ItemID is the appointment, share, message... the action was about.
	ItemID uint64 `json:"item,omitempty"`
	// Detail is a short word: the setting changed, the new role.
	Detail string `json:"detail,omitempty"`
	// Also names the parts of the record the same look showed.
	Also []string `json:"also,omitempty"`
	Addr string   `json:"addr,omitempty"`
	// Prev is the MAC of the entry before (of the anchor's entry for the first kept one).
	Prev []byte `json:"prev"`
	// MAC chains the entry: the MAC of its JSON, which holds Prev.
	MAC []byte `json:"-"`
}

// JournalRecord is a stored entry as its bytes: what a check reads.
type JournalRecord struct {
	Seq  uint64
	MAC  []byte
	Body []byte
}

// JournalAnchor stands for the entries the retention purge removed: the first
// kept entry's sequence number and the MAC it chains to, signed.
type JournalAnchor struct {
	Seq  uint64    `json:"seq"`
	Prev []byte    `json:"prev"`
	At   time.Time `json:"at"`
	// Purged is how many entries were removed in all.
	Purged uint64 `json:"purged"`
}

// JournalMAC computes the MAC of an entry's or an anchor's JSON.
type JournalMAC func(body []byte) []byte

// migrate12to13 adds the access journal and the receipts kept from erased clients.
func migrate12to13(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketJournal, bucketJournalByClient, bucketJournalByStaff, bucketJournalMeta, bucketKeptReceipts} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// AppendJournal adds entries at the end of the journal, in one transaction:
// each gets the next sequence number and the MAC of the one before, mac
// signs it. Seq, Prev and MAC are set on the entries given.
func (s *Store) AppendJournal(entries []JournalEntry, mac JournalMAC) error {
	if len(entries) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, meta := tx.Bucket(bucketJournal), tx.Bucket(bucketJournalMeta)
		// Entries only ever go at the end: full pages, not bbolt's half-full splits.
		b.FillPercent = 0.95
		prev := journalPrev(meta)
		for i := range entries {
			e := &entries[i]
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			e.Seq, e.Prev, e.At = seq, prev, e.At.UTC()
			body, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("store: unable to encode journal entry: %w", err)
			}
			e.MAC = mac(body)
			if err := b.Put(itob(seq), append(bytes.Clone(e.MAC), body...)); err != nil {
				return err
			}
			if e.ClientID != 0 {
				if err := tx.Bucket(bucketJournalByClient).Put(pairKey(e.ClientID, seq), nil); err != nil {
					return err
				}
			}
			if e.StaffID != 0 {
				if err := tx.Bucket(bucketJournalByStaff).Put(pairKey(e.StaffID, seq), nil); err != nil {
					return err
				}
			}
			prev = e.MAC
		}
		return meta.Put(keyJournalHead, append(itob(entries[len(entries)-1].Seq), prev...))
	})
}

// journalPrev is the MAC the next entry chains to: the last entry's, or the
// anchor's when the purge left none, or none for an empty journal.
func journalPrev(meta *bolt.Bucket) []byte {
	if h := meta.Get(keyJournalHead); len(h) == 8+journalMACSize {
		return bytes.Clone(h[8:])
	}
	return nil
}

// JournalHead is the last entry's sequence number and MAC as the head record
// keeps them (0 and nil for an empty journal), and the anchor's record
// (nil when nothing was ever purged).
func (s *Store) JournalHead() (seq uint64, mac []byte, anchor *JournalRecord, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketJournalMeta)
		if h := meta.Get(keyJournalHead); len(h) == 8+journalMACSize {
			seq, mac = btoi(h[:8]), bytes.Clone(h[8:])
		}
		if a := meta.Get(keyJournalAnchor); a != nil {
			if len(a) < journalMACSize {
				return errors.New("store: journal anchor too short")
			}
			anchor = &JournalRecord{MAC: bytes.Clone(a[:journalMACSize]), Body: bytes.Clone(a[journalMACSize:])}
		}
		return nil
	})
	return seq, mac, anchor, err
}

// JournalRecords returns up to limit stored entries after sequence number
// after, in order, as their bytes.
func (s *Store) JournalRecords(after uint64, limit int) ([]JournalRecord, error) {
	var out []JournalRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketJournal).Cursor()
		for k, v := c.Seek(itob(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			r := JournalRecord{Seq: btoi(k)}
			if len(v) >= journalMACSize {
				r.MAC, r.Body = bytes.Clone(v[:journalMACSize]), bytes.Clone(v[journalMACSize:])
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// DecodeJournal decodes a stored entry's JSON.
func DecodeJournal(r JournalRecord) (JournalEntry, error) {
	var e JournalEntry
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return e, fmt.Errorf("store: unable to decode journal entry %d: %w", r.Seq, err)
	}
	e.MAC = r.MAC
	return e, nil
}

// JournalFilter narrows a journal listing. Zero fields do not narrow.
type JournalFilter struct {
	ClientID, StaffID uint64
	// From and To bound the time of the entries: From ≤ At < To.
	From, To time.Time
	// Before lists entries older than this sequence number (the next page).
	Before uint64
	Limit  int
}

// journalScanLimit bounds how many entries one listing reads to fill a page,
// so that a filter matching nothing in a large journal stays a short read.
const journalScanLimit = 20000

// Journal lists entries newest first, and reports whether there are more.
// With a client or a staff member it walks that index; otherwise the
// journal itself, from the newest entry (or Before) back.
func (s *Store) Journal(f JournalFilter) (list []JournalEntry, more bool, err error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		entries := tx.Bucket(bucketJournal)
		var c *bolt.Cursor
		var prefix []byte
		switch {
		case f.ClientID != 0:
			c, prefix = tx.Bucket(bucketJournalByClient).Cursor(), itob(f.ClientID)
		case f.StaffID != 0:
			c, prefix = tx.Bucket(bucketJournalByStaff).Cursor(), itob(f.StaffID)
		default:
			c = entries.Cursor()
		}
		start := ^uint64(0)
		if f.Before != 0 {
			start = f.Before - 1
		}
		var k []byte
		if prefix != nil {
			k, _ = c.Seek(append(bytes.Clone(prefix), itob(start)...))
			if k == nil || !bytes.HasPrefix(k, prefix) || btoi(k[8:]) > start {
				k, _ = c.Prev()
			}
		} else {
			k, _ = c.Seek(itob(start))
			if k == nil || btoi(k) > start {
				k, _ = c.Prev()
			}
		}
		for scanned := 0; k != nil; k, _ = c.Prev() {
			seq := k
			if prefix != nil {
				if !bytes.HasPrefix(k, prefix) {
					break
				}
				seq = k[8:]
			}
			if scanned++; scanned > journalScanLimit {
				more = true
				break
			}
			v := entries.Get(seq)
			if len(v) < journalMACSize {
				continue
			}
			e, err := DecodeJournal(JournalRecord{Seq: btoi(seq), MAC: bytes.Clone(v[:journalMACSize]), Body: v[journalMACSize:]})
			if err != nil {
				return err
			}
			if !f.To.IsZero() && !e.At.Before(f.To) {
				continue
			}
			if !f.From.IsZero() && e.At.Before(f.From) {
				break // older ones only from here
			}
			if f.StaffID != 0 && e.StaffID != f.StaffID {
				continue
			}
			if len(list) == f.Limit {
				more = true
				break
			}
			list = append(list, e)
		}
		return nil
	})
	return list, more, err
}

// PurgeJournal removes up to limit of the oldest entries made before cutoff
// and writes the anchor that stands for them, in one transaction: the
// anchor names the first entry kept and the MAC it chains to, signed by mac.
// It returns how many entries went; the caller repeats until 0.
func (s *Store) PurgeJournal(cutoff, now time.Time, limit int, mac JournalMAC) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, meta := tx.Bucket(bucketJournal), tx.Bucket(bucketJournalMeta)
		var anchor JournalAnchor
		if a := meta.Get(keyJournalAnchor); len(a) > journalMACSize {
			if err := json.Unmarshal(a[journalMACSize:], &anchor); err != nil {
				return fmt.Errorf("store: unable to decode journal anchor: %w", err)
			}
		}
		var doomed [][]byte
		var next []byte // the first entry kept: its key
		c := b.Cursor()
		for k, v := c.First(); ; k, v = c.Next() {
			if k == nil {
				break
			}
			e, err := DecodeJournal(JournalRecord{Seq: btoi(k), Body: v[min(len(v), journalMACSize):]})
			if err != nil {
				return err
			}
			if !e.At.Before(cutoff) || len(doomed) == limit {
				next = bytes.Clone(k)
				break
			}
			doomed = append(doomed, bytes.Clone(k))
			if e.ClientID != 0 {
				if err := tx.Bucket(bucketJournalByClient).Delete(pairKey(e.ClientID, e.Seq)); err != nil {
					return err
				}
			}
			if e.StaffID != 0 {
				if err := tx.Bucket(bucketJournalByStaff).Delete(pairKey(e.StaffID, e.Seq)); err != nil {
					return err
				}
			}
		}
		if len(doomed) == 0 {
			return nil
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		anchor.Purged += uint64(n)
		anchor.At = now.UTC()
		if next != nil {
			v := b.Get(next)
			e, err := DecodeJournal(JournalRecord{Seq: btoi(next), Body: v[min(len(v), journalMACSize):]})
			if err != nil {
				return err
			}
			anchor.Seq, anchor.Prev = e.Seq, e.Prev
		} else {
			// Nothing left: the anchor stands for the next entry, which
			// will chain to the last one removed (the head).
			anchor.Seq = btoi(doomed[len(doomed)-1]) + 1
			anchor.Prev = journalPrev(meta)
		}
		body, err := json.Marshal(anchor)
		if err != nil {
			return err
		}
		return meta.Put(keyJournalAnchor, append(mac(body), body...))
	})
	return n, err
}

// DecodeAnchor decodes the anchor's record and checks its MAC with mac.
func DecodeAnchor(r JournalRecord, mac JournalMAC) (JournalAnchor, bool, error) {
	var a JournalAnchor
	if err := json.Unmarshal(r.Body, &a); err != nil {
		return a, false, fmt.Errorf("store: unable to decode journal anchor: %w", err)
	}
	return a, hmac.Equal(mac(r.Body), r.MAC), nil
}

// JournalSize is how many entries the journal holds and the bytes its
// buckets (entries and indexes) take in the data file's pages.
type JournalSize struct {
	Entries int
	Bytes   int64
}

// JournalSize measures the journal in the data file.
func (s *Store) JournalSize() (JournalSize, error) {
	var js JournalSize
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketJournal, bucketJournalByClient, bucketJournalByStaff, bucketJournalMeta} {
			st := tx.Bucket(name).Stats()
			js.Bytes += int64(st.BranchInuse + st.LeafInuse + st.InlineBucketInuse)
			if bytes.Equal(name, bucketJournal) {
				js.Entries = st.KeyN
			}
		}
		return nil
	})
	return js, err
}
