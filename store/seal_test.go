package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

const (
	testSeed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	keyA     = "a secret key kept outside the data file, 1"
	keyB     = "a secret key kept outside the data file, 2"
)

func TestSealRoundTrip(t *testing.T) {
	s := openTest(t)
	sealed, err := s.Seal(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, sealPrefix) || strings.Contains(sealed, testSeed) {
		t.Fatalf("sealed value %q", sealed)
	}
	again, _ := s.Seal(testSeed)
	if again == sealed {
		t.Error("sealing twice gave the same value: the nonce is not random")
	}
	if got, err := s.Unseal(sealed); err != nil || got != testSeed {
		t.Fatalf("Unseal = %q, %v", got, err)
	}
	if got, err := s.Seal(""); err != nil || got != "" {
		t.Errorf("Seal(\"\") = %q, %v", got, err)
	}
	// A changed byte, a cut value, plain text, bad base64: refused, not panicking.
	flipped := []byte(sealed)
	flipped[len(flipped)-2] ^= 1
	for _, bad := range []string{string(flipped), sealed[:len(sealPrefix)+4], testSeed, sealPrefix + "!!!"} {
		if _, err := s.Unseal(bad); err == nil {
			t.Errorf("Unseal(%q) succeeded", bad)
		}
	}
}

// createWithSeed opens dir with opts and saves a staff member whose seed is
// sealed under the key in use.
func createWithSeed(t *testing.T, dir string, opts ...Option) uint64 {
	t.Helper()
	s, err := Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sealed, err := s.Seal(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	st := &Staff{Email: "sam@example.org", Name: "Sam", Role: RoleOwner, Active: true, TOTPSecret: sealed, TOTPEnabled: true}
	if err := s.CreateStaff(st); err != nil {
		t.Fatal(err)
	}
	return st.ID
}

// seedAfterOpen reopens dir with opts and returns the unsealed seed.
func seedAfterOpen(t *testing.T, dir string, id uint64, opts ...Option) (string, error) {
	t.Helper()
	s, err := Open(dir, opts...)
	if err != nil {
		return "", err
	}
	defer s.Close()
	st, err := s.Staff(id)
	if err != nil {
		t.Fatal(err)
	}
	return s.Unseal(st.TOTPSecret)
}

func TestSecretKeyMustStayTheSame(t *testing.T) {
	dir := t.TempDir()
	id := createWithSeed(t, dir, WithSecretKey(keyA))
	if _, err := seedAfterOpen(t, dir, id); !errors.Is(err, ErrSecretKey) {
		t.Errorf("opened without the key: %v", err)
	}
	if _, err := seedAfterOpen(t, dir, id, WithSecretKey(keyB)); !errors.Is(err, ErrSecretKey) {
		t.Errorf("opened with another key: %v", err)
	}
	if seed, err := seedAfterOpen(t, dir, id, WithSecretKey(keyA)); err != nil || seed != testSeed {
		t.Errorf("with the same key: %q, %v", seed, err)
	}
}

func TestAddingASecretKeyReseals(t *testing.T) {
	dir := t.TempDir()
	id := createWithSeed(t, dir)
	if seed, err := seedAfterOpen(t, dir, id, WithSecretKey(keyA)); err != nil || seed != testSeed {
		t.Fatalf("after adding the key: %q, %v", seed, err)
	}
	// From now on the key is needed: the seed was sealed again under it.
	if _, err := seedAfterOpen(t, dir, id); !errors.Is(err, ErrSecretKey) {
		t.Errorf("opened without the key after adding it: %v", err)
	}
}

// Files written before sealing existed have plain seeds and no key check:
// the first Open seals them.
func TestPlainSeedsFromOlderFilesAreSealed(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := &Staff{Email: "sam@example.org", Name: "Sam", Role: RoleOwner, Active: true, TOTPSecret: testSeed, TOTPEnabled: true}
	if err := s.CreateStaff(st); err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		sec := s.secrets
		sec.KeyCheck = ""
		raw, _ := json.Marshal(sec)
		return tx.Bucket(bucketMeta).Put(keySecrets, raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir, WithSecretKey(keyA))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ := s.Staff(st.ID)
	if !strings.HasPrefix(got.TOTPSecret, sealPrefix) {
		t.Fatalf("seed still plain: %q", got.TOTPSecret)
	}
	if seed, err := s.Unseal(got.TOTPSecret); err != nil || seed != testSeed {
		t.Fatalf("unsealed %q, %v", seed, err)
	}
}

// FuzzUnseal: whatever the data file holds, unsealing fails cleanly or gives
// back what was sealed (a forged value never opens); it never panics.
func FuzzUnseal(f *testing.F) {
	s, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	sealed, _ := s.Seal(testSeed)
	for _, seed := range []string{sealed, sealPrefix, sealPrefix + "AAAA", testSeed, ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got, err := s.Unseal(in); err == nil && got != testSeed && in != "" {
			t.Errorf("Unseal(%q) = %q without error", in, got)
		}
	})
}
