// Package journal is the access journal: who read or changed which client's
// data, when and from where, and the sign-ins and admin actions around it
// (role and settings changes, backups, outbox reveals, exports, erasures).
//
// Entries are append-only and chained: each holds the MAC of the one before
// and is signed by a MAC of its own, under a key derived from the data
// file's keys, so altering, removing or inserting an entry breaks the chain
// at that entry (Verify names it). The newest entries cut off leave a chain
// that still links, so the store signs the head record that names the last
// one, and Verify checks it. No code path changes or deletes an entry but
// the retention purge, which removes the oldest and leaves a signed anchor
// naming the first kept entry and the MAC it chains to.
//
// Recording costs a request no write: Record adds the entry to a buffer that
// Run writes out every FlushEvery in one transaction. A crash loses at most
// the entries of that last second. The package knows nothing of HTTP.
package journal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"foyer/store"
)

// Action is what an entry records. The journal's page names each in the
// reader's language (message journal.do.<action>).
type Action string

// What is recorded about a client's data: "read" for a look, "change" for a write.
const (
	RecordRead        Action = "record_read"
	RecordChange      Action = "record_change"
	AppointmentRead   Action = "appointment_read"
	AppointmentChange Action = "appointment_change"
	ReceiptRead       Action = "receipt_read"
	ShareRead         Action = "share_read"
	ShareChange       Action = "share_change"
	PresoRead         Action = "preso_read"
	PresoChange       Action = "preso_change"
	// CertificateDownload is a signing certificate downloaded, about the
	// signer's client: ItemID is the signature, Detail "pdf" or "p7s".
	CertificateDownload Action = "certificate_download"
	VideoJoin           Action = "video_join"
	// ListRead is a look at the lists of a client's record (Also names
	// them) made apart from the record itself.
	ListRead Action = "list_read"
	// Export is staff downloading a client's data for them; ExportSelf the
	// client downloading their own (My data).
	Export     Action = "export"
	ExportSelf Action = "export_self"
	// Erase is a client's erasure: the entry keeps the client's ID alone.
	Erase Action = "erase"
)

// What is recorded about the practice and its staff.
const (
	SignIn          Action = "signin"
	SignInFailed    Action = "signin_failed"
	PortalSignIn    Action = "portal_signin"
	RoleChange      Action = "staff_role"
	StaffDeactivate Action = "staff_deactivate"
	StaffActivate   Action = "staff_activate"
	SettingsChange  Action = "settings_change"
	BackupDownload  Action = "backup_download"
	// SecretKeyShown is the owner shown the secret key (the recovery
	// sheet), which opens the data file and every backup; Detail is the
	// key's ID. SecretKeyFailed is a wrong password on that page, or a try
	// refused for too many (Detail "limited").
	SecretKeyShown   Action = "secret_key_shown"
	SecretKeyFailed  Action = "secret_key_failed"
	OutboxReveal     Action = "outbox_reveal"
	JournalExport    Action = "journal_export"
	RetentionConfirm Action = "retention_confirm"
)

// Actions lists every action, in the order the journal page offers them.
var Actions = []Action{RecordRead, RecordChange, ListRead, AppointmentRead, AppointmentChange, ReceiptRead, ShareRead, ShareChange,
	PresoRead, PresoChange, CertificateDownload, VideoJoin, Export, ExportSelf, Erase, SignIn, SignInFailed, PortalSignIn, RoleChange,
	StaffDeactivate, StaffActivate, SettingsChange, BackupDownload, SecretKeyShown, SecretKeyFailed, OutboxReveal, JournalExport,
	RetentionConfirm}

// Entry is what a caller records.
type Entry struct {
	// At is when; the journal's clock when zero.
	At time.Time
	// StaffID is the staff member who acted; AccountID the portal account
	// (a client acting on their own data); both 0 for Foyer itself.
	StaffID, AccountID uint64
	// ClientID is the client whose data it was, 0 for none.
	ClientID uint64
	Action   Action
	// ItemID is the appointment, share, preso or message concerned.
	ItemID uint64
	// Detail is a short word (the setting changed, the new role); never a
	// client's data, as an entry outlives an erasure.
	Detail string
	// Also names the parts of the record the same look showed (sessions,
	// document shares, presos: the Part constants).
	Also []string
	Addr string
}

