package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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
//
// The chain alone cannot show entries cut from its end: what is left still
// chains. So the head record, which names the last entry and its MAC, is
// signed by the store, in the transaction that writes the entries, under a
// key derived from the data file's HMAC key (which the file holds only
// wrapped under the secret key): without the key, nobody can point it at an
// earlier entry.

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

// journalHeadLabel derives the key that signs the head record from the
// data file's HMAC key; the journal's entries use another (package journal).
const journalHeadLabel = "foyer journal head v1"

// legacyHeadSize is the size of the head record as Foyer wrote it before it
// was signed: the sequence number (8) and the last entry's MAC.
const legacyHeadSize = 8 + journalMACSize

// JournalHead is the head record: the last entry written and the MAC the
// next one chains to, signed by the store.
type JournalHead struct {
	Seq  uint64 `json:"seq"`
	Last []byte `json:"last"`
	// Broken is the first entry written after Foyer found the head record
	// missing, unsigned or changed (entries may have been cut from the end
	// before it); 0 when it never was, or when the retention purge has
	// since removed that entry.
	Broken uint64 `json:"broken,omitempty"`
	// Signed is false when the record is missing, in the unsigned form of an
	// older Foyer, or does not match its signature: nothing else in it is
	// to be believed then.
	Signed bool `json:"-"`
}

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

// AppendJournal adds entries at the end of the journal, in one transaction
// with the head record that names the last of them: each gets the next
// sequence number and the MAC of the one before, mac signs it. Seq, Prev and
// MAC are set on the entries given.
//
// A head record that is not signed was removed or changed without the key:
// the entries still go in, numbered after every number used, and the new
// head records where that was found (Broken), so the check keeps naming it.
func (s *Store) AppendJournal(entries []JournalEntry, mac JournalMAC) error {
	if len(entries) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, meta := tx.Bucket(bucketJournal), tx.Bucket(bucketJournalMeta)
		// Entries only ever go at the end: full pages, not bbolt's half-full splits.
		b.FillPercent = 0.95
		head := s.journalHead(meta)
		lastKey, lastValue := b.Cursor().Last()
		seq := max(b.Sequence(), head.Seq)
		if lastKey != nil {
			// Never over an entry kept, whatever the bucket's sequence says.
			seq = max(seq, btoi(lastKey))
		}
		prev := head.Last
		if !head.Signed {
			prev = nil
			if len(lastValue) >= journalMACSize {
				prev = bytes.Clone(lastValue[:journalMACSize])
			}
			head = JournalHead{Broken: seq + 1}
		}
		for i := range entries {
			e := &entries[i]
			seq++
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
		if err := b.SetSequence(seq); err != nil {
			return err
		}
		head.Seq, head.Last = seq, prev
		return s.putJournalHead(meta, head)
	})
}

// journalHeadMAC signs a head record's JSON.
func (s *Store) journalHeadMAC(body []byte) []byte {
	m := hmac.New(sha256.New, s.Hash(journalHeadLabel))
	m.Write(body)
	return m.Sum(nil)
}

// journalHead reads the head record and checks its signature.
func (s *Store) journalHead(meta *bolt.Bucket) JournalHead {
	var h JournalHead
	v := meta.Get(keyJournalHead)
	if len(v) <= journalMACSize || json.Unmarshal(v[journalMACSize:], &h) != nil {
		return JournalHead{}
	}
	h.Signed = hmac.Equal(v[:journalMACSize], s.journalHeadMAC(v[journalMACSize:]))
	return h
}

// putJournalHead writes the head record, signed.
func (s *Store) putJournalHead(meta *bolt.Bucket, h JournalHead) error {
	body, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("store: unable to encode the journal head: %w", err)
	}
	return meta.Put(keyJournalHead, append(s.journalHeadMAC(body), body...))
}

// JournalHead returns the head record (Signed false when it cannot be
// believed) and the anchor's record (nil when nothing was ever purged).
func (s *Store) JournalHead() (head JournalHead, anchor *JournalRecord, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketJournalMeta)
		head = s.journalHead(meta)
		if a := meta.Get(keyJournalAnchor); a != nil {
			if len(a) < journalMACSize {
				return errors.New("store: journal anchor too short")
			}
			anchor = &JournalRecord{MAC: bytes.Clone(a[:journalMACSize]), Body: bytes.Clone(a[journalMACSize:])}
		}
		return nil
	})
	return head, anchor, err
}

