package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// NewToken returns a URL-safe random token of 256 bits.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewRecoveryCodes returns n single-use recovery codes (50 random bits each,
// shown as xxxxx-xxxxx) and their hashes for storage, made by hash (a keyed
// hash: see RecoveryCodeInput).
func NewRecoveryCodes(n int, hash func(string) []byte) (codes []string, hashes [][]byte) {
	for range n {
		b := make([]byte, 7)
		_, _ = rand.Read(b)
		s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
		codes = append(codes, s[:5]+"-"+s[5:])
		hashes = append(hashes, hash(RecoveryCodeInput(s)))
	}
	return codes, hashes
}

// RecoveryCodeInput is what is hashed for a recovery code as typed (case,
// spaces and dashes ignored). The caller hashes it with a key of its own, so
// a copy of the stored hashes cannot be checked against all 2^50 codes offline.
func RecoveryCodeInput(code string) string {
	return "foyer-recovery:" + strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

// LegacyRecoveryHash is the unkeyed SHA-256 under which recovery codes were
// stored before they were keyed; codes made then are still accepted.
func LegacyRecoveryHash(code string) []byte {
	h := sha256.Sum256([]byte(RecoveryCodeInput(code)))
	return h[:]
}

// Equal compares two byte strings in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
