package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The secret key
//
// The keys that hash tokens (HMAC) and seal secrets (AES-GCM) are random and
// kept in the data file, but only wrapped: sealed under a key derived from
// the secret key, which lives apart from the data file — in secret.key
// beside it, or in FOYER_SECRET_KEY. A copy of the data file alone therefore
// holds nothing that opens a link, a document, a seed or a certificate.
//
// Wrapping (rather than sealing every value with the secret key directly)
// means a data file written before the key existed gets its protection by
// rewriting one record: its keys stay the same, so no document is encrypted
// again. That file is then compacted into a new one, because bbolt leaves
// the old record, with its keys in the clear, in a freed page.

// KeyFileName is the file beside the data file that holds the secret key.
const KeyFileName = "secret.key"

// minKeyLength is the shortest secret key accepted (FOYER_SECRET_KEY or secret.key).
const minKeyLength = 32

// keyEncoding writes generated keys: letters and digits 2–7, no padding, so
// a key read from a printed sheet is typed without ambiguity (no 0/O, 1/l).
var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// generatedKeyLen is the length of a generated key: 32 random bytes in keyEncoding.
const generatedKeyLen = 52

// ErrSecretKey is returned by Open when the data file cannot be opened with
// the secret key at hand (none found, or another one). The error is a
// *KeyError that says which key is needed.
var ErrSecretKey = errors.New("store: the data file needs another secret key")

// KeyError says why the data file cannot be opened with the key at hand.
type KeyError struct {
	// Need is the ID of the key the data file was sealed with; empty for a
	// file an older Foyer sealed with FOYER_SECRET_KEY, which kept no ID.
	Need string
	// Have is the ID of the key found; empty when none was.
	Have string
	// File is where the key was looked for (secret.key beside the data
	// file); empty when it was given (FOYER_SECRET_KEY).
	File string
}

func (e *KeyError) Error() string {
	if e.Have == "" {
		return fmt.Sprintf("store: the data file is sealed with the secret key %s, and %s does not exist", e.needName(), e.File)
	}
	return fmt.Sprintf("store: the data file is sealed with the secret key %s, not with %s", e.needName(), e.Have)
}

func (e *KeyError) needName() string {
	if e.Need == "" {
		return "given as FOYER_SECRET_KEY"
	}
	return e.Need
}

// Unwrap makes a KeyError an ErrSecretKey.
func (e *KeyError) Unwrap() error { return ErrSecretKey }

// NewSecretKey returns a random 256-bit key as Foyer writes it in secret.key.
func NewSecretKey() string { return keyEncoding.EncodeToString(randomBytes(32)) }

// ParseSecretKey reads a key as a person may have typed it from the recovery
// sheet: a generated key in any case, with spaces or dashes between its
// groups, becomes the key it was; any other text is the key as it stands
// (FOYER_SECRET_KEY may be any text of 32 characters or more).
func ParseSecretKey(s string) string {
	s = strings.TrimSpace(s)
	compact := strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s))
	if len(compact) == generatedKeyLen {
		if raw, err := keyEncoding.DecodeString(compact); err == nil && len(raw) == 32 {
			return compact
		}
	}
	return s
}

// FormatSecretKey writes a generated key in groups of four, to be read
// aloud or copied by hand; any other key is returned as it is.
func FormatSecretKey(key string) string {
	if ParseSecretKey(key) != key || len(key) != generatedKeyLen {
		return key
	}
	var b strings.Builder
	for i := 0; i < len(key); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(key[i:min(i+4, len(key))])
	}
	return b.String()
}

// SecretKeyID names a key without revealing it: the recovery sheet prints it,
// and an error about a missing or wrong key says which one is needed.
func SecretKeyID(key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("foyer key id v1"))
	h := strings.ToUpper(hex.EncodeToString(m.Sum(nil)[:4]))
	return h[:4] + "-" + h[4:]
}

// wrapKey is the key that seals the data file's own keys.
func wrapKey(key string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("foyer key wrap v1"))
	return m.Sum(nil)
}

// dataKeys are the data file's own keys, kept sealed under the secret key.
type dataKeys struct {
	HMAC []byte `json:"hmac"`
	Seal []byte `json:"seal"`
	// JournalHead says the journal's head record is signed (schema 14 on).
	// Sealed here, it cannot be taken away without the secret key, as a
	// flag elsewhere in the file could be to have an unsigned head signed
	// again (see signJournalHead).
	JournalHead bool `json:"journal_head,omitempty"`
}

func wrapDataKeys(key string, k dataKeys) (string, error) {
	raw, err := json.Marshal(k)
	if err != nil {
		return "", err
	}
	return seal(wrapKey(key), string(raw))
}

