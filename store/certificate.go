package store

import (
	"encoding/base64"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A signing certificate is issued once per signature (package certificate):
// its PDF is kept as a blob (sealed chunks, like shared files), its detached
// CMS signature (.p7s) and its facts in the record. It is found by its
// signature, by the keyed hash of the certificate ID printed on it, or by
// the SHA-256 of its PDF (what /verify is given).

// Certificate is an issued signing certificate.
type Certificate struct {
	SignatureID uint64 `json:"signature_id"`
	// Lang is the language it is written in (the signer's, see Signature.Lang).
	Lang string `json:"lang"`
	// BlobID holds the PDF, Size its length and PDFSHA256 its digest (hex).
	BlobID    uint64 `json:"blob_id"`
	Size      int64  `json:"size"`
	PDFSHA256 string `json:"pdf_sha256"`
	// P7S is the detached CMS signature (DER) of the PDF by the practice's seal.
	P7S      []byte    `json:"p7s"`
	IssuedAt time.Time `json:"issued_at"`
	// Title is the preso's title as signed; Signature the facts of the
	// signature as they were at issue (without the drawing, which the PDF shows).
	Title     string    `json:"title"`
	Signature Signature `json:"signature"`
	// StampedAt is the time a timestamp authority (RFC 3161) put on the
	// signature, and TSA who it is; zero and empty without one.
	StampedAt time.Time `json:"stamped_at,omitzero"`
	TSA       string    `json:"tsa,omitempty"`
}

// PracticeSeal is the practice's signing key pair: a self-signed X.509
// certificate and its private key (PKCS #8 DER), which the store keeps
// sealed.
type PracticeSeal struct {
	Cert []byte `json:"cert"`
	Key  []byte `json:"-"`
	// KeySealed is Key sealed (see seal.go).
	KeySealed string `json:"key_sealed"`
}

// ErrAlreadyIssued is returned by SaveCertificate when the signature has a certificate already.
var ErrAlreadyIssued = errors.New("store: the certificate was issued already")

// The values of certificates_due: a certificate to issue, or one issued
// without the timestamp a timestamp authority was asked for.
const (
	dueIssue = "i"
	dueStamp = "s"
)

func (s *Store) certificateIDKey(id string) []byte { return s.Hash("certificate:" + id) }

// migrate11to12 adds signing certificates and the practice's seal; every
// signature made before is due for its certificate.
func migrate11to12(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketCertificates, bucketCertificatesByID, bucketCertificatesBySum, bucketCertificatesDue} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	due := tx.Bucket(bucketCertificatesDue)
	return tx.Bucket(bucketSignatures).ForEach(func(k, _ []byte) error { return due.Put(k, []byte(dueIssue)) })
}

// PracticeSeal returns the practice's seal, ErrNotFound before the first.
func (s *Store) PracticeSeal() (PracticeSeal, error) {
	var ps PracticeSeal
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketMeta, keyPracticeSeal, &ps) })
	if err != nil {
		return ps, err
	}
	return ps, s.openSeal(&ps)
}

func (s *Store) openSeal(ps *PracticeSeal) error {
	plain, err := s.Unseal(ps.KeySealed)
	if err != nil {
		return err
	}
	ps.Key, err = base64.StdEncoding.DecodeString(plain)
	return err
}

// CreatePracticeSeal keeps ps as the practice's seal, its key sealed, unless
// one was made meanwhile: it returns the seal that is kept.
func (s *Store) CreatePracticeSeal(ps PracticeSeal) (PracticeSeal, error) {
	sealed, err := s.Seal(base64.StdEncoding.EncodeToString(ps.Key))
	if err != nil {
		return ps, err
	}
	ps.KeySealed = sealed
	var kept PracticeSeal
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketMeta, keyPracticeSeal, &kept); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		kept = ps
		return putJSON(tx, bucketMeta, keyPracticeSeal, ps)
	})
	if err != nil {
		return kept, err
	}
	return kept, s.openSeal(&kept)
}

// DueCertificates returns the signatures whose certificate is to be issued
// (stamp false) or is to be stamped again (stamp true), oldest first.
func (s *Store) DueCertificates() (issue, stamp []uint64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCertificatesDue).ForEach(func(k, v []byte) error {
			if string(v) == dueStamp {
				stamp = append(stamp, btoi(k))
			} else {
				issue = append(issue, btoi(k))
			}
			return nil
		})
	})
	return issue, stamp, err
}

// SaveCertificate keeps the certificate of a signature, found by id (the
// certificate ID printed on it, kept only as a keyed hash) and by its PDF's
// digest. wantStamp says a timestamp was asked for and is missing: the
// certificate stays due to be stamped. ErrAlreadyIssued when the signature
// has one already (nothing is written).
func (s *Store) SaveCertificate(c Certificate, id string, sum []byte, wantStamp bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		key := itob(c.SignatureID)
		if tx.Bucket(bucketCertificates).Get(key) != nil {
			return ErrAlreadyIssued
		}
		if err := tx.Bucket(bucketCertificatesByID).Put(s.certificateIDKey(id), key); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCertificatesBySum).Put(sum, key); err != nil {
			return err
		}
		if err := setDue(tx, key, wantStamp && c.StampedAt.IsZero()); err != nil {
			return err
		}
		return putJSON(tx, bucketCertificates, key, c)
	})
}

func setDue(tx *bolt.Tx, key []byte, stamp bool) error {
	if stamp {
		return tx.Bucket(bucketCertificatesDue).Put(key, []byte(dueStamp))
	}
	return tx.Bucket(bucketCertificatesDue).Delete(key)
}

// Restamp replaces the .p7s of signature sigID's certificate by one that
// carries a timestamp (at, by tsa); with a zero at the certificate stays due.
func (s *Store) Restamp(sigID uint64, p7s []byte, at time.Time, tsa string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		key := itob(sigID)
		var c Certificate
		if err := getJSON(tx, bucketCertificates, key, &c); err != nil {
			return err
		}
		if !at.IsZero() {
			c.P7S, c.StampedAt, c.TSA = p7s, at.UTC(), tsa
		}
		if err := setDue(tx, key, at.IsZero()); err != nil {
			return err
		}
		return putJSON(tx, bucketCertificates, key, c)
	})
}

// NotDue takes signature sigID off the list of certificates to issue or
// stamp (no timestamp authority is set any more, or nothing can be issued).
func (s *Store) NotDue(sigID uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return setDue(tx, itob(sigID), false) })
}

// CertificateOf returns the certificate of signature sigID; ErrNotFound before it is issued.
func (s *Store) CertificateOf(sigID uint64) (Certificate, error) {
	var c Certificate
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketCertificates, itob(sigID), &c) })
	return c, err
}

// CertificateByID finds a certificate by the ID printed on it.
func (s *Store) CertificateByID(id string) (Certificate, error) {
	return s.certificateBy(bucketCertificatesByID, s.certificateIDKey(id))
}

// CertificateBySum finds a certificate by the SHA-256 of its PDF.
func (s *Store) CertificateBySum(sum []byte) (Certificate, error) {
	return s.certificateBy(bucketCertificatesBySum, sum)
}

func (s *Store) certificateBy(bucket, key []byte) (Certificate, error) {
	var c Certificate
	err := s.db.View(func(tx *bolt.Tx) error {
		sig := tx.Bucket(bucket).Get(key)
		if sig == nil {
			return ErrNotFound
		}
		return getJSON(tx, bucketCertificates, sig, &c)
	})
	return c, err
}
