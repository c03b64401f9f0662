package store

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Signature is a viewer's signature on the signing slide of a shared preso,
// with the facts the signing certificate states.
type Signature struct {
	ID        uint64 `json:"id"`
	ShareID   uint64 `json:"share_id"`
	PresoID   uint64 `json:"preso_id"`
	ViewingID uint64 `json:"viewing_id"`
	// SnapshotID and SnapshotSHA256 say exactly what was signed.
	SnapshotID     uint64 `json:"snapshot_id"`
	SnapshotSHA256 string `json:"snapshot_sha256"`
	SlideID        uint64 `json:"slide_id"`
	// Name is the full name typed by the signer.
	Name string `json:"name"`
	// Drawing is the drawn signature as a PNG; empty when the signer typed their name only.
	Drawing []byte `json:"drawing,omitempty"`
	Consent bool   `json:"consent"`
	// Verification is how the signer proved who they are: "sms" or "email" (a
	// code) or "none".
	Verification string `json:"verification"`
	// ContactID and ContactName are the preso contact the viewing was for: the
	// one a code verified, or the one whose name was picked from the list
	// without a code (Verification "none"); 0 and empty for a visitor who gave
	// their own name or none. Name is what they typed, which may differ.
	ContactID   uint64 `json:"contact_id,omitempty"`
	ContactName string `json:"contact_name,omitempty"`
	// DeclaredName is the name a visitor not on the list gave on the landing
	// page; Anonymous says they gave none.
	DeclaredName string `json:"declared_name,omitempty"`
	Anonymous    bool   `json:"anonymous,omitempty"`
	// VerifiedTo is where the code went, masked ("••• ••• 678" or
	// "c•••@example.org"); empty when no code was used or it is not known.
	VerifiedTo string    `json:"verified_to,omitempty"`
	Browser    string    `json:"browser,omitempty"`
	IP         string    `json:"ip,omitempty"`
	At         time.Time `json:"at"`
	// Lang is the language of the page the signer signed on, and Consent
	// text the words of the box they ticked, as they read them.
	Lang        string `json:"lang,omitempty"`
	ConsentText string `json:"consent_text,omitempty"`
}

// Verified tells whether a code proved who signed.
func (sig Signature) Verified() bool { return verifiedBy(sig.Verification) }

// verifiedBy is whether a Verification names a code ("sms", "email"), not
// "none" or nothing.
func verifiedBy(how string) bool { return how != "" && how != "none" }

// SameSigner tells whether o comes from the same signer as sig on the same
// slide of the same snapshot: the same viewing, or the same contact verified
// by a code in both.
func (sig Signature) SameSigner(o Signature) bool {
	if sig.SnapshotID != o.SnapshotID || sig.SlideID != o.SlideID {
		return false
	}
	return sig.ViewingID == o.ViewingID || (sig.ContactID != 0 && sig.ContactID == o.ContactID && sig.Verified() && o.Verified())
}

// NameDiffers tells whether the typed name is not the name of the contact the
// viewing was for, compared without case, accents, hyphens or extra spaces
// ("jean-pierre  DUPRÉ" is "Jean Pierre Dupré"). False when there is no contact.
func (sig Signature) NameDiffers() bool {
	if sig.ContactName == "" {
		return false
	}
	return comparableName(sig.Name) != comparableName(sig.ContactName)
}

func comparableName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '\'' || r == '’' || r == '.' || r == ',' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(Fold(s)), " ")
}

// ErrAlreadySigned is returned by AddSignature when the viewing, or the contact
// a code verified, already signed that slide of that snapshot.
var ErrAlreadySigned = errors.New("store: already signed")

