package store

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Erasure of a client: everything the data file holds about them goes in one
// transaction, which also marks the file for compaction (compact.go) so that
// the bytes leave the file, not only its indexes. Only what the law makes the
// practice keep stays, reduced to the minimum: a paid session's receipt
// (number, dates, amount, name) for the accounts.

// bucketKeptReceipts holds, since schema 13, the receipts of erased clients:
// receipt number (8) → JSON KeptReceipt.
var bucketKeptReceipts = []byte("kept_receipts")

// ErrNotArchived is returned by EraseClient for a client still active:
// erasure comes after archiving, which ends their access and links.
var ErrNotArchived = errors.New("store: the client is not archived")

// KeptReceipt is what stays of a receipt once its client is erased: what the
// practice's accounts need, nothing of the session's content.
type KeptReceipt struct {
	No       uint64    `json:"no"`
	PaidAt   time.Time `json:"paid_at"`
	Session  time.Time `json:"session"`
	Cents    int64     `json:"cents"`
	Currency string    `json:"currency"`
	// Name is the payer's name as the receipt gave it.
	Name           string    `json:"name"`
	PractitionerID uint64    `json:"practitioner_id"`
	ErasedAt       time.Time `json:"erased_at"`
}

// Erasure says what an erasure removed.
type Erasure struct {
	ClientID     uint64
	Appointments int
	KeptReceipts int
	// Shares are the shares removed whole, FileShares those of them made
	// from the client's record (documents).
	Shares        int
	FileShares    int
	Files         int
	PresosDeleted int
	// PresosLeft are the presos that stay, whose contacts and links the
	// client was taken off: presos of several contacts, and presos the
	// client was a contact of before.
	PresosLeft int
	// PresosSignedByOthers are presos made for the client alone that stay
	// because someone else signed through their links (a contact taken off
	// since, a visitor of a link open to anyone): a signature is the record
	// of what its signer agreed to, and the preso is what it was made on.
	// The client is taken off them and their links, as off PresosLeft.
	PresosSignedByOthers int
	// Viewings and Signatures are the client's on presos' links, found by
	// the client they were recorded with (see ClientSigning).
	Viewings   int
	Signatures int
	// Certificates are the signing certificates issued for those signatures.
	Certificates int
	Messages     int
	Account      bool
}

// EraseClient removes an archived client and everything about them in one
// transaction, keeps their receipts as KeptReceipt, and marks the file for
// compaction. now dates the kept receipts.
func (s *Store) EraseClient(id uint64, now time.Time) (Erasure, error) {
	return s.eraseClient(id, now, false)
}

// PreviewErasure says what EraseClient would remove now, removing nothing:
// the erasure runs in a transaction that is rolled back, so what the owner
// is told is what the erasure does, counted by the same code.
func (s *Store) PreviewErasure(id uint64, now time.Time) (Erasure, error) {
	return s.eraseClient(id, now, true)
}

// errPreview rolls back the transaction of PreviewErasure.
var errPreview = errors.New("store: erasure preview")

func (s *Store) eraseClient(id uint64, now time.Time, preview bool) (Erasure, error) {
	var out Erasure
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = Erasure{ClientID: id}
		var c Client
		if err := getJSON(tx, bucketClients, itob(id), &c); err != nil {
			return err
		}
		if !c.Archived {
			return ErrNotArchived
		}
		e := &eraser{s: s, tx: tx, c: c, out: &out, now: now.UTC(), addrs: map[string]bool{}, left: map[uint64]bool{}}
		e.addAddr(c.Email)
		for _, p := range c.Phones {
			e.addAddr(p.Number)
		}
		for _, step := range []func() error{e.account, e.appointments, e.fileShares, e.presos, e.presoShares, e.signing,
			e.shareLeftovers, e.outbox, e.codeSends, e.record} {
			if err := step(); err != nil {
				return err
			}
		}
		out.PresosLeft = len(e.left)
		if preview {
			return errPreview
		}
		return markCompactDue(tx)
	})
	if preview && errors.Is(err, errPreview) {
		err = nil
	}
	return out, err
}

