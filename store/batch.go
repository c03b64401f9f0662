package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// Batch adds many records in one transaction, each with its indexes exactly
// as the one-record methods write them. Demo data and benchmarks make
// thousands of records at once; one transaction (and one fsync) per record
// would take minutes.
type Batch struct {
	s  *Store
	tx *bolt.Tx
	// grams holds back the trigram postings of the records added, written
	// once per posting value at the end instead of once per record.
	grams *gramBatch
}

// Batch runs fn in one write transaction; nothing is kept if fn fails.
func (s *Store) Batch(fn func(*Batch) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		// Records keyed by a growing ID only ever go at the end: full pages
		// instead of bbolt's half-full splits halve the file a batch leaves.
		for _, name := range [][]byte{bucketClients, bucketAccounts, bucketAppointments, bucketOutbox} {
			tx.Bucket(name).FillPercent = 0.95
		}
		b := &Batch{s: s, tx: tx, grams: &gramBatch{}}
		if err := fn(b); err != nil {
			return err
		}
		return b.grams.flush()
	})
}

// AddClient is CreateClient within the batch.
func (b *Batch) AddClient(c *Client) error { return insertClient(b.tx, c, b.grams) }

// AddAccount is CreateAccount within the batch.
func (b *Batch) AddAccount(a *Account) error { return insertAccount(b.tx, a, b.grams) }

// LinkAccount is Store.LinkAccount within the batch.
func (b *Batch) LinkAccount(accountID, clientID uint64) error {
	return linkAccount(b.tx, accountID, clientID)
}

// AddAppointment is CreateAppointment within the batch.
func (b *Batch) AddAppointment(a *Appointment) error { return insertAppointment(b.tx, a) }

// AddMessage adds a message to the outbox in the state it carries (a
// message sent long ago, for demo data, holds no secret); only a queued one
// is due, and is sealed as Enqueue seals it.
func (b *Batch) AddMessage(m *Message) error {
	if m.State == "" || m.State == StateQueued {
		return b.s.enqueue(b.tx, m)
	}
	m.Secret, m.Sealed = "", ""
	id, err := b.tx.Bucket(bucketOutbox).NextSequence()
	if err != nil {
		return err
	}
	m.ID = id
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	return putJSON(b.tx, bucketOutbox, itob(id), m)
}

// AddShare is CreateShare within the batch, without messages.
func (b *Batch) AddShare(sh *Share, token string, events []ShareEvent) error {
	sealed, err := b.s.Seal(token)
	if err != nil {
		return err
	}
	sh.TokenSealed = sealed
	return b.s.insertShare(b.tx, sh, token, events, nil)
}
