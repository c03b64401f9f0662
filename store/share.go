package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ShareKind says what sits behind a share link.
type ShareKind string

// The kinds of share.
const (
	ShareFiles ShareKind = "files"
	SharePreso ShareKind = "preso"
)

// Visibility says who may open a share.
type Visibility string

// The visibilities of a share.
const (
	// VisibilityAnyone lets whoever holds the link in, after naming themselves or going on anonymously.
	VisibilityAnyone Visibility = "anyone"
	// VisibilityContacts lets in only a recipient who proves it with a security code.
	VisibilityContacts Visibility = "contacts"
)

// ShareState is where a share is in its life.
type ShareState string

// The states of a share. Only an active share opens.
const (
	ShareActive  ShareState = "active"
	ShareExpired ShareState = "expired" // reached its expiry, or expired at once by staff or by "This wasn't me"
	ShareRevoked ShareState = "revoked" // replaced by a new share (Send again)
	ShareDeleted ShareState = "deleted" // its recipient deleted what it held
	ShareLocked  ShareState = "locked"  // too many wrong codes; staff can unlock it
)

// ShareRecipient is one person a share is for.
type ShareRecipient struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// Mobiles are the numbers (E.164) a code may be sent to; empty means codes go by email.
	Mobiles []string `json:"mobiles,omitempty"`
	Lang    string   `json:"lang"`
	// ClientID is set when the recipient is a client record (then their portal lists the share).
	ClientID uint64 `json:"client_id,omitempty"`
	// Removed says a change of recipients left them out. They keep their
	// place, so a recipient's index means the same person for the share's
	// whole life: sessions, codes and events name recipients by it.
	Removed bool `json:"removed,omitempty"`
}