// eraser is one erasure in progress.
type eraser struct {
	s   *Store
	tx  *bolt.Tx
	c   Client
	out *Erasure
	// now dates the kept receipts.
	now time.Time
	// addrs are the client's emails and numbers, as the outbox addresses them.
	addrs map[string]bool
	// shares are the shares removed whole, viewings the viewings removed,
	// certs the signatures whose certificate went: their indexes keyed by
	// hashes are swept once at the end.
	shares, viewings, certs map[uint64]bool
	// left are the presos that stay, whose links the client was taken off.
	left map[uint64]bool
	// accountID is the portal account still linked to the record, if any.
	accountID uint64
}

func (e *eraser) addAddr(a string) {
	if a = strings.TrimSpace(a); a != "" {
		e.addrs[NormalizeEmail(a)] = true
	}
}

// account ends the portal account (archiving ended it already; a record
// linked since is handled the same), its links and sessions.
func (e *eraser) account() error {
	if e.c.AccountID == 0 {
		return nil
	}
	var a Account
	if err := getJSON(e.tx, bucketAccounts, itob(e.c.AccountID), &a); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	e.addAddr(a.Email)
	e.accountID = a.ID
	e.out.Account = true
	return deleteAccount(e.tx, a)
}

// appointments removes every session, keeping a paid one's receipt.
func (e *eraser) appointments() error {
	prefix := itob(e.c.ID)
	var ids [][]byte
	c := e.tx.Bucket(bucketApptsByClient).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, bytes.Clone(k[16:]))
	}
	for _, id := range ids {
		var a Appointment
		if err := getJSON(e.tx, bucketAppointments, id, &a); err != nil {
			return err
		}
		if a.ReceiptNo != 0 {
			kept := KeptReceipt{No: a.ReceiptNo, PaidAt: a.PaidAt, Session: a.Start, Cents: a.FeeCents, Currency: a.Currency,
				Name: e.c.Name(), PractitionerID: a.PractitionerID, ErasedAt: e.now}
			if err := putJSON(e.tx, bucketKeptReceipts, itob(a.ReceiptNo), kept); err != nil {
				return err
			}
			e.out.KeptReceipts++
		}
		for _, del := range []struct {
			b []byte
			k []byte
		}{{bucketApptsByClient, byClientKey(a)}, {bucketApptsDue, reminderKey(a)}, {bucketApptsByStart, byStartKey(a)}, {bucketAppointments, id}} {
			if err := e.tx.Bucket(del.b).Delete(del.k); err != nil {
				return err
			}
		}
		e.out.Appointments++
	}
	return nil
}

// fileShares removes the document shares made from the record, whoever they
// went to, with their files.
func (e *eraser) fileShares() error {
	prefix := itob(e.c.ID)
	var ids []uint64
	c := e.tx.Bucket(bucketSharesByClient).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, btoi(k[8:]))
	}
	for _, id := range ids {
		var sh Share
		if err := getJSON(e.tx, bucketShares, itob(id), &sh); err != nil {
			return err
		}
		if sh.Kind != ShareFiles {
			continue // a preso's share: see presos
		}
		for _, r := range sh.Recipients {
			if r.ClientID == e.c.ID {
				e.addAddr(r.Email)
				for _, m := range r.Mobiles {
					e.addAddr(m)
				}
			}
		}
		for _, blob := range sh.Snapshot {
			if e.tx.Bucket(bucketBlobs).Get(itob(blob)) != nil {
				e.out.Files++
			}
			if err := e.deleteBlob(blob); err != nil {
				return err
			}
		}
		if err := e.deleteShare(sh); err != nil {
			return err
		}
		e.out.FileShares++
	}
	return nil
}

// deleteBlob removes a file's description and chunks.
func (e *eraser) deleteBlob(id uint64) error {
	if err := e.tx.Bucket(bucketBlobs).Delete(itob(id)); err != nil {
		return err
	}
	_, err := deleteChunks(e.tx, id, 0)
	return err
}

