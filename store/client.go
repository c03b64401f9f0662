package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PhoneType is what a phone number is for.
type PhoneType string

// The phone types.
const (
	PhoneMobile PhoneType = "mobile"
	PhoneHome   PhoneType = "home"
	PhoneWork   PhoneType = "work"
	PhoneOther  PhoneType = "other"
)

// PhoneTypes lists the phone types in form order.
var PhoneTypes = []PhoneType{PhoneMobile, PhoneHome, PhoneWork, PhoneOther}

// Phone is one number of a client, stored in E.164.
type Phone struct {
	Type   PhoneType `json:"type"`
	Number string    `json:"number"`
	// Mobile is true when the number parses as a valid mobile number: only then can it receive codes.
	Mobile bool `json:"mobile"`
	// Unconfirmed marks a mobile the client added in the portal: it receives
	// codes only once staff confirm it, so whoever takes over the client's
	// mailbox (and with it the portal password) cannot redirect security codes.
	Unconfirmed bool `json:"unconfirmed,omitempty"`
}

// ReceivesCodes reports whether security codes may be sent to the number.
func (p Phone) ReceivesCodes() bool { return p.Mobile && !p.Unconfirmed }

// KeepConfirmation carries over, onto phones just read from a form, which
// numbers of old were still unconfirmed; a new mobile is unconfirmed when
// byClient (the client typed it in the portal), confirmed when staff typed it.
func KeepConfirmation(old, phones []Phone, byClient bool) {
	for i := range phones {
		known, unconfirmed := false, false
		for _, o := range old {
			if o.Number == phones[i].Number {
				known, unconfirmed = true, o.Unconfirmed
				break
			}
		}
		phones[i].Unconfirmed = phones[i].Mobile && (unconfirmed || (!known && byClient))
	}
}