// FlushEvery is how often buffered entries are written, and so the most a
// crash can lose.
const FlushEvery = time.Second

// maxPending is how many entries wait before Run is asked to write at once;
// hardPending, how many before Record writes them itself (no Run running).
const (
	maxPending  = 1024
	hardPending = 64 << 10
	maxDetail   = 100
)

// Journal records entries and reads them back.
type Journal struct {
	st  *store.Store
	now func() time.Time
	key []byte
	// macs keeps HMAC states: one per flush or check would do, but it is cheap to keep them.
	macs sync.Pool

	mu      sync.Mutex
	pending []store.JournalEntry
	// flushMu keeps flushes in order, so entries are chained in the order recorded.
	flushMu sync.Mutex
	kick    chan struct{}
}

// keyLabel derives the chain's key from the data file's HMAC key: a copy of
// the file alone (the keys kept apart from it) cannot sign a forged entry.
const keyLabel = "foyer journal chain v1"

// New returns the journal of st.
func New(st *store.Store, now func() time.Time) *Journal {
	return &Journal{st: st, now: now, key: st.Hash(keyLabel), kick: make(chan struct{}, 1)}
}

// mac is the chain's MAC of body.
func (j *Journal) mac(body []byte) []byte {
	m, _ := j.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, j.key)
	}
	m.Reset()
	m.Write(body)
	sum := m.Sum(nil)
	j.macs.Put(m)
	return sum
}

// Record adds an entry to the buffer Run writes out.
func (j *Journal) Record(e Entry) {
	if e.At.IsZero() {
		e.At = j.now()
	}
	if len(e.Detail) > maxDetail {
		e.Detail = e.Detail[:maxDetail]
	}
	se := store.JournalEntry{At: e.At.UTC(), StaffID: e.StaffID, AccountID: e.AccountID, ClientID: e.ClientID,
		Action: string(e.Action), ItemID: e.ItemID, Detail: e.Detail, Also: e.Also, Addr: e.Addr}
	j.mu.Lock()
	j.pending = append(j.pending, se)
	n := len(j.pending)
	j.mu.Unlock()
	switch {
	case n >= hardPending:
		_ = j.Flush()
	case n >= maxPending:
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
}

// Flush writes the buffered entries, chained, in one transaction.
func (j *Journal) Flush() error {
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	j.mu.Lock()
	batch := j.pending
	j.pending = nil
	j.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := j.st.AppendJournal(batch, j.mac); err != nil {
		// Kept for the next flush, ahead of what came since.
		j.mu.Lock()
		j.pending = append(batch, j.pending...)
		j.mu.Unlock()
		return fmt.Errorf("journal: unable to write %d entries: %w", len(batch), err)
	}
	return nil
}

// Run writes the buffer out every FlushEvery (sooner when it fills) until
// ctx ends, then once more. Errors go to onError.
func (j *Journal) Run(ctx context.Context, onError func(error)) {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := j.Flush(); err != nil {
				onError(err)
			}
			return
		case <-t.C:
		case <-j.kick:
		}
		if err := j.Flush(); err != nil {
			onError(err)
		}
	}
}

// List returns entries newest first, the buffer written out first so the
// newest are there.
func (j *Journal) List(f store.JournalFilter) ([]store.JournalEntry, bool, error) {
	if err := j.Flush(); err != nil {
		return nil, false, err
	}
	return j.st.Journal(f)
}

// purgeBatch is how many entries one purge transaction removes.
const purgeBatch = 2000