// deleteShare removes a share with its indexes, code, events, viewings and
// signatures; the indexes keyed by hashes are swept in shareLeftovers.
func (e *eraser) deleteShare(sh Share) error {
	tx := e.tx
	if e.shares == nil {
		e.shares = map[uint64]bool{}
	}
	e.shares[sh.ID] = true
	for _, del := range []struct {
		b []byte
		k []byte
	}{{bucketShares, itob(sh.ID)}, {bucketSharesBySubject, subjectKey(sh.Kind, sh.SubjectID, sh.ID)},
		{bucketSharesExpiry, expiryKey(sh.ExpiresAt, sh.ID)}, {bucketSharesPurge, itob(sh.ID)}, {bucketShareCodes, itob(sh.ID)}} {
		if err := tx.Bucket(del.b).Delete(del.k); err != nil {
			return err
		}
	}
	if sh.ClientID != 0 {
		if err := tx.Bucket(bucketSharesByClient).Delete(pairKey(sh.ClientID, sh.ID)); err != nil {
			return err
		}
	}
	if _, err := deletePrefix(tx.Bucket(bucketShareEvents), itob(sh.ID)); err != nil {
		return err
	}
	if err := e.deleteViewings(sh.ID); err != nil {
		return err
	}
	if err := e.deleteSignatures(sh.ID); err != nil {
		return err
	}
	if sh.Kind == SharePreso {
		for _, snap := range sh.Snapshot {
			if err := tx.Bucket(bucketPresoSnapshots).Delete(itob(snap)); err != nil {
				return err
			}
		}
	}
	e.out.Shares++
	return nil
}

// deleteViewings removes the viewings of a share.
func (e *eraser) deleteViewings(shareID uint64) error {
	prefix := itob(shareID)
	var ids [][]byte
	c := e.tx.Bucket(bucketViewingsByShare).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, bytes.Clone(k[8:]))
	}
	for _, id := range ids {
		var v Viewing
		if err := getJSON(e.tx, bucketViewings, id, &v); errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := e.deleteViewing(v); err != nil {
			return err
		}
	}
	return nil
}

// deleteViewing removes a viewing with its indexes and slide times; the
// index by its token is swept in shareLeftovers.
func (e *eraser) deleteViewing(v Viewing) error {
	tx := e.tx
	if e.viewings == nil {
		e.viewings = map[uint64]bool{}
	}
	e.viewings[v.ID] = true
	for _, del := range []struct {
		b []byte
		k []byte
	}{{bucketViewingsByShare, presoIndexKey(v.ShareID, v.ID)}, {bucketViewings, itob(v.ID)}, {bucketViewingsDue, viewingDueKey(v)}} {
		if err := tx.Bucket(del.b).Delete(del.k); err != nil {
			return err
		}
	}
	if times := tx.Bucket(bucketSlideTimes); times.Bucket(itob(v.ID)) != nil {
		if err := times.DeleteBucket(itob(v.ID)); err != nil {
			return err
		}
	}
	e.out.Viewings++
	return nil
}

// deleteSignatures removes the signatures made through a share.
func (e *eraser) deleteSignatures(shareID uint64) error {
	prefix := itob(shareID)
	var ids [][]byte
	c := e.tx.Bucket(bucketSignaturesByShare).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, bytes.Clone(k[8:]))
	}
	for _, id := range ids {
		var sig Signature
		if err := getJSON(e.tx, bucketSignatures, id, &sig); errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := e.deleteSignature(sig); err != nil {
			return err
		}
	}
	return nil
}

// deleteSignature removes a signature, its index and its certificate.
func (e *eraser) deleteSignature(sig Signature) error {
	if err := e.tx.Bucket(bucketSignaturesByShare).Delete(presoIndexKey(sig.ShareID, sig.ID)); err != nil {
		return err
	}
	if err := e.tx.Bucket(bucketSignatures).Delete(itob(sig.ID)); err != nil {
		return err
	}
	if err := e.deleteCertificate(sig.ID); err != nil {
		return err
	}
	e.out.Signatures++
	return nil
}

// signing removes the client's viewings and signatures that are left (those
// of the shares removed whole went with them) wherever they are: on a preso
// others keep, one the client was taken off, or one deleted since. They are
// found by the client they were recorded with (ClientSigning), not through
// the presos' contacts.
func (e *eraser) signing() error {
	viewings, sigs, err := clientSigning(e.tx, e.c.ID)
	if err != nil {
		return err
	}
	for _, v := range viewings {
		if err := e.deleteViewing(v); err != nil {
			return err
		}
	}
	for _, sig := range sigs {
		if err := e.deleteSignature(sig); err != nil {
			return err
		}
	}
	return nil
}

