package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	keyA = "a secret key kept outside the data file, 1"
	keyB = "a secret key kept outside the data file, 2"
)

// makeLegacy rewrites the closed store in dir as Foyer wrote it before the
// secret key was kept apart: its keys in the clear in meta/secrets, and no
// secret.key. With beforeSealing, as a file from before sealing existed
// (no key check).
func makeLegacy(t *testing.T, dir string, mode string) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sec := Secrets{HMACKey: s.hmacKey, SealKey: s.sealKey, KeyCheck: keyCheck(s.sealKey)}
	if mode == "beforeSealing" {
		sec.KeyCheck = ""
	}
	s.Close()
	putSecrets(t, filepath.Join(dir, FileName), sec)
	if err := os.Remove(filepath.Join(dir, KeyFileName)); err != nil {
		t.Fatal(err)
	}
}

// putSecrets writes the secrets record of a closed data file as it is given.
func putSecrets(t *testing.T, path string, sec Secrets) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, boltOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, _ := json.Marshal(sec)
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySecrets, raw) }); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(raw)
}

// keyForms are the ways a key's bytes could sit in the file: raw, or
// base64 in a JSON record.
func keyForms(k []byte) [][]byte {
	return [][]byte{k, []byte(base64.StdEncoding.EncodeToString(k)), []byte(base64.RawURLEncoding.EncodeToString(k))}
}