// Client is a client record.
type Client struct {
	ID             uint64  `json:"id"`
	FirstName      string  `json:"first_name"`
	LastName       string  `json:"last_name"`
	Email          string  `json:"email,omitempty"`
	Phones         []Phone `json:"phones,omitempty"`
	Lang           string  `json:"lang"`
	BirthDate      string  `json:"birth_date,omitempty"` // YYYY-MM-DD
	Address        string  `json:"address,omitempty"`
	Notes          string  `json:"notes,omitempty"`
	PractitionerID uint64  `json:"practitioner_id"`
	Archived       bool    `json:"archived,omitempty"`
	// AccountID is the linked portal account, 0 when there is none.
	AccountID uint64    `json:"account_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Name is the client's full name.
func (c Client) Name() string { return strings.TrimSpace(c.FirstName + " " + c.LastName) }

// ErrAlreadyLinked is returned when a client or an account already has a link.
var ErrAlreadyLinked = errors.New("store: already linked")

// clientIndexKey sorts clients by last name, first name, then ID.
func clientIndexKey(c Client) []byte {
	k := []byte(Fold(c.LastName) + "\x00" + Fold(c.FirstName) + "\x00")
	return append(k, itob(c.ID)...)
}

// clientIndexValue packs what a search needs without decoding the record:
// practitioner (8 bytes), archived (1), birth date (10), then the search text.
func clientIndexValue(c Client) []byte {
	v := make([]byte, 0, 64)
	v = append(v, itob(c.PractitionerID)...)
	if c.Archived {
		v = append(v, 1)
	} else {
		v = append(v, 0)
	}
	dob := []byte("0000-00-00")
	if len(c.BirthDate) == 10 {
		dob = []byte(c.BirthDate)
	}
	v = append(v, dob...)
	text := []string{Fold(c.FirstName), Fold(c.LastName), Fold(c.Email)}
	for _, p := range c.Phones {
		text = append(text, digits(p.Number), nationalDigits(p.Number))
	}
	return append(v, strings.Join(text, " ")...)
}

// nationalDigits turns +33612345678 into 0612345678, the way people type a number at home.
// It is a search aid only: numbers are stored and compared in E.164.
func nationalDigits(e164 string) string {
	d := digits(e164)
	for _, cc := range []string{"33", "32", "41", "352", "44", "1"} {
		if strings.HasPrefix(d, cc) {
			if cc == "1" {
				return d[1:]
			}
			return "0" + d[len(cc):]
		}
	}
	return d
}

// clientSearchEntry is a client as its search block holds it: the same text,
// practitioner, archived flag and name order as client_index.
func clientSearchEntry(c Client) searchEntry {
	k, v := clientIndexKey(c), clientIndexValue(c)
	return searchEntry{id: c.ID, tag: c.PractitionerID, flag: v[8], text: v[19:], sort: k[:len(k)-8]}
}

// putClientIndexes writes a client's indexes and search entry; a new
// client's trigram postings wait for later when it is not nil.
func putClientIndexes(tx *bolt.Tx, c Client, later *gramBatch) error {
	if err := tx.Bucket(bucketClientIndex).Put(clientIndexKey(c), clientIndexValue(c)); err != nil {
		return err
	}
	if err := putSearchEntry(clientSearch(tx), clientSearchEntry(c), later); err != nil {
		return err
	}
	if e := NormalizeEmail(c.Email); e != "" {
		if err := tx.Bucket(bucketClientsByEmail).Put(append([]byte(e+"\x00"), itob(c.ID)...), nil); err != nil {
			return err
		}
	}
	for _, p := range c.Phones {
		if err := tx.Bucket(bucketClientsByPhone).Put(append([]byte(p.Number+"\x00"), itob(c.ID)...), nil); err != nil {
			return err
		}
	}
	return nil
}

func deleteClientIndexes(tx *bolt.Tx, c Client) error {
	if err := tx.Bucket(bucketClientIndex).Delete(clientIndexKey(c)); err != nil {
		return err
	}
	if e := NormalizeEmail(c.Email); e != "" {
		if err := tx.Bucket(bucketClientsByEmail).Delete(append([]byte(e+"\x00"), itob(c.ID)...)); err != nil {
			return err
		}
	}
	for _, p := range c.Phones {
		if err := tx.Bucket(bucketClientsByPhone).Delete(append([]byte(p.Number+"\x00"), itob(c.ID)...)); err != nil {
			return err
		}
	}
	return nil
}

// CreateClient inserts a client record and its indexes.
func (s *Store) CreateClient(c *Client) error {
	return s.db.Update(func(tx *bolt.Tx) error { return insertClient(tx, c, nil) })
}

func insertClient(tx *bolt.Tx, c *Client, later *gramBatch) error {
	id, err := tx.Bucket(bucketClients).NextSequence()
	if err != nil {
		return fmt.Errorf("store: unable to allocate client ID: %w", err)
	}
	c.ID = id
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	c.UpdatedAt = c.CreatedAt
	if err := putClientIndexes(tx, *c, later); err != nil {
		return err
	}
	return putJSON(tx, bucketClients, itob(id), c)
}

// Client loads a client record.
func (s *Store) Client(id uint64) (Client, error) {
	var c Client
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketClients, itob(id), &c) })
	return c, err
}

// UpdateClient applies fn to a client and rewrites its indexes in the same transaction.
func (s *Store) UpdateClient(id uint64, fn func(*Client) error) (Client, error) {
	var c Client
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		c, err = updateClient(tx, id, fn)
		return err
	})
	return c, err
}

func updateClient(tx *bolt.Tx, id uint64, fn func(*Client) error) (Client, error) {
	var c Client
	if err := getJSON(tx, bucketClients, itob(id), &c); err != nil {
		return c, err
	}
	if err := deleteClientIndexes(tx, c); err != nil {
		return c, err
	}
	if err := fn(&c); err != nil {
		return c, err
	}
	c.ID = id
	c.UpdatedAt = time.Now().UTC()
	if err := putClientIndexes(tx, c, nil); err != nil {
		return c, err
	}
	return c, putJSON(tx, bucketClients, itob(id), c)
}

// ClientFilter narrows a client search.
type ClientFilter struct {
	Query Query
	// PractitionerID, when not 0, keeps only that practitioner's clients.
	PractitionerID uint64
	Archived       bool // archived clients instead of active ones
	Offset, Limit  int
}

// SearchClients returns one page of matching clients in name order, and how many match in all.
// The trigram index (searchindex.go) gives the candidates, checked against
// their texts in the search blocks (searchblock.go); the page's records alone
// are decoded.
func (s *Store) SearchClients(f ClientFilter) ([]Client, int, error) {
	var out []Client
	total := 0
	terms := f.Query.bytes()
	err := s.db.View(func(tx *bolt.Tx) error {
		if f.Query.Empty() {
			var err error
			out, total, err = listClients(tx, f)
			return err
		}
		keep := func(b blockView, i int) bool {
			return (f.PractitionerID == 0 || b.tag(i) == f.PractitionerID) && (b.flag(i) == 1) == f.Archived
		}
		// matches calls fn for every match, in ID order.
		var matches func(fn func(b blockView, i int)) error
		if grams := queryGrams(terms); grams != nil {
			sets := candidates(tx.Bucket(bucketClientGrams), grams)
			matches = func(fn func(b blockView, i int)) error {
				eachCandidate(tx.Bucket(bucketClientSearch), sets, false, terms, keep, func(b blockView, i int) bool {
					fn(b, i)
					return true
				})
				return nil
			}
		} else {
			// Only terms of one or two bytes: no trigram to look up.
			matches = func(fn func(b blockView, i int)) error {
				return tx.Bucket(bucketClientSearch).ForEach(func(_, v []byte) error {
					b := viewBlock(v)
					b.each(terms, func(i int) bool { return keep(b, i) }, func(i int) { fn(b, i) })
					return nil
				})
			}
		}
		if err := matches(func(blockView, int) { total++ }); err != nil || f.Offset >= total {
			return err
		}
		// The page: when a quarter of the clients or more match (a first
		// letter, a common domain), the first ones in name order are
		// usually met soon walking client_index; else, or when the walk
		// reads as many entries as there are matches without filling the
		// page (matches bunched late in name order), the matches are gone
		// through again, keeping the first in name order.
		var ids [][]byte
		walked := false
		if all := countEntries(tx.Bucket(bucketSearchCounts), 'c', func(uint64, byte) bool { return true }); 4*total >= all {
			ids, walked = walkClients(tx, f, terms, total)
		}
		if !walked {
			need := f.Offset + f.Limit
			top := &topHits{k: need}
			if err := matches(func(b blockView, i int) { top.offer(hit{key: b.sortKey(i), id: b.id(i)}) }); err != nil {
				return err
			}
			ids = ids[:0]
			for _, h := range top.sorted()[min(f.Offset, len(top.h)):] {
				ids = append(ids, h.id)
			}
		}
		for _, id := range ids {
			var c Client
			if err := getJSON(tx, bucketClients, id, &c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, total, err
}

// walkClients pages through client_index in name order, keeping the clients
// of the filter whose text holds every term. It gives up (false) after
// reading budget entries without filling the page.
func walkClients(tx *bolt.Tx, f ClientFilter, terms [][]byte, budget int) ([][]byte, bool) {
	var ids [][]byte
	seen := 0
	c := tx.Bucket(bucketClientIndex).Cursor()
	for k, v := c.First(); len(ids) < f.Limit; k, v = c.Next() {
		if k == nil {
			return ids, true // the end: the page is what there is
		}
		if budget--; budget < 0 {
			return nil, false
		}
		if len(v) < 19 || (f.PractitionerID != 0 && binary.BigEndian.Uint64(v[:8]) != f.PractitionerID) || (v[8] == 1) != f.Archived {
			continue
		}
		text, all := v[19:], true
		for _, t := range terms {
			if !bytes.Contains(text, t) {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		if seen++; seen > f.Offset {
			ids = append(ids, k[len(k)-8:])
		}
	}
	return ids, true
}

// listClients is SearchClients without a query: the count from the search
// counts, the page from client_index, already in name order.
func listClients(tx *bolt.Tx, f ClientFilter) ([]Client, int, error) {
	keep := func(practitioner uint64, archived byte) bool {
		return (f.PractitionerID == 0 || practitioner == f.PractitionerID) && (archived == 1) == f.Archived
	}
	total := countEntries(tx.Bucket(bucketSearchCounts), 'c', keep)
	if f.Offset >= total {
		return nil, total, nil
	}
	var out []Client
	seen := 0
	c := tx.Bucket(bucketClientIndex).Cursor()
	for k, v := c.First(); k != nil && len(out) < f.Limit; k, v = c.Next() {
		if len(v) < 19 || !keep(binary.BigEndian.Uint64(v[:8]), v[8]) {
			continue
		}
		if seen++; seen <= f.Offset {
			continue
		}
		var cl Client
		if err := getJSON(tx, bucketClients, k[len(k)-8:], &cl); err != nil {
			return nil, 0, err
		}
		out = append(out, cl)
	}
	return out, total, nil
}

// MatchClients suggests clients that may be the person behind a sign-up: same
// email, same phone number, or same name and date of birth.
func (s *Store) MatchClients(email, phone, firstName, lastName, birthDate string, limit int) ([]Client, error) {
	var out []Client
	seen := map[uint64]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		add := func(id []byte) error {
			n := binary.BigEndian.Uint64(id)
			if seen[n] || len(out) >= limit {
				return nil
			}
			var c Client
			if err := getJSON(tx, bucketClients, id, &c); err != nil {
				return err
			}
			if c.Archived {
				return nil
			}
			seen[n] = true
			out = append(out, c)
			return nil
		}
		prefixScan := func(b []byte, prefix string) error {
			if prefix == "\x00" {
				return nil
			}
			c := tx.Bucket(b).Cursor()
			for k, _ := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = c.Next() {
				if err := add(k[len(k)-8:]); err != nil {
					return err
				}
			}
			return nil
		}
		if err := prefixScan(bucketClientsByEmail, NormalizeEmail(email)+"\x00"); err != nil {
			return err
		}
		if err := prefixScan(bucketClientsByPhone, phone+"\x00"); err != nil {
			return err
		}
		if birthDate == "" || lastName == "" {
			return nil
		}
		prefix := []byte(Fold(lastName) + "\x00" + Fold(firstName) + "\x00")
		c := tx.Bucket(bucketClientIndex).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) >= 19 && string(v[9:19]) == birthDate {
				if err := add(k[len(k)-8:]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}
