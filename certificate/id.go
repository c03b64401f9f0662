package certificate

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// A certificate ID is 128 random bits, printed on the certificate in
// Crockford's base 32 (no I, L, O or U, so it reads aloud and types back
// without confusion) in five groups: 7ZK4P-3M9QX-TV2HA-0B8CN-6RWD4M. Whoever
// holds it may ask /verify for that certificate's facts, which the
// certificate itself states: it is a bearer of nothing more, and is
// unguessable. The store keeps only its keyed hash.

var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// idBytes is the length of an ID's randomness: 128 bits.
const idBytes = 16

// idLen is the length of an ID's canonical form (no hyphens).
const idLen = 26

// NewID returns a new certificate ID, canonical (no hyphens).
func NewID() string {
	b := make([]byte, idBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return crockford.EncodeToString(b)
}

// FormatID writes a canonical ID in its printed groups.
func FormatID(id string) string {
	var sb strings.Builder
	for i := 0; i < len(id); i += 5 {
		if i > 0 {
			sb.WriteByte('-')
		}
		end := min(i+5, len(id))
		if len(id)-end < 5 {
			end = len(id) // the last group takes the rest
		}
		sb.WriteString(id[i:end])
		if end == len(id) {
			break
		}
	}
	return sb.String()
}

// ParseID reads an ID as someone typed it (any case, with or without
// hyphens and spaces, O for 0, I or L for 1) and returns its canonical form;
// ok is false when it is not one.
func ParseID(s string) (string, bool) {
	id := normalizeID(s)
	if len(id) != idLen {
		return "", false
	}
	b, err := crockford.DecodeString(id)
	if err != nil || len(b) != idBytes || crockford.EncodeToString(b) != id {
		return "", false
	}
	return id, true
}

// IDShaped reports whether s, which ParseID refused, has an ID's length in
// its letters and digits: then one of them was mistyped (the last carries
// only 3 bits, so most letters there are no ID's), and the person is told
// to check each one, not that it is no certificate ID at all.
func IDShaped(s string) bool { return len(normalizeID(s)) == idLen }

// normalizeID is s as ParseID reads it: upper case, without separators,
// O read as 0 and I or L as 1.
func normalizeID(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case '-', ' ', '\u00a0', '\u202f', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