// deleteCertificate removes the signing certificate of signature sigID, if
// one was issued: its record, its PDF, and whatever was due for it. Its
// indexes (by the ID printed on it, by its PDF's digest) are swept in
// shareLeftovers.
func (e *eraser) deleteCertificate(sigID uint64) error {
	key := itob(sigID)
	if err := e.tx.Bucket(bucketCertificatesDue).Delete(key); err != nil {
		return err
	}
	var c Certificate
	if err := getJSON(e.tx, bucketCertificates, key, &c); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := e.tx.Bucket(bucketCertificates).Delete(key); err != nil {
		return err
	}
	if err := e.deleteBlob(c.BlobID); err != nil {
		return err
	}
	if e.certs == nil {
		e.certs = map[uint64]bool{}
	}
	e.certs[sigID] = true
	e.out.Certificates++
	return nil
}

// presos deletes the presos made for the client alone, with their shares,
// and takes the client off the others: off their contacts and recipients
// (their viewings and signatures go in signing).
func (e *eraser) presos() error {
	tx := e.tx
	prefix := itob(e.c.ID)
	var ids []uint64
	c := tx.Bucket(bucketPresosByClient).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, btoi(k[8:]))
	}
	for _, id := range ids {
		var p Preso
		if err := getJSON(tx, bucketPresos, itob(id), &p); err != nil {
			return err
		}
		shares, err := sharesOf(tx, SharePreso, id)
		if err != nil {
			return err
		}
		others := slices.DeleteFunc(slices.Clone(p.ContactIDs), func(cid uint64) bool { return cid == e.c.ID })
		kept := false
		if len(others) == 0 {
			if kept, err = e.signedByOthers(shares); err != nil {
				return err
			}
		}
		if len(others) == 0 && !kept {
			for _, sh := range shares {
				if err := e.deleteShare(sh); err != nil {
					return err
				}
			}
			if err := deletePreso(tx, id); err != nil {
				return err
			}
			e.out.PresosDeleted++
			continue
		}
		for _, sh := range shares {
			if err := e.leaveShare(sh, others); err != nil {
				return err
			}
		}
		if err := deletePresoIndexes(tx, p); err != nil {
			return err
		}
		p.ContactIDs = others
		if err := putPresoIndexes(tx, p); err != nil {
			return err
		}
		if err := putJSON(tx, bucketPresos, itob(id), p); err != nil {
			return err
		}
		if kept {
			e.out.PresosSignedByOthers++
			continue
		}
		e.left[id] = true
	}
	return nil
}

// signedByOthers reports whether someone other than the client signed
// through one of shares: a signature that is not the client's by the rule
// of clientSigning (their contact, or their viewing).
func (e *eraser) signedByOthers(shares []Share) (bool, error) {
	c := e.tx.Bucket(bucketSignaturesByShare).Cursor()
	for _, sh := range shares {
		prefix := itob(sh.ID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var sig Signature
			if err := getJSON(e.tx, bucketSignatures, k[8:], &sig); errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return false, err
			}
			if sig.ContactID == e.c.ID {
				continue
			}
			var v Viewing
			if err := getJSON(e.tx, bucketViewings, itob(sig.ViewingID), &v); err != nil && !errors.Is(err, ErrNotFound) {
				return false, err
			} else if err == nil && v.ContactID == e.c.ID {
				continue
			}
			return true, nil
		}
	}
	return false, nil
}

// presoShares takes the client off the links of presos they are no
// longer a contact of, or whose preso was deleted: a link keeps its
// recipients as they were when it was made or last refreshed, and a
// preso's share may sit on the client's timeline. The preso's contacts
// now are the ones who stay.
func (e *eraser) presoShares() error {
	tx := e.tx
	found, err := presoSharesNaming(tx, e.c.ID)
	if err != nil {
		return err
	}
	for _, sh := range found {
		var p Preso
		if err := getJSON(tx, bucketPresos, itob(sh.SubjectID), &p); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		others := slices.DeleteFunc(slices.Clone(p.ContactIDs), func(cid uint64) bool { return cid == e.c.ID })
		if err := e.leaveShare(sh, others); err != nil {
			return err
		}
		if p.ID != 0 {
			e.left[p.ID] = true
		}
	}
	return nil
}

