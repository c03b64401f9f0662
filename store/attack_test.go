package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestStolenDataFileOpensNothing is the attack of a thief who copied
// foyer.db alone (a stolen disk, a downloaded backup) and has Foyer's own
// store package: opening the copy fails, with no key file or with one of
// their own; and nothing in the file, read raw, whether in live or freed
// pages, is a share token, a document, an authenticator seed, an outbox
// secret, a certificate key, or a key that would open them.
func TestStolenDataFileOpensNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	needles, _, _, _ := fill(t, s)
	hmacKey, sealKey, key := s.hmacKey, s.sealKey, s.SecretKey()
	s.Close()

	stolen := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(stolen, FileName)
	if err := os.WriteFile(copyPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	// 1. The store package refuses the copy, and makes no key for it.
	if _, err := OpenFile(copyPath); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("the copy opened without its key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(stolen, KeyFileName)); !os.IsNotExist(err) {
		t.Fatal("opening the copy made a key for it")
	}
	// A key of the thief's own making does not open it either.
	if err := WriteKeyFile(filepath.Join(stolen, KeyFileName), NewSecretKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(copyPath); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("the copy opened with another key: %v", err)
	}

	// 2. Read with bbolt directly, the secrets record holds no key.
	db, err := bolt.Open(copyPath, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var sec Secrets
	if err := db.View(func(tx *bolt.Tx) error {
		return unmarshal(tx.Bucket(bucketMeta).Get(keySecrets), &sec)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if sec.HMACKey != nil || sec.SealKey != nil || sec.Wrapped == "" {
		t.Fatalf("the secrets record holds keys: %+v", sec)
	}
	// Without the secret key, the wrapped keys do not open; with it, they do
	// (so the test would notice if they were not what seals the data).
	if _, err := unwrapDataKeys(NewSecretKey(), sec.Wrapped); err == nil {
		t.Fatal("the wrapped keys opened with a made-up key")
	}
	if k, err := unwrapDataKeys(key, sec.Wrapped); err != nil || !bytes.Equal(k.Seal, sealKey) {
		t.Fatalf("the wrapped keys are not the keys in use: %v", err)
	}

	// 3. No clear value, and no key, anywhere in the bytes of the file.
	for what, clear := range needles {
		probe := clear
		if len(probe) > 64 {
			probe = probe[:64]
		}
		if bytes.Contains(raw, probe) {
			t.Errorf("the data file holds a %s in the clear", what)
		}
	}
	for _, k := range [][]byte{hmacKey, sealKey, []byte(key)} {
		for _, form := range keyForms(k) {
			if bytes.Contains(raw, form) {
				t.Errorf("the data file holds a key (%q)", form)
			}
		}
	}
}