// Share is a link to a frozen snapshot of something (files, a preso) for given recipients.
type Share struct {
	ID        uint64    `json:"id"`
	Kind      ShareKind `json:"kind"`
	SubjectID uint64    `json:"subject_id,omitempty"`
	// ClientID is the client record whose timeline shows the share (0 for none).
	ClientID uint64 `json:"client_id,omitempty"`
	// StaffID made the share; they get its notifications.
	StaffID    uint64           `json:"staff_id"`
	Recipients []ShareRecipient `json:"recipients"`
	Visibility Visibility       `json:"visibility"`
	Message    string           `json:"message,omitempty"`
	// Snapshot is what the link shows, frozen when the link was made: blob IDs
	// for files, snapshot IDs for presos. Refresh replaces it (the event keeps the old one).
	Snapshot []uint64 `json:"snapshot"`
	// TokenSealed is the link's token, sealed, so staff can copy the link again.
	TokenSealed string     `json:"token_sealed"`
	State       ShareState `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	// EndedAt is when the share stopped being active (zero while it is).
	EndedAt time.Time `json:"ended_at,omitzero"`
	// Failures counts wrong codes over the share's whole life; at the limit the share locks.
	Failures int `json:"failures,omitempty"`
	// FirstDownloadAt is when something behind the link was first downloaded or viewed.
	FirstDownloadAt time.Time `json:"first_download_at,omitzero"`
	// RemindedAt is when the recipient was reminded of the coming expiry.
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	// ReplacedBy is the share made by Send again from this one.
	ReplacedBy uint64 `json:"replaced_by,omitempty"`
	// Purged is true once what the share held is gone from the store.
	Purged bool `json:"purged,omitempty"`
	// SessionEpoch counts the times every session on the share was ended
	// (it ended, locked, or changed who may come in): a session opens the
	// share only while it carries the same count. Ending them is one write of
	// the share, not a scan of every session.
	SessionEpoch uint64 `json:"session_epoch,omitempty"`
}

// ClientOf is the client record a message to or about recipient i of the
// share concerns, by which the client's erasure finds it: for documents,
// the record they were shared from, whoever they went to; for a preso's
// link, the recipient's own record (0 for none).
func (sh Share) ClientOf(i int) uint64 {
	if sh.Kind == ShareFiles {
		return sh.ClientID
	}
	if i < 0 || i >= len(sh.Recipients) {
		return 0
	}
	return sh.Recipients[i].ClientID
}

// ShareCode is the security codes waiting for a share, and their limits. It is
// kept in the store, not in memory, so a restart resets nothing.
type ShareCode struct {
	// Waiting are the codes sent and not used, voided or past their expiry yet,
	// oldest first: each works for the recipient it went to until then, so
	// someone else asking for a code, or the recipient asking again, voids none.
	Waiting []WaitingCode `json:"waiting,omitempty"`
	// SentTo lists, per number or address (CodeTargetKey), when codes went to
	// it through this share within the last hour: this link's part of the
	// number's limit, whose count across every share is kept apart
	// (code_sends, CodeSends). Before that count existed, this was the
	// whole limit: the next code to the number joins its times to it.
	SentTo map[string][]time.Time `json:"sent_to,omitempty"`

	// The fields below are how codes were kept before they were kept per
	// number: one code waiting (and the one before it), its tries and the
	// times codes went out for the whole share. A record read with them has
	// them folded into the fields above (fold) and is written without them.
	Hash          []byte         `json:"hash,omitempty"`
	Recipient     int            `json:"recipient,omitempty"`
	Channel       Channel        `json:"channel,omitempty"`
	Target        string         `json:"target,omitempty"`
	ExpiresAt     time.Time      `json:"expires_at,omitzero"`
	Tries         int            `json:"tries,omitempty"`
	TriesBy       map[string]int `json:"tries_by,omitempty"`
	PrevHash      []byte         `json:"prev_hash,omitempty"`
	PrevExpiresAt time.Time      `json:"prev_expires_at,omitzero"`
	PrevRecipient int            `json:"prev_recipient,omitempty"`
	PrevChannel   Channel        `json:"prev_channel,omitempty"`
	PrevTarget    string         `json:"prev_target,omitempty"`
	Sent          []time.Time    `json:"sent,omitempty"`
}

// WaitingCode is one security code sent and not used yet.
type WaitingCode struct {
	// Hash is the HMAC of the code.
	Hash []byte `json:"hash"`
	// Recipient is whom it went to (their index in the share), Channel and
	// Target how and where (the number or address).
	Recipient int       `json:"recipient"`
	Channel   Channel   `json:"channel"`
	Target    string    `json:"target"`
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Tries counts the wrong entries made for its recipient while it waited,
	// from any address.
	Tries int `json:"tries,omitempty"`
}

// CodeTargetKey names a number or address in ShareCode.SentTo and CodeSends.
func CodeTargetKey(ch Channel, to string) string { return string(ch) + ":" + to }

// fold moves a code record kept before codes were kept per number into
// Waiting and SentTo: the code waiting then stays good, and the limits count
// what was sent. The old count of sends was the share's; it is put on the
// number the last code went to.
func (c *ShareCode) fold() {
	if len(c.Hash) == 0 && len(c.PrevHash) == 0 && len(c.Sent) == 0 && c.Target == "" {
		return
	}
	tries := c.Tries
	for _, n := range c.TriesBy {
		tries = max(tries, n)
	}
	if len(c.PrevHash) > 0 {
		prev := WaitingCode{Hash: c.PrevHash, Recipient: c.Recipient, Channel: c.Channel, Target: c.Target, ExpiresAt: c.PrevExpiresAt}
		if c.PrevTarget != "" {
			prev.Recipient, prev.Channel, prev.Target = c.PrevRecipient, c.PrevChannel, c.PrevTarget
		}
		c.Waiting = append(c.Waiting, prev)
	}
	if len(c.Hash) > 0 {
		c.Waiting = append(c.Waiting, WaitingCode{Hash: c.Hash, Recipient: c.Recipient, Channel: c.Channel, Target: c.Target,
			ExpiresAt: c.ExpiresAt, Tries: tries})
	}
	if len(c.Sent) > 0 && c.Target != "" {
		if c.SentTo == nil {
			c.SentTo = map[string][]time.Time{}
		}
		k := CodeTargetKey(c.Channel, c.Target)
		c.SentTo[k] = append(c.SentTo[k], c.Sent...)
	}
	waiting, sentTo := c.Waiting, c.SentTo
	*c = ShareCode{Waiting: waiting, SentTo: sentTo}
}

// ShareChange is what ChangeShare hands to its function: the share, its code and
// events to add, all written in one transaction. Its LinkTx reads in that
// transaction; SaveSession and StartViewing write in it.
type ShareChange struct {
	LinkTx
	Share  *Share
	Code   *ShareCode
	Events []ShareEvent
	// Outbox holds messages to queue in the same transaction (a code, a reminder).
	Outbox []*Message
}

// bucketCodeSends holds, per number or address, when security codes went
// to it within the last hour, whichever share sent them: the resend limits
// protect the person's phone or inbox, not a link. Made at first use.
var bucketCodeSends = []byte("code_sends")

// codeSendsKey is the keyed hash of key (CodeTargetKey): the file does not
// hold the number or address itself.
func (s *Store) codeSendsKey(key string) []byte { return s.Hash("code-sends:" + key) }

// CodeSends returns when codes went to the number or address key
// (CodeTargetKey), from any share, as last recorded by SetCodeSends.
func (t LinkTx) CodeSends(key string) ([]time.Time, error) {
	b := t.tx.Bucket(bucketCodeSends)
	if b == nil {
		return nil, nil
	}
	raw := b.Get(t.s.codeSendsKey(key))
	if raw == nil {
		return nil, nil
	}
	var sent []time.Time
	if err := json.Unmarshal(raw, &sent); err != nil {
		return nil, fmt.Errorf("store: unable to decode %s record: %w", bucketCodeSends, err)
	}
	return sent, nil
}

// SetCodeSends records, with the change, when codes went to the number or
// address key (CodeTargetKey) across every share; none removes the record.
func (ch *ShareChange) SetCodeSends(key string, sent []time.Time) error {
	b, err := ch.tx.CreateBucketIfNotExists(bucketCodeSends)
	if err != nil {
		return fmt.Errorf("store: unable to create %s bucket: %w", bucketCodeSends, err)
	}
	if len(sent) == 0 {
		return b.Delete(ch.s.codeSendsKey(key))
	}
	raw, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("store: unable to encode %s record: %w", bucketCodeSends, err)
	}
	return b.Put(ch.s.codeSendsKey(key), raw)
}

// DropCodeSends removes the records of numbers and addresses no code went
// to since before: once past the limits' hour they protect nothing, and
// are not kept.
func (s *Store) DropCodeSends(before time.Time) error {
	old := func(v []byte) bool {
		var sent []time.Time
		return json.Unmarshal(v, &sent) != nil || len(sent) == 0 || sent[len(sent)-1].Before(before)
	}
	// Most sweeps find nothing to drop: a read says so without a write.
	due := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCodeSends); b != nil {
			return b.ForEach(func(_, v []byte) error {
				due = due || old(v)
				return nil
			})
		}
		return nil
	}); err != nil || !due {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		_, err := deleteWhere(tx.Bucket(bucketCodeSends), func(_, v []byte) bool { return old(v) })
		return err
	})
}

// SaveSession writes a share session under its cookie ID, with the change.
func (ch *ShareChange) SaveSession(sid string, ss ShareSession) error {
	return putJSON(ch.tx, bucketShareSessions, ch.s.shareSessionKey(sid), ss)
}

// StartViewing records a preso viewing under the keyed hash of token, with the change.
func (ch *ShareChange) StartViewing(v *Viewing, token string) error {
	return ch.s.startViewing(ch.tx, v, token)
}

func expiryKey(t time.Time, id uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(t.Unix()))
	binary.BigEndian.PutUint64(k[8:], id)
	return k
}

func pairKey(a, b uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, a)
	binary.BigEndian.PutUint64(k[8:], b)
	return k
}

func subjectKey(kind ShareKind, subject, id uint64) []byte {
	return append(append([]byte(kind), 0), pairKey(subject, id)...)
}

// TokenHash is the keyed hash a share is found by.
func (s *Store) shareTokenKey(token string) []byte { return s.HashTo(nil, "share:", token) }

// CreateShare stores a new share found by token, with its first events and the
// messages that announce it, in one transaction; it sets sh.ID and seals the token.
func (s *Store) CreateShare(sh *Share, token string, events []ShareEvent, msgs []*Message) error {
	sealed, err := s.Seal(token)
	if err != nil {
		return err
	}
	sh.TokenSealed = sealed
	return s.db.Update(func(tx *bolt.Tx) error { return s.insertShare(tx, sh, token, events, msgs) })
}

func (s *Store) insertShare(tx *bolt.Tx, sh *Share, token string, events []ShareEvent, msgs []*Message) error {
	id, err := tx.Bucket(bucketShares).NextSequence()
	if err != nil {
		return err
	}
	sh.ID = id
	if err := tx.Bucket(bucketSharesByToken).Put(s.shareTokenKey(token), itob(id)); err != nil {
		return err
	}
	if sh.ClientID != 0 {
		if err := tx.Bucket(bucketSharesByClient).Put(pairKey(sh.ClientID, id), nil); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketSharesBySubject).Put(subjectKey(sh.Kind, sh.SubjectID, id), nil); err != nil {
		return err
	}
	if err := indexShare(tx, nil, sh); err != nil {
		return err
	}
	for _, ev := range events {
		if err := addShareEvent(tx, id, ev); err != nil {
			return err
		}
	}
	for _, m := range msgs {
		if err := s.enqueue(tx, m); err != nil {
			return err
		}
	}
	return putJSON(tx, bucketShares, itob(id), sh)
}

// Live reports whether a share can still be opened or unlocked (it has not ended).
func (sh Share) Live() bool { return sh.State == ShareActive || sh.State == ShareLocked }

// indexShare keeps shares_expiry (live shares by expiry time) and shares_purge
// (ended shares still holding their content) in step with a share.
func indexShare(tx *bolt.Tx, old, sh *Share) error {
	exp, purge := tx.Bucket(bucketSharesExpiry), tx.Bucket(bucketSharesPurge)
	if old != nil {
		if err := exp.Delete(expiryKey(old.ExpiresAt, old.ID)); err != nil {
			return err
		}
		if err := purge.Delete(itob(old.ID)); err != nil {
			return err
		}
	}
	switch {
	case sh.Purged:
		return nil
	case sh.Live():
		return exp.Put(expiryKey(sh.ExpiresAt, sh.ID), nil)
	default:
		return purge.Put(itob(sh.ID), nil)
	}
}

// Share loads a share by ID.
func (s *Store) Share(id uint64) (Share, error) {
	var sh Share
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketShares, itob(id), &sh) })
	return sh, err
}

// ReadShare hands share id to fn with the read transaction it was found in
// (see ReadLink). ErrNotFound when there is none.
func (s *Store) ReadShare(id uint64, fn func(Share, LinkTx) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketShares).Get(itob(id))
		if raw == nil {
			return ErrNotFound
		}
		sh, err := s.decodeShare(id, raw)
		if err != nil {
			return err
		}
		return fn(sh, LinkTx{s: s, tx: tx})
	})
}

// ReadLinks hands fn a LinkTx over one read transaction, to read what
// decides the links of several shares at once (a page listing them).
func (s *Store) ReadLinks(fn func(LinkTx) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(LinkTx{s: s, tx: tx}) })
}

// ShareCode returns the code state of share id (zero when none was ever sent).
func (t LinkTx) ShareCode(id uint64) (ShareCode, error) {
	var code ShareCode
	if err := getJSON(t.tx, bucketShareCodes, itob(id), &code); err != nil && !errors.Is(err, ErrNotFound) {
		return code, err
	}
	code.fold()
	return code, nil
}

// ShareByToken finds a share by the token of its link.
func (s *Store) ShareByToken(token string) (Share, error) {
	var sh Share
	err := s.ReadLink(token, func(found Share, _ LinkTx) error {
		sh = found
		return nil
	})
	return sh, err
}

// keptDecodes keeps values decoded from records with the record they were
// decoded from. Decoding the JSON was most of the cost of a share link's
// landing page; the record is still read in the caller's transaction and
// compared byte for byte, so a kept value is never stale and no write needs
// to say it changed.
type keptDecodes[T any] struct {
	mu sync.Mutex
	m  map[uint64]kept[T]
}

type kept[T any] struct {
	raw []byte
	v   T
}

// maxKeptDecodes bounds each cache; when it is full it starts again.
const maxKeptDecodes = 1024

// get returns the value kept for id if it was decoded from raw.
func (c *keptDecodes[T]) get(id uint64, raw []byte) (T, bool) {
	c.mu.Lock()
	k, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !bytes.Equal(k.raw, raw) {
		var zero T
		return zero, false
	}
	return k.v, true
}

// put keeps v, decoded from raw (a record of the data file: it is copied).
func (c *keptDecodes[T]) put(id uint64, raw []byte, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxKeptDecodes {
		c.m = map[uint64]kept[T]{}
	}
	c.m[id] = kept[T]{raw: bytes.Clone(raw), v: v}
}

// decodeShare decodes a share record read inside a transaction, from the
// cache when it is the record the kept share came from.
func (s *Store) decodeShare(id uint64, raw []byte) (Share, error) {
	if sh, ok := s.shares.get(id, raw); ok {
		return sh.clone(), nil
	}
	var sh Share
	if err := json.Unmarshal(raw, &sh); err != nil {
		return Share{}, fmt.Errorf("store: unable to decode %s record: %w", bucketShares, err)
	}
	s.shares.put(id, raw, sh.clone())
	return sh, nil
}

// ClientArchived reports whether a client record is archived.
func (s *Store) ClientArchived(id uint64) (bool, error) {
	var archived bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		archived, err = LinkTx{s: s, tx: tx}.ClientArchived(id)
		return err
	})
	return archived, err
}

// LinkTx reads, within one transaction, what decides who may open a share
// link: the share's recipients' client records and a preso's contacts. The
// share engine's admission reads through it in the read transaction of a
// request, and again inside the write transaction that lets a visitor in.
type LinkTx struct {
	s  *Store
	tx *bolt.Tx
}

// ClientArchived reports whether a client record is archived: every page
// behind a share link asks, as archiving ends the client's access. The
// answer is kept with the record it was read from (see keptDecodes).
func (t LinkTx) ClientArchived(id uint64) (bool, error) {
	return t.clientArchived(t.tx.Bucket(bucketClients), id)
}

// ClientsArchived reports, for each client record, whether it is archived
// (false for 0 or a record that is gone), opening the clients once: a read
// transaction opens a bucket anew at each Tx.Bucket, and a preso link asks
// of every contact.
func (t LinkTx) ClientsArchived(ids []uint64) ([]bool, error) {
	out := make([]bool, len(ids))
	clients := t.tx.Bucket(bucketClients)
	for i, id := range ids {
		if id == 0 {
			continue
		}
		var err error
		if out[i], err = t.clientArchived(clients, id); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

func (t LinkTx) clientArchived(clients *bolt.Bucket, id uint64) (bool, error) {
	raw := clients.Get(itob(id))
	if raw == nil {
		return false, ErrNotFound
	}
	if archived, ok := t.s.archived.get(id, raw); ok {
		return archived, nil
	}
	var c struct {
		Archived bool `json:"archived"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return false, fmt.Errorf("store: unable to decode %s record: %w", bucketClients, err)
	}
	t.s.archived.put(id, raw, c.Archived)
	return c.Archived, nil
}