func unwrapDataKeys(key, wrapped string) (dataKeys, error) {
	var k dataKeys
	raw, err := unseal(wrapKey(key), wrapped)
	if err != nil {
		return k, err
	}
	if err := json.Unmarshal([]byte(raw), &k); err != nil {
		return k, fmt.Errorf("store: unable to read the data keys: %w", err)
	}
	if len(k.HMAC) != 32 || len(k.Seal) != 32 {
		return k, errors.New("store: the data keys are damaged")
	}
	return k, nil
}

// ReadKeyFile reads a secret key kept in a file (secret.key, or the recovery
// sheet's key typed into a file).
func ReadKeyFile(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	key := ParseSecretKey(string(raw))
	if len(key) < minKeyLength {
		return "", fmt.Errorf("store: %s holds %d characters, not a whole secret key (%d or more)", path, len(key), minKeyLength)
	}
	return key, nil
}

// WriteKeyFile writes key to path, readable by this user alone, replacing it
// only as a whole: a crash leaves the old file or the new one.
func WriteKeyFile(path, key string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".secret-key-*")
	if err != nil {
		return fmt.Errorf("store: unable to write the secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(key + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("store: unable to write the secret key: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// SecretKey returns the secret key the data file is sealed with: the owner
// sees it in Settings to keep a copy, and backups are encrypted with it.
func (s *Store) SecretKey() string { return s.secretKey }

// KeyID names the secret key (see SecretKeyID).
func (s *Store) KeyID() string { return SecretKeyID(s.secretKey) }

// KeyFile is the file the secret key was read from (or written to at first
// start); empty when the operator gave it as FOYER_SECRET_KEY.
func (s *Store) KeyFile() string { return s.keyFile }

// keyState is what unlock found in the data file.
type keyState struct {
	secrets    Secrets
	hasSecrets bool
	compactDue bool
}

// unlock finds the secret key and, with it, the data file's own keys. It
// writes nothing in the data file; it returns the secrets record to write
// when there is none yet (a new file) or when it is in an older form (keys
// in the clear, or derived from FOYER_SECRET_KEY by an older Foyer). A new
// key is written to keyFile only where a data file has none to need: a new
// file, or one whose keys sit in the clear. A file that needs a key this
// start does not have gets a *KeyError and nothing is changed.
func (s *Store) unlock(given, keyFile string) (write *Secrets, err error) {
	var st keyState
	if err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		st.compactDue = meta.Get(keyCompactDue) != nil
		raw := meta.Get(keySecrets)
		if raw == nil {
			return nil
		}
		st.hasSecrets = true
		if err := json.Unmarshal(raw, &st.secrets); err != nil {
			return fmt.Errorf("store: unable to read secrets: %w", err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	s.compactDue = st.compactDue

	key, from := ParseSecretKey(given), ""
	if key == "" {
		from = keyFile
		key, err = ReadKeyFile(keyFile)
		if errors.Is(err, os.ErrNotExist) {
			key = ""
		} else if err != nil {
			return nil, err
		}
	}
	// newKey makes the key a file without one needs.
	newKey := func() error {
		if key != "" {
			return nil
		}
		key = NewSecretKey()
		return WriteKeyFile(keyFile, key)
	}

	sec := st.secrets
	var keys dataKeys
	switch {
	case !st.hasSecrets:
		if err := newKey(); err != nil {
			return nil, err
		}
		keys = dataKeys{HMAC: randomBytes(32), Seal: randomBytes(32)}
	case sec.Wrapped != "":
		if key == "" {
			return nil, &KeyError{Need: sec.KeyID, File: keyFile}
		}
		if keys, err = unwrapDataKeys(key, sec.Wrapped); err != nil {
			return nil, &KeyError{Need: sec.KeyID, Have: SecretKeyID(key), File: from}
		}
	case sec.KeyCheck == "" || sec.KeyCheck == keyCheck(sec.SealKey):
		// Keys in the clear: sealed by the file's own key alone, or before sealing existed.
		if err := newKey(); err != nil {
			return nil, err
		}
		keys = dataKeys{HMAC: sec.HMACKey, Seal: sec.SealKey}
	default:
		// An older Foyer derived the seal key from FOYER_SECRET_KEY and the file's key.
		if key == "" {
			return nil, &KeyError{File: keyFile}
		}
		derived := deriveSealKey(sec.SealKey, key)
		if keyCheck(derived) != sec.KeyCheck {
			return nil, &KeyError{Have: SecretKeyID(key), File: from}
		}
		keys = dataKeys{HMAC: sec.HMACKey, Seal: derived}
	}
	s.hmacKey, s.sealKey, s.secretKey = keys.HMAC, keys.Seal, key
	s.journalHeadMarked = keys.JournalHead
	if given == "" {
		s.keyFile = keyFile
	}
	if st.hasSecrets && sec.Wrapped != "" {
		return nil, nil
	}
	// The keys wrapped from now on are written after the migrations, which
	// sign the journal's head (from schema 14 on, every file's is).
	keys.JournalHead = true
	wrapped, err := wrapDataKeys(key, keys)
	if err != nil {
		return nil, err
	}
	// plainSeeds: a file from before sealing existed may hold TOTP seeds in the clear.
	s.plainSeeds = st.hasSecrets && sec.KeyCheck == ""
	return &Secrets{Wrapped: wrapped, KeyID: SecretKeyID(key)}, nil
}

// markJournalHead rewraps the data file's keys with the mark that its
// journal's head is signed, in the transaction that signs it. A file whose
// keys are not wrapped yet gets the mark with them (see unlock).
func (s *Store) markJournalHead(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	var sec Secrets
	raw := meta.Get(keySecrets)
	if raw == nil {
		return nil
	}
	if err := json.Unmarshal(raw, &sec); err != nil {
		return fmt.Errorf("store: unable to read secrets: %w", err)
	}
	if sec.Wrapped == "" {
		return nil
	}
	wrapped, err := wrapDataKeys(s.secretKey, dataKeys{HMAC: s.hmacKey, Seal: s.sealKey, JournalHead: true})
	if err != nil {
		return err
	}
	sec.Wrapped = wrapped
	if raw, err = json.Marshal(sec); err != nil {
		return err
	}
	s.journalHeadMarked = true
	return meta.Put(keySecrets, raw)
}

// writeSecrets stores the wrapped keys and, when they replace an older form,
// seals what that form left in the clear and marks the file for compaction
// (see Compact), in the same transaction; a new file gets its journal's
// first head there, signed with the keys written with it.
func (s *Store) writeSecrets(tx *bolt.Tx, sec *Secrets, replaces bool) error {
	raw, err := json.Marshal(sec)
	if err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(keySecrets, raw); err != nil {
		return err
	}
	if err := s.firstJournalHead(tx); err != nil {
		return err
	}
	if s.plainSeeds {
		if err := resealStaff(tx, s.sealKey, s.sealKey); err != nil {
			return err
		}
	}
	if !replaces {
		return nil
	}
	s.compactDue = true
	return meta.Put(keyCompactDue, []byte{1})
}

// compactSuffix names the new file compact writes beside the data file.
const compactSuffix = ".compact"

// CheckFile checks a data file no Foyer has open, such as a backup about to
// be restored: every page read and bbolt's check of them (a *DamagedError
// otherwise), a schema this Foyer can open, and a secret key that opens it
// (a *KeyError otherwise). It changes nothing.
func CheckFile(path, secretKey string) error {
	if err := checkLength(path); err != nil {
		return err
	}
	return guarded(path, func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return openError(path, err)
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error { return checkTx(tx, path, secretKey) })
	})
}

// checkTx is CheckFile's work in its read transaction.
func checkTx(tx *bolt.Tx, path, secretKey string) error {
	// Every page read here first: bbolt's check walks them again in a
	// goroutine of its own, where a panic could not be caught (damage.go).
	if err := checkPages(tx); err != nil {
		return &DamagedError{Path: path, Problem: err.Error()}
	}
	var damaged error
	// Read to the end: the check goroutine holds the transaction until then.
	for err := range tx.Check() {
		if damaged == nil {
			damaged = &DamagedError{Path: path, Problem: err.Error()}
		}
	}
	if damaged != nil {
		return damaged
	}
	meta := tx.Bucket(bucketMeta)
	if meta == nil || meta.Get(keySchema) == nil || meta.Get(keySecrets) == nil {
		return fmt.Errorf("store: %s is not a Foyer data file", path)
	}
	if v := binary.BigEndian.Uint64(meta.Get(keySchema)); v > CurrentSchema {
		return fmt.Errorf("store: %s has schema %d, newer than this Foyer (%d)", path, v, CurrentSchema)
	}
	var sec Secrets
	if err := json.Unmarshal(meta.Get(keySecrets), &sec); err != nil {
		return fmt.Errorf("store: unable to read secrets: %w", err)
	}
	key := ParseSecretKey(secretKey)
	switch {
	case sec.Wrapped != "":
		if key == "" {
			return &KeyError{Need: sec.KeyID}
		}
		if _, err := unwrapDataKeys(key, sec.Wrapped); err != nil {
			return &KeyError{Need: sec.KeyID, Have: SecretKeyID(key)}
		}
	case sec.KeyCheck == "" || sec.KeyCheck == keyCheck(sec.SealKey):
		// Keys in the clear: any key will do, it gets wrapped at the first start.
	case key == "":
		return &KeyError{}
	case keyCheck(deriveSealKey(sec.SealKey, key)) != sec.KeyCheck:
		return &KeyError{Have: SecretKeyID(key)}
	}
	return nil
}