// Purge removes the entries older than months before now, leaving the
// signed anchor; it returns how many went.
func (j *Journal) Purge(now time.Time, months int) (int, error) {
	if err := j.Flush(); err != nil {
		return 0, err
	}
	cutoff := now.AddDate(0, -months, 0)
	total := 0
	for {
		n, err := j.st.PurgeJournal(cutoff, now, purgeBatch, j.mac)
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}

// Report is what a check of the whole chain found intact.
type Report struct {
	// Entries is how many entries were checked, First and Last their numbers.
	Entries     int
	First, Last uint64
	// Purged is how many older entries the retention purge removed.
	Purged uint64
}

// Problem is why a chain is broken.
type Problem string

// The problems a check names.
const (
	// Altered: the entry's MAC does not match its content.
	Altered Problem = "altered"
	// Missing: an entry is missing before this one (or this one moved).
	Missing Problem = "missing"
	// Unlinked: the entry does not chain to the one before.
	Unlinked Problem = "unlinked"
	// AnchorAltered: the retention purge's anchor was changed.
	AnchorAltered Problem = "anchor_altered"
	// Truncated: entries after the last one are missing.
	Truncated Problem = "truncated"
	// HeadAltered: the signed record of the last entry written is missing
	// or was changed, so entries from this one on may have been removed.
	HeadAltered Problem = "head_altered"
	// HeadWasAltered: this entry is the first Foyer wrote after it found
	// the head record so; entries just before it may have been removed.
	HeadWasAltered Problem = "head_was_altered"
)

// BrokenError names the first entry where the chain breaks.
type BrokenError struct {
	Seq     uint64
	Problem Problem
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("journal: the chain breaks at entry %d (%s)", e.Seq, e.Problem)
}

// ErrBroken is what a *BrokenError unwraps to.
var ErrBroken = errors.New("journal: the chain is broken")

// Unwrap makes a *BrokenError an ErrBroken.
func (e *BrokenError) Unwrap() error { return ErrBroken }

// verifyBatch is how many entries one read transaction of Verify reads.
const verifyBatch = 1000

// Verify checks the whole chain: the anchor's signature, then every entry's
// number, link and MAC in order, then the head record. It returns a
// *BrokenError naming the first entry that fails.
func (j *Journal) Verify() (Report, error) {
	if err := j.Flush(); err != nil {
		return Report{}, err
	}
	return verify(j.st, j.mac)
}

// Verify checks the journal of a store no Journal is recording into (the
// command line's "foyer journal verify").
func Verify(st *store.Store) (Report, error) {
	return verify(st, New(st, time.Now).mac)
}

func verify(st *store.Store, mac store.JournalMAC) (Report, error) {
	var r Report
	head, anchorRec, err := st.JournalHead()
	if err != nil {
		return r, err
	}
	// broken reports the first break: a break the head recorded comes
	// before any found at or after its entry.
	broken := func(seq uint64, p Problem) error {
		if head.Signed && head.Broken != 0 && head.Broken <= seq {
			return &BrokenError{Seq: head.Broken, Problem: HeadWasAltered}
		}
		return &BrokenError{Seq: seq, Problem: p}
	}
	want, prev := uint64(1), []byte(nil)
	if anchorRec != nil {
		a, ok, err := store.DecodeAnchor(*anchorRec, mac)
		if err != nil || !ok {
			return r, broken(a.Seq, AnchorAltered)
		}
		want, prev, r.Purged = a.Seq, a.Prev, a.Purged
	}
	for after := want - 1; ; {
		recs, err := st.JournalRecords(after, verifyBatch)
		if err != nil {
			return r, err
		}
		for _, rec := range recs {
			if rec.Seq != want {
				return r, broken(want, Missing)
			}
			e, err := store.DecodeJournal(rec)
			if err != nil || e.Seq != rec.Seq || !hmac.Equal(mac(rec.Body), rec.MAC) {
				return r, broken(rec.Seq, Altered)
			}
			if !hmac.Equal(e.Prev, prev) {
				return r, broken(rec.Seq, Unlinked)
			}
			if r.Entries == 0 {
				r.First = rec.Seq
			}
			r.Entries++
			r.Last, prev, want = rec.Seq, rec.MAC, want+1
		}
		if len(recs) < verifyBatch {
			break
		}
		after = recs[len(recs)-1].Seq
	}
	// The head, signed, names the last entry written: entries cut from the
	// end show, and so does a head removed or written without the key.
	switch {
	case !head.Signed:
		return r, broken(want, HeadAltered)
	case head.Seq < want-1:
		return r, broken(head.Seq+1, HeadAltered)
	case head.Seq != want-1 || !hmac.Equal(head.Last, prev):
		return r, broken(want, Truncated)
	case head.Broken != 0:
		return r, broken(head.Broken, HeadWasAltered)
	}
	return r, nil
}