// JournalHeadUpgrade is what the upgrade to schema 14 did to the journal's
// head record (see Upgrade).
type JournalHeadUpgrade struct {
	// Signed: the head an older Foyer wrote unsigned was signed as it
	// stood, naming entry Seq.
	Signed bool
	Seq    uint64
	// Refused: the file's keys say its head was signed already, yet it is
	// not (the schema was set back by hand): it was left for the check to name.
	Refused bool
}

// migrate13to14 makes no bucket: the upgrade to schema 14 signs the
// journal's head record, which needs the data file's keys (signJournalHead).
func migrate13to14(*bolt.Tx) error { return nil }

// signJournalHead is the upgrade to schema 14, in the migration's
// transaction: it signs the head record an older Foyer wrote unsigned (or
// writes the first one of a new or empty journal), and marks the data
// file's wrapped keys so that no later open signs an unsigned head again.
// What it signs is taken as it stands: a tail cut before this upgrade
// cannot be told from the journal as it was.
func (s *Store) signJournalHead(tx *bolt.Tx) (JournalHeadUpgrade, error) {
	var up JournalHeadUpgrade
	meta := tx.Bucket(bucketJournalMeta)
	if s.journalHeadMarked {
		up.Refused = !s.journalHead(meta).Signed
		return up, nil
	}
	if tx.Bucket(bucketMeta).Get(keySecrets) == nil {
		// A new file: its keys, and the first head signed with them, are
		// written together once the schema is made (writeSecrets).
		return up, nil
	}
	if v := meta.Get(keyJournalHead); len(v) == legacyHeadSize {
		up.Signed, up.Seq = true, btoi(v[:8])
		if err := s.putJournalHead(meta, JournalHead{Seq: up.Seq, Last: bytes.Clone(v[8:])}); err != nil {
			return up, err
		}
	}
	if err := s.firstJournalHead(tx); err != nil {
		return up, err
	}
	return up, s.markJournalHead(tx)
}

// firstJournalHead writes the head record of a journal nothing was ever
// written in, so that from then on a missing head means a removed one. A
// head missing beside entries stays missing: the check names it.
func (s *Store) firstJournalHead(tx *bolt.Tx) error {
	meta, b := tx.Bucket(bucketJournalMeta), tx.Bucket(bucketJournal)
	if k, _ := b.Cursor().First(); k != nil {
		return nil
	}
	if meta.Get(keyJournalHead) != nil || meta.Get(keyJournalAnchor) != nil || b.Sequence() != 0 {
		return nil
	}
	return s.putJournalHead(meta, JournalHead{})
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
		var next []byte    // the first entry kept: its key
		var lastMAC []byte // the last entry removed: its MAC
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
			lastMAC = bytes.Clone(v[:min(len(v), journalMACSize)])
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
			// will chain to the last one removed (as the head says).
			anchor.Seq = btoi(doomed[len(doomed)-1]) + 1
			anchor.Prev = lastMAC
		}
		body, err := json.Marshal(anchor)
		if err != nil {
			return err
		}
		if err := meta.Put(keyJournalAnchor, append(mac(body), body...)); err != nil {
			return err
		}
		// A break the head recorded goes with the entries it stood before:
		// what was cut then is past the retention period too.
		if head := s.journalHead(meta); head.Signed && head.Broken != 0 && head.Broken < anchor.Seq {
			head.Broken = 0
			return s.putJournalHead(meta, head)
		}
		return nil
	})
	return n, err
}

// DecodeAnchor decodes the anchor's record and checks its MAC with mac.
// Entries are signed with the same key and their records lie in clear in
// the file, so one put where the anchor goes would pass the MAC: an anchor
// holds the anchor's fields alone, and an entry (its action, its address)
// is refused.
func DecodeAnchor(r JournalRecord, mac JournalMAC) (JournalAnchor, bool, error) {
	var a JournalAnchor
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
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