// AddSignature stores a signature and records it in the preso's activity. One
// viewing signs a slide of a snapshot once, and so does a contact verified by
// a code (a new visit with a new code must not add a second signature): the
// check and the write are one transaction, so two tabs cannot both sign.
func (s *Store) AddSignature(sig *Signature) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSignaturesByShare).Cursor()
		prefix := itob(sig.ShareID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var old Signature
			if err := getJSON(tx, bucketSignatures, k[8:], &old); err != nil {
				return err
			}
			if old.SnapshotID != sig.SnapshotID || old.SlideID != sig.SlideID {
				continue
			}
			if old.SameSigner(*sig) {
				return ErrAlreadySigned
			}
		}
		id, err := tx.Bucket(bucketSignatures).NextSequence()
		if err != nil {
			return err
		}
		sig.ID = id
		if err := tx.Bucket(bucketSignaturesByShare).Put(presoIndexKey(sig.ShareID, id), nil); err != nil {
			return err
		}
		if err := addPresoEvent(tx, sig.PresoID, PresoEvent{At: sig.At, Kind: "signed", OtherID: id}); err != nil {
			return err
		}
		// Its certificate is issued by the jobs, soon after (package certificate).
		if err := tx.Bucket(bucketCertificatesDue).Put(itob(id), []byte(dueIssue)); err != nil {
			return err
		}
		return putJSON(tx, bucketSignatures, itob(id), sig)
	})
}

// Signature loads a signature.
func (s *Store) Signature(id uint64) (Signature, error) {
	var sig Signature
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketSignatures, itob(id), &sig) })
	return sig, err
}

// ShareSignatures returns the signatures made through a share, oldest first.
func (s *Store) ShareSignatures(shareID uint64) ([]Signature, error) {
	var out []Signature
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSignaturesByShare).Cursor()
		prefix := itob(shareID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var sig Signature
			if err := getJSON(tx, bucketSignatures, k[8:], &sig); err != nil {
				return err
			}
			out = append(out, sig)
		}
		return nil
	})
	return out, err
}

// ClientSigning returns what a client did through presos' links: their
// viewings and the signatures they made, oldest first. Both are found by the
// client they were recorded with, whatever the presos' contacts are now: a
// client taken off a preso, or whose preso was deleted, still viewed and
// signed it. A viewing is theirs when it was for them (Viewing.ContactID); a
// signature when it was made from one of their viewings, which is also what
// names its contact (Signer), and what tells it for a signature stored
// before signatures kept their contact. The client's export and erasure read
// them by this one rule.
func (s *Store) ClientSigning(clientID uint64) ([]Viewing, []Signature, error) {
	var vs []Viewing
	var sigs []Signature
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		vs, sigs, err = clientSigning(tx, clientID)
		return err
	})
	return vs, sigs, err
}

// clientSigning reads every viewing, decoding in full only the client's (the
// whole scan is the price of finding them whatever became of their preso,
// paid by an export or an erasure alone), then the signatures of the links
// they viewed: not every signature, whose drawings weigh.
func clientSigning(tx *bolt.Tx, clientID uint64) ([]Viewing, []Signature, error) {
	if clientID == 0 {
		return nil, nil, nil
	}
	var vs []Viewing
	theirs := map[uint64]bool{}
	var shares []uint64
	err := tx.Bucket(bucketViewings).ForEach(func(_, raw []byte) error {
		var head struct {
			ContactID uint64 `json:"contact_id"`
		}
		if err := unmarshal(raw, &head); err != nil {
			return err
		}
		if head.ContactID != clientID {
			return nil
		}
		var v Viewing
		if err := unmarshal(raw, &v); err != nil {
			return err
		}
		vs = append(vs, v)
		theirs[v.ID] = true
		if !slices.Contains(shares, v.ShareID) {
			shares = append(shares, v.ShareID)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var sigs []Signature
	c := tx.Bucket(bucketSignaturesByShare).Cursor()
	for _, share := range shares {
		prefix := itob(share)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var sig Signature
			if err := getJSON(tx, bucketSignatures, k[8:], &sig); errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return nil, nil, err
			}
			if theirs[sig.ViewingID] || sig.ContactID == clientID {
				sigs = append(sigs, sig)
			}
		}
	}
	slices.SortFunc(sigs, func(a, b Signature) int { return cmp.Compare(a.ID, b.ID) })
	return vs, sigs, nil
}
