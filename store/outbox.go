package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Channel is how a message travels. Each channel is its own delivery lane.
type Channel string

// The outbox channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Channels lists every channel, one delivery lane each.
var Channels = []Channel{ChannelEmail, ChannelSMS}

// MessageState is where a message is in its delivery.
type MessageState string

// The delivery states of an outbox message.
const (
	StateQueued  MessageState = "queued"  // waiting for (another) attempt
	StateSent    MessageState = "sent"    // accepted by the SMTP server or SMS provider
	StateFailed  MessageState = "failed"  // gave up after the last attempt
	StateLogged  MessageState = "logged"  // no delivery configured: printed to the log, sent once it is
	StateExpired MessageState = "expired" // its expiry passed before it could go out: never sent
	// StateWithdrawn: what it was about became void before it went out (a
	// link used or revoked, a session cancelled or moved): never sent.
	StateWithdrawn MessageState = "withdrawn"
)

// DefaultMessageTTL is how long a message without an expiry of its own may wait to go out.
const DefaultMessageTTL = 7 * 24 * time.Hour

// ErrNoSecret is returned by RevealMessage for a message that no longer
// holds a secret (sent, failed, expired) or never had one.
var ErrNoSecret = errors.New("store: the message holds no secret")

// Message is one email or SMS in the outbox. It holds what is needed to
// write it, not its text: the words are rendered in the recipient's
// language when it is sent (or shown), and the token or code it carries is
// kept sealed until then and dropped once it has gone out, so neither the
// Outbox page nor a copy of the data file gives a working link or code.
//
// To send something, fill Channel, To, Lang, Kind, Args, Secret and
// ExpiresAt, and call Store.Enqueue (or, in a handler, Handler.queue). The
// kind's writer in package mail puts Secret into the link or the code at
// send time.
type Message struct {
	ID      uint64  `json:"id"`
	Channel Channel `json:"channel"`
	To      string  `json:"to"`
	Lang    string  `json:"lang"`
	// Kind names the template the message is rendered with.
	Kind string `json:"kind"`
	// Args are the non-secret values the template needs (names, times in RFC 3339).
	Args map[string]string `json:"args,omitempty"`
	// ClientID is the client record the message goes to or speaks of (a
	// reminder, a code, a practitioner told of their download), AccountID
	// the portal account it went to: erasing the client finds it by them,
	// whatever address it went to and whatever has become of the account.
	ClientID  uint64 `json:"client_id,omitempty"`
	AccountID uint64 `json:"account_id,omitempty"`
	// Secret is the token or code the message carries, in the clear, only in
	// memory: Enqueue seals it into Sealed, ClaimDue and RevealMessage open it.
	Secret string `json:"-"`
	// Sealed is Secret sealed (see seal.go); emptied once the message is sent, failed or expired.
	Sealed string `json:"sealed,omitempty"`
	// ExpiresAt is when the message stops being worth sending (a code no
	// longer valid, a session already begun): after it the message is never sent.
	ExpiresAt   time.Time    `json:"expires_at"`
	State       MessageState `json:"state"`
	Attempts    int          `json:"attempts"`
	NextAttempt time.Time    `json:"next_attempt"`
	LastError   string       `json:"last_error,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	DoneAt      time.Time    `json:"done_at,omitzero"`
	// Reveals records every time someone read the secret on the Outbox page.
	Reveals []Reveal `json:"reveals,omitempty"`
	// Claimed is set while a delivery worker holds the message to send it
	// (ClaimDue). One process alone holds the data file, so a claim found at
	// start was cut by a stop or a crash: ReleaseClaims lets the message go
	// at once instead of when the claim would have run out.
	Claimed bool `json:"claimed,omitempty"`
	// Tries lists every attempt at sending it, oldest first; the last has no
	// Outcome while it is in flight.
	Tries []Try `json:"tries,omitempty"`
}

// Try is one attempt at sending a message.
type Try struct {
	At      time.Time  `json:"at"`
	Outcome TryOutcome `json:"outcome,omitempty"`
	// Error is what the server or provider answered to a failed attempt, links hidden.
	Error string `json:"error,omitempty"`
}

// TryOutcome is how an attempt at sending ended.
type TryOutcome string

// The outcomes of an attempt; an attempt in flight has none yet.
const (
	TrySent   TryOutcome = "sent"   // accepted by the SMTP server or the SMS provider
	TryFailed TryOutcome = "failed" // refused, or no answer in time
	// TryInterrupted: Foyer stopped before the answer came (a crash, a stop
	// during the send); the message may have left, and went again at the next start.
	TryInterrupted TryOutcome = "interrupted"
)

// EndTry records how the attempt in flight ended and ends the claim. With
// outcome "" the claim was not an attempt (the message was only logged, or
// withdrawn) and is forgotten.
func (m *Message) EndTry(outcome TryOutcome, errText string) {
	m.Claimed = false
	n := len(m.Tries)
	if n == 0 || m.Tries[n-1].Outcome != "" {
		return
	}
	if outcome == "" {
		m.Tries = m.Tries[:n-1]
		return
	}
	m.Tries[n-1].Outcome, m.Tries[n-1].Error = outcome, errText
}

// Reveal is one reading of a message's secret on the Outbox page.
type Reveal struct {
	StaffID uint64    `json:"staff_id"`
	At      time.Time `json:"at"`
}

// claimMessages names clientID as the client of the messages that went to
// portal account a or to its address and name no client yet: those sent
// while it was a prospect's (a sign-up's confirmation), or queued before
// messages named their client. Once the account is gone, its address is
// known nowhere else, and the client's erasure finds them by the client.
func claimMessages(tx *bolt.Tx, a Account, clientID uint64) error {
	email := NormalizeEmail(a.Email)
	var claimed []Message
	err := tx.Bucket(bucketOutbox).ForEach(func(_, raw []byte) error {
		var head struct {
			To        string `json:"to"`
			ClientID  uint64 `json:"client_id"`
			AccountID uint64 `json:"account_id"`
		}
		if err := unmarshal(raw, &head); err != nil {
			return err
		}
		if head.ClientID != 0 || (head.AccountID != a.ID && NormalizeEmail(head.To) != email) {
			return nil
		}
		var m Message
		if err := unmarshal(raw, &m); err != nil {
			return err
		}
		m.ClientID = clientID
		claimed = append(claimed, m)
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range claimed {
		if err := putJSON(tx, bucketOutbox, itob(m.ID), m); err != nil {
			return err
		}
	}
	return nil
}

// KindLegacy marks a message queued before schema 6: its whole text is its sealed secret.
const KindLegacy = "legacy"

// LegacyBody is the secret of a KindLegacy message, as JSON.
type LegacyBody struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
}

// Expired reports whether m may no longer be sent at now.
func (m Message) Expired(now time.Time) bool {
	return !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt)
}

// HasSecret reports whether the message still holds a sealed secret.
func (m Message) HasSecret() bool { return m.Sealed != "" }

// dueKey orders queued messages by lane, then by next attempt.
func dueKey(ch Channel, t time.Time, id uint64) []byte {
	k := make([]byte, 0, len(ch)+17)
	k = append(k, ch...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(k, id)
}

func loggedKey(ch Channel, id uint64) []byte {
	k := append([]byte(ch), 0)
	return binary.BigEndian.AppendUint64(k, id)
}

// Enqueue adds a message to the outbox, due at once, sealing its secret.
func (s *Store) Enqueue(m *Message) error {
	return s.db.Update(func(tx *bolt.Tx) error { return s.enqueue(tx, m) })
}

// enqueue queues m within tx, so a record change and its message commit together.
func (s *Store) enqueue(tx *bolt.Tx, m *Message) error {
	if s.checkMessage != nil {
		if err := s.checkMessage(m); err != nil {
			return err
		}
	}
	sealed, err := s.Seal(m.Secret)
	if err != nil {
		return err
	}
	id, err := tx.Bucket(bucketOutbox).NextSequence()
	if err != nil {
		return err
	}
	stored := *m
	stored.ID, stored.State, stored.Sealed, stored.Secret = id, StateQueued, sealed, ""
	if stored.CreatedAt.IsZero() {
		stored.CreatedAt = time.Now().UTC()
	}
	if stored.ExpiresAt.IsZero() {
		stored.ExpiresAt = stored.CreatedAt.Add(DefaultMessageTTL)
	}
	stored.NextAttempt = stored.CreatedAt
	if err := tx.Bucket(bucketOutboxDue).Put(dueKey(stored.Channel, stored.NextAttempt, id), nil); err != nil {
		return err
	}
	if err := putJSON(tx, bucketOutbox, itob(id), stored); err != nil {
		return err
	}
	secret := m.Secret
	*m = stored
	m.Secret = secret
	return nil
}

// DueMessages returns up to limit queued messages of a lane whose next attempt is at or before now.
func (s *Store) DueMessages(ch Channel, now time.Time, limit int) ([]Message, error) {
	var out []Message
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachDue(tx, ch, now, func(id []byte) error {
			if len(out) == limit {
				return errStop
			}
			var m Message
			if err := getJSON(tx, bucketOutbox, id, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

var errStop = errors.New("stop")

// eachDue calls fn with the ID of every queued message of ch due at now, soonest first.
func eachDue(tx *bolt.Tx, ch Channel, now time.Time, fn func(id []byte) error) error {
	c := tx.Bucket(bucketOutboxDue).Cursor()
	prefix := append([]byte(ch), 0)
	end := dueKey(ch, now, ^uint64(0))
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, end) <= 0; k, _ = c.Next() {
		if err := fn(k[len(k)-8:]); errors.Is(err, errStop) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}

// ClaimDue takes up to limit due messages of a lane for sending: each one's
// next attempt moves lease ahead, so another poll does not take it while it
// is being sent, and an attempt starts in its Tries (see Message.EndTry).
// Their secrets come back opened. Messages past their expiry are marked
// expired (and lose their secret) instead of being returned.
func (s *Store) ClaimDue(ch Channel, now time.Time, lease time.Duration, limit int) ([]Message, error) {
	var out []Message
	err := s.db.Update(func(tx *bolt.Tx) error {
		var ids [][]byte
		if err := eachDue(tx, ch, now, func(id []byte) error {
			if len(ids) == limit {
				return errStop
			}
			ids = append(ids, append([]byte(nil), id...))
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			m, err := updateMessage(tx, btoi(id), func(m *Message) {
				if m.Expired(now) {
					m.State, m.DoneAt = StateExpired, now.UTC()
					return
				}
				m.NextAttempt = now.Add(lease).UTC()
				m.Claimed = true
				m.Tries = append(m.Tries, Try{At: now.UTC()})
			})
			if err != nil {
				return err
			}
			if m.State == StateQueued {
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Secret, err = s.Unseal(out[i].Sealed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReleaseLogged queues again the messages of a lane that were only logged
// because the channel had no delivery then: it has one now. Those past
// their expiry are marked expired instead. It returns how many were queued.
func (s *Store) ReleaseLogged(ch Channel, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		var ids []uint64
		c := tx.Bucket(bucketOutboxLogged).Cursor()
		prefix := append([]byte(ch), 0)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, btoi(k[len(k)-8:]))
		}
		for _, id := range ids {
			m, err := updateMessage(tx, id, func(m *Message) {
				if m.State != StateLogged {
					return
				}
				if m.Expired(now) {
					m.State, m.DoneAt = StateExpired, now.UTC()
					return
				}
				m.State, m.NextAttempt, m.DoneAt = StateQueued, now.UTC(), time.Time{}
			})
			if err != nil {
				return err
			}
			if m.State == StateQueued {
				n++
			}
		}
		return nil
	})
	return n, err
}

// ReleaseClaims makes the claimed messages of a lane due at now, and marks
// their attempt in flight interrupted: called as delivery starts, when no
// other sender can be holding them (only one process opens the data file),
// so that what a stop or a crash cut goes out at once rather than once its
// claim runs out. It returns how many were released.
func (s *Store) ReleaseClaims(ch Channel, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		// Every queued message of the lane, claimed or waiting out a backoff.
		var ids []uint64
		if err := eachDue(tx, ch, time.Unix(0, math.MaxInt64), func(id []byte) error {
			ids = append(ids, btoi(id))
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			var m Message
			if err := getJSON(tx, bucketOutbox, itob(id), &m); err != nil {
				return err
			}
			if !m.Claimed {
				continue
			}
			if _, err := updateMessage(tx, id, func(m *Message) {
				m.EndTry(TryInterrupted, "")
				m.NextAttempt = now.UTC()
			}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// UpdateMessage applies fn to a message and keeps the lane indexes in step
// with its state. A message that is done (sent, failed, expired) loses its
// sealed secret: nothing usable stays behind.
func (s *Store) UpdateMessage(id uint64, fn func(*Message)) (Message, error) {
	var m Message
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		m, err = updateMessage(tx, id, fn)
		return err
	})
	return m, err
}

func updateMessage(tx *bolt.Tx, id uint64, fn func(*Message)) (Message, error) {
	var m Message
	if err := getJSON(tx, bucketOutbox, itob(id), &m); err != nil {
		return m, err
	}
	if err := unindexMessage(tx, m); err != nil {
		return m, err
	}
	fn(&m)
	m.Secret = ""
	switch m.State {
	case StateSent, StateFailed, StateExpired, StateWithdrawn:
		m.Sealed = ""
	}
	if err := indexMessage(tx, m); err != nil {
		return m, err
	}
	return m, putJSON(tx, bucketOutbox, itob(id), m)
}

func indexMessage(tx *bolt.Tx, m Message) error {
	switch m.State {
	case StateQueued:
		return tx.Bucket(bucketOutboxDue).Put(dueKey(m.Channel, m.NextAttempt, m.ID), nil)
	case StateLogged:
		return tx.Bucket(bucketOutboxLogged).Put(loggedKey(m.Channel, m.ID), nil)
	}
	return nil
}

func unindexMessage(tx *bolt.Tx, m Message) error {
	switch m.State {
	case StateQueued:
		return tx.Bucket(bucketOutboxDue).Delete(dueKey(m.Channel, m.NextAttempt, m.ID))
	case StateLogged:
		return tx.Bucket(bucketOutboxLogged).Delete(loggedKey(m.Channel, m.ID))
	}
	return nil
}

// RevealMessage opens the secret of a message waiting in the outbox
// (logged, not expired) and records who read it and when, in the same
// transaction: no reading goes unrecorded.
func (s *Store) RevealMessage(id, staffID uint64, now time.Time) (Message, error) {
	var m Message
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketOutbox, itob(id), &m); err != nil {
			return err
		}
		if m.State != StateLogged || !m.HasSecret() || m.Expired(now) {
			return ErrNoSecret
		}
		m.Reveals = append(m.Reveals, Reveal{StaffID: staffID, At: now.UTC()})
		return putJSON(tx, bucketOutbox, itob(id), m)
	})
	if err != nil {
		return m, err
	}
	m.Secret, err = s.Unseal(m.Sealed)
	return m, err
}

// Message loads one outbox message (its secret stays sealed).
func (s *Store) Message(id uint64) (Message, error) {
	var m Message
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketOutbox, itob(id), &m) })
	return m, err
}

// ListMessages returns up to limit messages, newest first, with IDs below before (0 for the newest).
func (s *Store) ListMessages(before uint64, limit int) ([]Message, error) {
	var out []Message
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else {
			c.Seek(itob(before))
			k, v = c.Prev()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var m Message
			if err := unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// migrate5to6 files queued messages under their lane and indexes logged
// ones, which the delivery worker sends once their channel is configured.
func migrate5to6(tx *bolt.Tx) error {
	if err := tx.DeleteBucket(bucketOutboxDue); err != nil && !errors.Is(err, errBucketNotFound) {
		return err
	}
	for _, b := range [][]byte{bucketOutboxDue, bucketOutboxLogged} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
		var m Message
		if err := unmarshal(v, &m); err != nil {
			return err
		}
		return indexMessage(tx, m)
	})
}

// sealLegacyMessages rewrites messages stored whole before schema 6: the
// text of one still to be sent becomes its sealed secret; a sent or failed
// one keeps its subject alone. It runs once sealing is set up, right after
// the migration to schema 6.
func (s *Store) sealLegacyMessages(tx *bolt.Tx) error {
	b := tx.Bucket(bucketOutbox)
	type change struct{ k, v []byte }
	var changes []change
	err := b.ForEach(func(k, v []byte) error {
		// Before schema 5 a message held its whole text beside these fields.
		var old struct {
			Message
			LegacyBody
		}
		if err := unmarshal(v, &old); err != nil {
			return err
		}
		m := old.Message
		if m.Kind != "" {
			return nil
		}
		m.Kind = KindLegacy
		if old.Subject != "" {
			m.Args = map[string]string{"Subject": old.Subject}
		}
		if m.State == StateQueued || m.State == StateLogged {
			if m.ExpiresAt.IsZero() {
				m.ExpiresAt = m.CreatedAt.Add(DefaultMessageTTL)
			}
			body, err := json.Marshal(old.LegacyBody)
			if err != nil {
				return err
			}
			if m.Sealed, err = seal(s.sealKey, string(body)); err != nil {
				return err
			}
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		changes = append(changes, change{append([]byte(nil), k...), raw})
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := b.Put(c.k, c.v); err != nil {
			return err
		}
	}
	return nil
}
