package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The certificate cache holds what Foyer's ACME client keeps between starts
// (the account key, each certificate with its private key), so that one file
// still holds all state and a restored backup serves HTTPS at once. Every
// value is sealed: a private key is as secret as a share link.
//
// The bucket is made at the first Put (a file without HTTPS never has it),
// so it needs no schema version of its own.

var bucketCertCache = []byte("cert_cache")

// CertCache returns the value kept under name, or ErrNotFound.
func (s *Store) CertCache(name string) ([]byte, error) {
	var sealed string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCertCache)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(name))
		if v == nil {
			return ErrNotFound
		}
		sealed = string(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	plain, err := s.Unseal(sealed)
	if err != nil {
		return nil, fmt.Errorf("store: unable to open the certificate cache entry %q: %w", name, err)
	}
	return []byte(plain), nil
}

// PutCertCache keeps data under name, sealed.
func (s *Store) PutCertCache(name string, data []byte) error {
	sealed, err := s.Seal(string(data))
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketCertCache)
		if err != nil {
			return fmt.Errorf("store: unable to keep a certificate: %w", err)
		}
		return b.Put([]byte(name), []byte(sealed))
	})
}

// DeleteCertCache removes what is kept under name, if anything.
func (s *Store) DeleteCertCache(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCertCache); b != nil {
			return b.Delete([]byte(name))
		}
		return nil
	})
}