func TestNewStoreKeepsItsKeyApart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hmacKey, sealKey, key := s.hmacKey, s.sealKey, s.SecretKey()
	if s.KeyFile() != filepath.Join(dir, KeyFileName) {
		t.Errorf("KeyFile = %q", s.KeyFile())
	}
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v %v", fi, err)
	}
	onDisk, err := ReadKeyFile(filepath.Join(dir, KeyFileName))
	if err != nil || onDisk != key || len(key) != generatedKeyLen {
		t.Fatalf("secret.key holds %q (%v), the store used %q", onDisk, err, key)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	for _, k := range [][]byte{hmacKey, sealKey, []byte(key)} {
		for _, form := range keyForms(k) {
			if bytes.Contains(raw, form) {
				t.Fatalf("the data file holds a key (%q)", form)
			}
		}
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !bytes.Equal(s.hmacKey, hmacKey) || !bytes.Equal(s.sealKey, sealKey) {
		t.Fatal("the keys changed across a restart")
	}
}

// TestMissingOrWrongKeyChangesNothing: without its key, or with another,
// the data file does not open, the error names the key it needs, and
// neither the file nor the directory changes.
func TestMissingOrWrongKeyChangesNothing(t *testing.T) {
	dir := t.TempDir()
	id := createWithSeed(t, dir)
	keyFile := filepath.Join(dir, KeyFileName)
	key, err := ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(t.TempDir(), "kept.key")
	if err := os.Rename(keyFile, kept); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, filepath.Join(dir, FileName))
	var ke *KeyError
	_, err = Open(dir)
	if !errors.As(err, &ke) || !errors.Is(err, ErrSecretKey) || ke.Need != SecretKeyID(key) || ke.Have != "" || ke.File != keyFile {
		t.Fatalf("without the key: %#v", err)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatal("a failed open wrote a new secret.key")
	}
	if err := WriteKeyFile(keyFile, NewSecretKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.As(err, &ke) || ke.Need != SecretKeyID(key) || ke.Have == "" || ke.Have == ke.Need {
		t.Fatalf("with another secret.key: %#v", err)
	}
	if _, err := Open(dir, WithSecretKey(keyB)); !errors.As(err, &ke) || ke.Have != SecretKeyID(keyB) || ke.File != "" {
		t.Fatalf("with another given key: %#v", err)
	}
	if fileSum(t, filepath.Join(dir, FileName)) != before {
		t.Fatal("failed opens changed the data file")
	}
	// The kept key, given or typed back into secret.key in groups, opens it.
	if seed, err := seedAfterOpen(t, dir, id, WithSecretKey(key)); err != nil || seed != testSeed {
		t.Fatalf("with the key given: %q %v", seed, err)
	}
	if err := os.WriteFile(keyFile, []byte(strings.ToLower(FormatSecretKey(key))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if seed, err := seedAfterOpen(t, dir, id); err != nil || seed != testSeed {
		t.Fatalf("with the key typed back: %q %v", seed, err)
	}
}

func TestGivenKeyWritesNoFile(t *testing.T) {
	dir := t.TempDir()
	id := createWithSeed(t, dir, WithSecretKey(keyA))
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Fatal("a given key was also written to secret.key")
	}
	var ke *KeyError
	if _, err := seedAfterOpen(t, dir, id); !errors.As(err, &ke) || ke.Need != SecretKeyID(keyA) {
		t.Fatalf("opened without the key: %v", err)
	}
	if _, err := seedAfterOpen(t, dir, id, WithSecretKey(keyB)); !errors.Is(err, ErrSecretKey) {
		t.Errorf("opened with another key: %v", err)
	}
	if seed, err := seedAfterOpen(t, dir, id, WithSecretKey(keyA)); err != nil || seed != testSeed {
		t.Errorf("with the same key: %q, %v", seed, err)
	}
}

// fill puts one of everything the store seals into s and returns what a
// thief would look for: the clear values.
func fill(t *testing.T, s *Store) (needles map[string][]byte, shareID, blobID, staffID uint64) {
	t.Helper()
	needles = map[string][]byte{
		"share token":   []byte("the-share-token-a-thief-wants-0123456789"),
		"document":      bytes.Repeat([]byte("Compte rendu de séance, très confidentiel. "), 2000),
		"seed":          []byte(testSeed),
		"outbox secret": []byte("a-reset-token-waiting-in-the-outbox-98765"),
		"certificate":   []byte("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIThisIsTheCertificateKey\n-----END EC PRIVATE KEY-----\n"),
	}
	sealed, err := s.Seal(string(needles["seed"]))
	if err != nil {
		t.Fatal(err)
	}
	st := &Staff{Email: "sam@example.org", Name: "Sam", Role: RoleOwner, Active: true, TOTPSecret: sealed, TOTPEnabled: true}
	if err := s.CreateStaff(st); err != nil {
		t.Fatal(err)
	}
	b := Blob{Name: "notes.txt", CreatedAt: time.Now()}
	if err := s.CreateBlob(&b, bytes.NewReader(needles["document"]), 1<<30); err != nil {
		t.Fatal(err)
	}
	sh := Share{Kind: ShareFiles, State: ShareActive, ExpiresAt: time.Now().Add(time.Hour), Snapshot: []uint64{b.ID}}
	if err := s.CreateShare(&sh, string(needles["share token"]), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(&Message{Channel: ChannelEmail, To: "a@example.org", Lang: "en", Kind: "portal_reset", Secret: string(needles["outbox secret"]), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCertCache("portal.example.org", needles["certificate"]); err != nil {
		t.Fatal(err)
	}
	return needles, sh.ID, b.ID, st.ID
}

// TestLegacyKeysAreWrappedAndTheFileCompacted: a data file written before
// the key was kept apart gets a secret.key at its next Open; everything in
// it still opens, and the file no longer holds its keys in the clear, not
// even in a freed page.
func TestLegacyKeysAreWrappedAndTheFileCompacted(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	needles, shareID, blobID, staffID := fill(t, s)
	hmacKey, sealKey := s.hmacKey, s.sealKey
	s.Close()
	makeLegacy(t, dir, "")
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(sealKey))) {
		t.Fatal("the legacy file does not hold its seal key: the test proves nothing")
	}
	// Whether bbolt reuses the freed page at once is luck: the file must be a new one.
	legacyFile, _ := os.Stat(filepath.Join(dir, FileName))

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); err != nil {
		t.Fatalf("no secret.key written: %v", err)
	}
	if !bytes.Equal(s.hmacKey, hmacKey) || !bytes.Equal(s.sealKey, sealKey) {
		t.Fatal("wrapping changed the keys")
	}
	checkEverythingOpens(t, s, needles, shareID, blobID, staffID)
	s.Close()
	raw, _ = os.ReadFile(filepath.Join(dir, FileName))
	for _, k := range [][]byte{hmacKey, sealKey} {
		for _, form := range keyForms(k) {
			if bytes.Contains(raw, form) {
				t.Fatalf("the data file still holds a key after wrapping (%q)", form)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+compactSuffix)); !os.IsNotExist(err) {
		t.Fatal("the compaction left its file")
	}
	if now, _ := os.Stat(filepath.Join(dir, FileName)); os.SameFile(legacyFile, now) {
		t.Fatal("the data file was not compacted into a new file")
	}
	// And from now on the key is needed.
	os.Rename(filepath.Join(dir, KeyFileName), filepath.Join(dir, "elsewhere"))
	if _, err := Open(dir); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("opened without the key after wrapping: %v", err)
	}
}

func checkEverythingOpens(t *testing.T, s *Store, needles map[string][]byte, shareID, blobID, staffID uint64) {
	t.Helper()
	sh, err := s.ShareByToken(string(needles["share token"]))
	if err != nil || sh.ID != shareID {
		t.Fatalf("share by token: %v", err)
	}
	if tok, err := s.Unseal(sh.TokenSealed); err != nil || tok != string(needles["share token"]) {
		t.Fatalf("share token: %q %v", tok, err)
	}
	r, err := s.OpenBlob(blobID)
	if err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	if _, err := r.WriteTo(&doc); err != nil || !bytes.Equal(doc.Bytes(), needles["document"]) {
		t.Fatalf("document: %v", err)
	}
	r.Close()
	st, _ := s.Staff(staffID)
	if seed, err := s.Unseal(st.TOTPSecret); err != nil || seed != testSeed {
		t.Fatalf("seed: %q %v", seed, err)
	}
	msgs, err := s.ClaimDue(ChannelEmail, time.Now(), time.Minute, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Secret != string(needles["outbox secret"]) {
		t.Fatalf("outbox: %+v %v", msgs, err)
	}
	if c, err := s.CertCache("portal.example.org"); err != nil || !bytes.Equal(c, needles["certificate"]) {
		t.Fatalf("certificate: %v", err)
	}
}

func TestLegacyFileWithAGivenKeyIsWrappedUnderIt(t *testing.T) {
	dir := t.TempDir()
	id := createWithSeed(t, dir)
	makeLegacy(t, dir, "")
	if seed, err := seedAfterOpen(t, dir, id, WithSecretKey(keyA)); err != nil || seed != testSeed {
		t.Fatalf("after adding the key: %q, %v", seed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Fatal("a given key was written to secret.key")
	}
	if _, err := seedAfterOpen(t, dir, id); !errors.Is(err, ErrSecretKey) {
		t.Errorf("opened without the key after adding it: %v", err)
	}
}

// TestLegacyDerivedKeyStillOpens: an older Foyer with FOYER_SECRET_KEY
// sealed with a key derived from it and the file's own; that file opens
// with the same FOYER_SECRET_KEY (and no other), and is wrapped under it.
func TestLegacyDerivedKeyStillOpens(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Remove(filepath.Join(dir, KeyFileName))
	path := filepath.Join(dir, FileName)
	storeKey := randomBytes(32)
	sec := Secrets{HMACKey: randomBytes(32), SealKey: storeKey, KeyCheck: keyCheck(deriveSealKey(storeKey, keyA))}
	putSecrets(t, path, sec)
	// Write records as that Foyer did: sealed under the derived key.
	db, err := bolt.Open(path, 0o600, boltOptions())
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{db: newGatedDB(db, path), hmacKey: sec.HMACKey, sealKey: deriveSealKey(storeKey, keyA)}
	needles, shareID, blobID, staffID := fill(t, old)
	db.Close()

	var ke *KeyError
	if _, err := Open(dir); !errors.As(err, &ke) || ke.Need != "" || ke.File == "" {
		t.Fatalf("without the key: %#v", err)
	}
	if _, err := Open(dir, WithSecretKey(keyB)); !errors.As(err, &ke) || ke.Have != SecretKeyID(keyB) {
		t.Fatalf("with another key: %#v", err)
	}
	s, err = Open(dir, WithSecretKey(keyA))
	if err != nil {
		t.Fatal(err)
	}
	checkEverythingOpens(t, s, needles, shareID, blobID, staffID)
	s.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(sec.HMACKey))) {
		t.Fatal("the HMAC key is still in the clear")
	}
	if _, err := Open(dir, WithSecretKey(keyB)); !errors.As(err, &ke) || ke.Need != SecretKeyID(keyA) {
		t.Fatalf("after wrapping, with another key: %#v", err)
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
	s.Close()
	makeLegacy(t, dir, "beforeSealing")
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

// TestInterruptedCompactionIsDoneAtTheNextOpen: a crash after the keys
// were wrapped but before the compaction leaves the mark, and the next
// Open compacts; a half-written compaction file is dropped.
func TestInterruptedCompactionIsDoneAtTheNextOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyCompactDue, []byte{1}) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, FileName)
	os.WriteFile(path+compactSuffix, []byte("half a file"), 0o600)
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyCompactDue) != nil {
			t.Error("the compaction mark stayed")
		}
		return nil
	})
	if _, err := os.Stat(path + compactSuffix); !os.IsNotExist(err) {
		t.Error("the half-written compaction file stayed")
	}
}