// ClientMobiles returns, for each client record, the numbers that receive
// security codes now (see Phone.ReceivesCodes), and whether the record is
// there at all (false for 0 or a record that is gone). A share link asks on
// every request: where a client's codes go is decided by their record as it
// is now, so a number staff take off it stops receiving codes at once.
func (t LinkTx) ClientMobiles(ids []uint64) (mobiles [][]string, found []bool, err error) {
	mobiles, found = make([][]string, len(ids)), make([]bool, len(ids))
	clients := t.tx.Bucket(bucketClients)
	for i, id := range ids {
		if id == 0 {
			continue
		}
		raw := clients.Get(itob(id))
		if raw == nil {
			continue
		}
		found[i] = true
		if m, ok := t.s.mobiles.get(id, raw); ok {
			mobiles[i] = slices.Clone(m)
			continue
		}
		var c struct {
			Phones []Phone `json:"phones"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, nil, fmt.Errorf("store: unable to decode %s record: %w", bucketClients, err)
		}
		var m []string
		for _, ph := range c.Phones {
			if ph.ReceivesCodes() {
				m = append(m, ph.Number)
			}
		}
		t.s.mobiles.put(id, raw, m)
		mobiles[i] = slices.Clone(m)
	}
	return mobiles, found, nil
}

// ShareSession loads a share session by its cookie ID.
func (t LinkTx) ShareSession(sid string) (ShareSession, error) {
	var ss ShareSession
	err := getJSON(t.tx, bucketShareSessions, t.s.shareSessionKey(sid), &ss)
	return ss, err
}

// ReadLink finds the share of a link's token and hands it to fn with the
// read transaction it was found in, so everything that decides a request
// of the link is read at once, consistently. ErrNotFound for an unknown token.
func (s *Store) ReadLink(token string, fn func(Share, LinkTx) error) error {
	return s.ReadLinkKey(s.LinkKey(token), fn)
}

// LinkKey is what a link's token is found under: a keyed hash, so that the
// token itself is kept nowhere, and what a cache of links may be keyed by.
func (s *Store) LinkKey(token string) string {
	var b [sha256.Size]byte
	return string(s.HashTo(b[:0], "share:", token))
}

// ReadLinkKey is ReadLink for the token whose LinkKey is key.
func (s *Store) ReadLinkKey(key string, fn func(Share, LinkTx) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketSharesByToken).Get([]byte(key))
		if id == nil {
			return ErrNotFound
		}
		raw := tx.Bucket(bucketShares).Get(id)
		if raw == nil {
			return ErrNotFound
		}
		sh, err := s.decodeShare(btoi(id), raw)
		if err != nil {
			return err
		}
		return fn(sh, LinkTx{s: s, tx: tx})
	})
}

// Clone copies a share with slices of its own, so no caller changes a kept one.
func (sh Share) Clone() Share { return sh.clone() }

// clone copies a share with slices of its own, so no caller changes a kept one.
func (sh Share) clone() Share {
	sh.Recipients = slices.Clone(sh.Recipients)
	for i := range sh.Recipients {
		sh.Recipients[i].Mobiles = slices.Clone(sh.Recipients[i].Mobiles)
	}
	sh.Snapshot = slices.Clone(sh.Snapshot)
	return sh
}

// ChangeShare applies fn to a share, its code and new events in one transaction.
// When fn returns an error nothing is written and the error is returned.
func (s *Store) ChangeShare(id uint64, fn func(*ShareChange) error) (Share, error) {
	var sh Share
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketShares, itob(id), &sh); err != nil {
			return err
		}
		old := sh
		var code ShareCode
		if err := getJSON(tx, bucketShareCodes, itob(id), &code); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		code.fold()
		ch := &ShareChange{LinkTx: LinkTx{s: s, tx: tx}, Share: &sh, Code: &code}
		if err := fn(ch); err != nil {
			return err
		}
		sh.ID = id
		if err := indexShare(tx, &old, &sh); err != nil {
			return err
		}
		if err := putJSON(tx, bucketShareCodes, itob(id), code); err != nil {
			return err
		}
		for _, ev := range ch.Events {
			if err := addShareEvent(tx, id, ev); err != nil {
				return err
			}
		}
		for _, m := range ch.Outbox {
			if err := s.enqueue(tx, m); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketShares, itob(id), sh)
	})
	return sh, err
}

// ShareCode returns the code state of a share (zero when none was ever sent).
func (s *Store) ShareCode(id uint64) (ShareCode, error) {
	var code ShareCode
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		code, err = LinkTx{s: s, tx: tx}.ShareCode(id)
		return err
	})
	return code, err
}

// SharesOfClient returns the shares on a client record's timeline, newest first.
func (s *Store) SharesOfClient(clientID uint64) ([]Share, error) {
	return s.sharesByPrefix(bucketSharesByClient, itob(clientID))
}

// SharesOfSubject returns the shares of one subject (a preso, a file set), newest first.
func (s *Store) SharesOfSubject(kind ShareKind, subjectID uint64) ([]Share, error) {
	return s.sharesByPrefix(bucketSharesBySubject, append(append([]byte(kind), 0), itob(subjectID)...))
}

func (s *Store) sharesByPrefix(bucket, prefix []byte) ([]Share, error) {
	var out []Share
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var sh Share
			if err := getJSON(tx, bucketShares, k[len(k)-8:], &sh); err != nil {
				return err
			}
			out = append(out, sh)
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// SharesExpiringBy returns the active (or locked) shares whose expiry is at or before t, soonest first.
func (s *Store) SharesExpiringBy(t time.Time) ([]Share, error) {
	var out []Share
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSharesExpiry).Cursor()
		end := expiryKey(t, ^uint64(0))
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) <= 0; k, _ = c.Next() {
			var sh Share
			if err := getJSON(tx, bucketShares, k[8:], &sh); err != nil {
				return err
			}
			out = append(out, sh)
		}
		return nil
	})
	return out, err
}

// SharesToPurge returns the shares that ended but still hold their content.
func (s *Store) SharesToPurge() ([]Share, error) {
	var out []Share
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSharesPurge).ForEach(func(k, _ []byte) error {
			var sh Share
			if err := getJSON(tx, bucketShares, k, &sh); err != nil {
				return err
			}
			out = append(out, sh)
			return nil
		})
	})
	return out, err
}

// HasShares reports whether the practice has ever made a share link: from
// then on, security codes may go out by text message.
func (s *Store) HasShares() (bool, error) {
	var any bool
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketShares).Cursor().First()
		any = k != nil
		return nil
	})
	return any, err
}

// PresoSharesNaming returns the links of presos that name a client: as a
// recipient (a link keeps its recipients as they were when it was made or
// last refreshed, so a contact taken off the preso since is still there),
// or as the client whose timeline shows it.
func (s *Store) PresoSharesNaming(clientID uint64) ([]Share, error) {
	var out []Share
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = presoSharesNaming(tx, clientID)
		return err
	})
	return out, err
}

// presoSharesNaming reads every share, decoding in full only those that name
// the client.
func presoSharesNaming(tx *bolt.Tx, clientID uint64) ([]Share, error) {
	if clientID == 0 {
		return nil, nil
	}
	var out []Share
	err := tx.Bucket(bucketShares).ForEach(func(_, raw []byte) error {
		var head struct {
			Kind       ShareKind `json:"kind"`
			ClientID   uint64    `json:"client_id"`
			Recipients []struct {
				ClientID uint64 `json:"client_id"`
			} `json:"recipients"`
		}
		if err := unmarshal(raw, &head); err != nil {
			return err
		}
		if head.Kind != SharePreso {
			return nil
		}
		named := head.ClientID == clientID
		for _, r := range head.Recipients {
			named = named || r.ClientID == clientID
		}
		if !named {
			return nil
		}
		var sh Share
		if err := unmarshal(raw, &sh); err != nil {
			return err
		}
		out = append(out, sh)
		return nil
	})
	return out, err
}
