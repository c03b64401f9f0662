package store

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Channel is how a message travels.
type Channel string

// The outbox channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// MessageState is where a message is in its delivery.
type MessageState string

// The delivery states of an outbox message.
const (
	StateQueued MessageState = "queued" // waiting for (another) attempt
	StateSent   MessageState = "sent"   // accepted by the SMTP server or SMS provider
	StateFailed MessageState = "failed" // gave up after the last attempt
	StateLogged MessageState = "logged" // no delivery configured: printed to the log only
)

// Message is one email or SMS in the outbox.
type Message struct {
	ID          uint64       `json:"id"`
	Channel     Channel      `json:"channel"`
	To          string       `json:"to"`
	Subject     string       `json:"subject,omitempty"`
	Text        string       `json:"text"`
	HTML        string       `json:"html,omitempty"`
	Lang        string       `json:"lang"`
	State       MessageState `json:"state"`
	Attempts    int          `json:"attempts"`
	NextAttempt time.Time    `json:"next_attempt"`
	LastError   string       `json:"last_error,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	DoneAt      time.Time    `json:"done_at,omitempty"`
}

func dueKey(t time.Time, id uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], id)
	return k
}

// Enqueue adds a message to the outbox, due at once.
func (s *Store) Enqueue(m *Message) error {
	return s.db.Update(func(tx *bolt.Tx) error { return enqueue(tx, m) })
}

// enqueue queues m within tx, so a record change and its message commit together.
func enqueue(tx *bolt.Tx, m *Message) error {
	id, err := tx.Bucket(bucketOutbox).NextSequence()
	if err != nil {
		return err
	}
	m.ID = id
	m.State = StateQueued
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	m.NextAttempt = m.CreatedAt
	if err := tx.Bucket(bucketOutboxDue).Put(dueKey(m.NextAttempt, id), nil); err != nil {
		return err
	}
	return putJSON(tx, bucketOutbox, itob(id), m)
}

// DueMessages returns up to limit queued messages whose next attempt is at or before now.
func (s *Store) DueMessages(now time.Time, limit int) ([]Message, error) {
	var out []Message
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutboxDue).Cursor()
		end := dueKey(now, ^uint64(0))
		for k, _ := c.First(); k != nil && string(k) <= string(end) && len(out) < limit; k, _ = c.Next() {
			var m Message
			if err := getJSON(tx, bucketOutbox, k[8:], &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// UpdateMessage applies fn to a message and keeps the due index in step with its state.
func (s *Store) UpdateMessage(id uint64, fn func(*Message)) (Message, error) {
	var m Message
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketOutbox, itob(id), &m); err != nil {
			return err
		}
		due := tx.Bucket(bucketOutboxDue)
		if m.State == StateQueued {
			if err := due.Delete(dueKey(m.NextAttempt, id)); err != nil {
				return err
			}
		}
		fn(&m)
		if m.State == StateQueued {
			if err := due.Put(dueKey(m.NextAttempt, id), nil); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketOutbox, itob(id), m)
	})
	return m, err
}

// Message loads one outbox message.
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