func TestParseAndFormatSecretKey(t *testing.T) {
	key := NewSecretKey()
	if len(key) != generatedKeyLen || ParseSecretKey(key) != key {
		t.Fatalf("generated %q", key)
	}
	grouped := FormatSecretKey(key)
	if strings.Count(grouped, " ") != 12 || strings.ReplaceAll(grouped, " ", "") != key {
		t.Fatalf("grouped %q", grouped)
	}
	for _, typed := range []string{grouped, strings.ToLower(grouped), strings.ReplaceAll(grouped, " ", "-"), "  " + key + "\n"} {
		if got := ParseSecretKey(typed); got != key {
			t.Errorf("ParseSecretKey(%q) = %q", typed, got)
		}
	}
	// Any other key is kept as it is (an operator's FOYER_SECRET_KEY).
	for _, other := range []string{keyA, "q4xUuS1tG5b0Xw2yR8nC7mVdJ3kLzP6hA9eTf0iBoQs="} {
		if ParseSecretKey(other) != other || FormatSecretKey(other) != other {
			t.Errorf("%q was changed", other)
		}
	}
	if SecretKeyID(keyA) == SecretKeyID(keyB) || len(SecretKeyID(keyA)) != 9 {
		t.Errorf("key IDs %q %q", SecretKeyID(keyA), SecretKeyID(keyB))
	}
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("ABCD EFGH\n"), 0o600)
	if _, err := ReadKeyFile(short); err == nil || !strings.Contains(err.Error(), "not a whole secret key") {
		t.Errorf("a cut key file: %v", err)
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
