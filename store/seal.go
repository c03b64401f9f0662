package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Secrets Foyer must read back, such as the TOTP seeds of staff, are kept
// sealed: AES-256-GCM under the data file's seal key, which the file holds
// only wrapped under the secret key kept apart from it (see secretkey.go).
// A stolen data file alone gives no seed away.

// sealPrefix marks a sealed value and its format version.
const sealPrefix = "s1:"

// Option configures Open.
type Option func(*options)

type options struct {
	secretKey    string
	checkMessage func(*Message) error
	now          func() time.Time
}

// WithClock sets the clock the store reads for what it decides by time
// itself: how often a full disk's free space is measured again (DiskFull).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSecretKey gives the secret key (FOYER_SECRET_KEY) instead of reading
// it from secret.key beside the data file; empty means read the file.
func WithSecretKey(secret string) Option { return func(o *options) { o.secretKey = secret } }

// WithMessageCheck has every message checked by check before it enters the
// outbox, whichever way it comes (Enqueue, or with the record it belongs to):
// a message check refuses is not queued, and the change it came with fails.
// check may complete the message (its expiry).
func WithMessageCheck(check func(*Message) error) Option {
	return func(o *options) { o.checkMessage = check }
}

// deriveSealKey is how an older Foyer mixed FOYER_SECRET_KEY into the file's
// seal key; Open still reads files sealed that way.
func deriveSealKey(storeKey []byte, secret string) []byte {
	if secret == "" {
		return storeKey
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("foyer seal key v1\x00"))
	m.Write(storeKey)
	return m.Sum(nil)
}

// keyCheck identifies a seal key without revealing it.
func keyCheck(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("foyer key check"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func seal(key []byte, plain string) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, []byte(plain), nil)
	return sealPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

func unseal(key []byte, sealed string) (string, error) {
	if !strings.HasPrefix(sealed, sealPrefix) {
		return "", errors.New("store: value is not sealed")
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(sealPrefix):])
	if err != nil {
		return "", fmt.Errorf("store: sealed value: %w", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize() {
		return "", errors.New("store: sealed value is too short")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("store: unable to unseal: %w", err)
	}
	return string(plain), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts a secret for keeping in the store. The empty string stays empty.
func (s *Store) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	return seal(s.sealKey, plain)
}

// Unseal decrypts what Seal returned. The empty string stays empty.
func (s *Store) Unseal(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	return unseal(s.sealKey, sealed)
}

// resealStaff seals every staff TOTP seed under key: plain ones (written
// before sealing) as they are, sealed ones after opening them with old.
// Open uses it once, on a file from before sealing existed.
func resealStaff(tx *bolt.Tx, old, key []byte) error {
	b := tx.Bucket(bucketStaff)
	type change struct {
		k []byte
		v []byte
	}
	var changes []change
	err := b.ForEach(func(k, v []byte) error {
		var st Staff
		if err := unmarshal(v, &st); err != nil {
			return err
		}
		if st.TOTPSecret == "" {
			return nil
		}
		plain := st.TOTPSecret
		if strings.HasPrefix(plain, sealPrefix) {
			var err error
			if plain, err = unseal(old, plain); err != nil {
				return err
			}
		}
		sealed, err := seal(key, plain)
		if err != nil {
			return err
		}
		st.TOTPSecret = sealed
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		changes = append(changes, change{append([]byte(nil), k...), raw})
		return nil
	})
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		staffChanged(tx)
	}
	for _, c := range changes {
		if err := b.Put(c.k, c.v); err != nil {
			return err
		}
	}
	return nil
}