// sharesOf reads the shares of a subject.
func sharesOf(tx *bolt.Tx, kind ShareKind, subject uint64) ([]Share, error) {
	prefix := append(append([]byte(kind), 0), itob(subject)...)
	var out []Share
	c := tx.Bucket(bucketSharesBySubject).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		var sh Share
		if err := getJSON(tx, bucketShares, k[len(k)-8:], &sh); errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, nil
}

// leaveShare takes the client off a share of a preso that stays: their
// recipient entry keeps its place (events refer to recipients by position)
// but no longer names them, and their events, codes, the numbers codes went
// to, and sessions go. others are the preso's contacts who stay.
func (e *eraser) leaveShare(sh Share, others []uint64) error {
	tx := e.tx
	idx := -1
	for i, r := range sh.Recipients {
		if r.ClientID == e.c.ID {
			idx = i
			e.addAddr(r.Email)
			for _, m := range r.Mobiles {
				e.addAddr(m)
			}
			sh.Recipients[i] = ShareRecipient{Lang: r.Lang, Removed: true}
		}
	}
	if idx >= 0 {
		if _, err := deleteWhere(tx.Bucket(bucketShareEvents), func(k, v []byte) bool {
			var ev ShareEvent
			return bytes.HasPrefix(k, itob(sh.ID)) && unmarshal(v, &ev) == nil && ev.Recipient == idx
		}); err != nil {
			return err
		}
		var code ShareCode
		if err := getJSON(tx, bucketShareCodes, itob(sh.ID), &code); err == nil {
			if code.Recipient == idx {
				code.Hash, code.Target, code.ExpiresAt = nil, "", time.Time{}
			}
			if code.PrevRecipient == idx {
				code.PrevHash, code.PrevTarget, code.PrevExpiresAt = nil, "", time.Time{}
			}
			code.Waiting = slices.DeleteFunc(code.Waiting, func(w WaitingCode) bool { return w.Recipient == idx })
			for k := range code.SentTo {
				if _, to, _ := strings.Cut(k, ":"); e.addrs[NormalizeEmail(to)] {
					delete(code.SentTo, k)
				}
			}
			if err := putJSON(tx, bucketShareCodes, itob(sh.ID), code); err != nil {
				return err
			}
		}
		if _, err := deleteWhere(tx.Bucket(bucketShareSessions), func(_, v []byte) bool {
			var ss ShareSession
			return unmarshal(v, &ss) == nil && ss.ShareID == sh.ID && ss.Recipient == idx
		}); err != nil {
			return err
		}
	}
	if sh.ClientID == e.c.ID {
		// The share moves to the timeline of a contact who stays, if any.
		if err := tx.Bucket(bucketSharesByClient).Delete(pairKey(sh.ClientID, sh.ID)); err != nil {
			return err
		}
		sh.ClientID = 0
		if len(others) > 0 {
			sh.ClientID = others[0]
			if err := tx.Bucket(bucketSharesByClient).Put(pairKey(sh.ClientID, sh.ID), nil); err != nil {
				return err
			}
		}
	}
	return putJSON(tx, bucketShares, itob(sh.ID), sh)
}

// shareLeftovers sweeps the indexes found by keyed hashes, whose keys cannot
// be computed again: share links, share sessions, viewing tokens,
// certificates' IDs (and their digests, with them).
func (e *eraser) shareLeftovers() error {
	tx := e.tx
	if len(e.shares) > 0 {
		if _, err := deleteWhere(tx.Bucket(bucketSharesByToken), func(_, v []byte) bool { return len(v) == 8 && e.shares[btoi(v)] }); err != nil {
			return err
		}
		if _, err := deleteWhere(tx.Bucket(bucketShareSessions), func(_, v []byte) bool {
			var ss ShareSession
			return unmarshal(v, &ss) == nil && e.shares[ss.ShareID]
		}); err != nil {
			return err
		}
	}
	if len(e.viewings) > 0 {
		if _, err := deleteWhere(tx.Bucket(bucketViewingsByToken), func(_, v []byte) bool { return len(v) == 8 && e.viewings[btoi(v)] }); err != nil {
			return err
		}
	}
	if len(e.certs) > 0 {
		for _, b := range [][]byte{bucketCertificatesByID, bucketCertificatesBySum} {
			if _, err := deleteWhere(tx.Bucket(b), func(_, v []byte) bool { return len(v) == 8 && e.certs[btoi(v)] }); err != nil {
				return err
			}
		}
	}
	return nil
}

// outbox removes the messages sent to the client or naming them: those
// that say they concern the client's record or went to their portal account
// (Message.ClientID, AccountID; an account ended before names its messages'
// client, see claimMessages), and, for messages queued before messages said
// so, those to their addresses and those whose arguments hold their name,
// email or number (a practitioner told that the client opened a share).
func (e *eraser) outbox() error {
	name := Fold(e.c.Name())
	var doomed []Message
	err := e.tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
		var m Message
		if err := unmarshal(v, &m); err != nil {
			return err
		}
		if m.ClientID == e.c.ID || (e.accountID != 0 && m.AccountID == e.accountID) ||
			e.addrs[NormalizeEmail(m.To)] || e.mentions(m.Args, name) {
			doomed = append(doomed, m)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range doomed {
		if err := unindexMessage(e.tx, m); err != nil {
			return err
		}
		if err := e.tx.Bucket(bucketOutbox).Delete(itob(m.ID)); err != nil {
			return err
		}
		e.out.Messages++
	}
	return nil
}

// codeSends removes when codes went to the client's numbers and addresses
// (the resend limits, kept under their keyed hash): what is left of a
// number once the client is gone.
func (e *eraser) codeSends() error {
	b := e.tx.Bucket(bucketCodeSends)
	if b == nil {
		return nil
	}
	for a := range e.addrs {
		for _, ch := range []Channel{ChannelSMS, ChannelEmail} {
			if err := b.Delete(e.s.codeSendsKey(CodeTargetKey(ch, a))); err != nil {
				return err
			}
		}
	}
	return nil
}

// mentions reports whether a message's arguments name the client.
func (e *eraser) mentions(args map[string]string, name string) bool {
	for _, v := range args {
		if name != "" && strings.Contains(Fold(v), name) {
			return true
		}
		if e.addrs[NormalizeEmail(v)] {
			return true
		}
	}
	return false
}

// record removes the client record and its search entries.
func (e *eraser) record() error {
	if err := deleteClientIndexes(e.tx, e.c); err != nil {
		return err
	}
	if err := deleteSearchEntry(clientSearch(e.tx), e.c.ID); err != nil {
		return err
	}
	return e.tx.Bucket(bucketClients).Delete(itob(e.c.ID))
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) (int, error) {
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		doomed = append(doomed, bytes.Clone(k))
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// KeptReceipts lists the receipts kept from erased clients, by number.
func (s *Store) KeptReceipts() ([]KeptReceipt, error) {
	var out []KeptReceipt
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeptReceipts).ForEach(func(_, v []byte) error {
			var r KeptReceipt
			if err := unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// ArchivedClient is an archived client as the retention rule reads them.
type ArchivedClient struct {
	ID             uint64
	Name           string
	PractitionerID uint64
	CreatedAt      time.Time
	// LastSession is the start of their last session not cancelled; zero when none.
	LastSession time.Time
}

// ArchivedClients lists the archived clients in name order, each with the
// start of their last session.
func (s *Store) ArchivedClients() ([]ArchivedClient, error) {
	var out []ArchivedClient
	err := s.db.View(func(tx *bolt.Tx) error {
		appts := tx.Bucket(bucketApptsByClient).Cursor()
		c := tx.Bucket(bucketClientIndex).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) < 19 || v[8] != 1 {
				continue
			}
			var cl Client
			if err := getJSON(tx, bucketClients, k[len(k)-8:], &cl); err != nil {
				return err
			}
			a := ArchivedClient{ID: cl.ID, Name: cl.Name(), PractitionerID: cl.PractitionerID, CreatedAt: cl.CreatedAt}
			// Newest first: the last key of the client's prefix is their latest session.
			prefix := itob(cl.ID)
			ak, _ := appts.Seek(itob(cl.ID + 1))
			if ak == nil {
				ak, _ = appts.Last()
			} else {
				ak, _ = appts.Prev()
			}
			for ; ak != nil && bytes.HasPrefix(ak, prefix); ak, _ = appts.Prev() {
				var ap Appointment
				if err := getJSON(tx, bucketAppointments, ak[16:], &ap); err != nil {
					return err
				}
				if ap.Status != StatusCancelled {
					a.LastSession = ap.Start
					break
				}
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
