package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestPasswordHash(t *testing.T) {
	h := HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not an OWASP argon2id PHC string", h)
	}
	if !CheckPassword(h, "correct horse battery staple") {
		t.Fatal("right password refused")
	}
	if CheckPassword(h, "correct horse battery stapl") {
		t.Fatal("wrong password accepted")
	}
	if h == HashPassword("correct horse battery staple") {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		if CheckPassword(bad, "x") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestPolicy(t *testing.T) {
	cases := map[string]PasswordProblem{
		"short":                  PasswordTooShort,
		"1234567":                PasswordTooShort,
		"password":               PasswordCommon,
		"Password1":              PasswordCommon,
		"qwertyuiop":             PasswordCommon,
		"le chat de la voisine":  PasswordOK,
		"пароль-для-фойе":        PasswordOK,
		"🏠🏠🏠🏠🏠🏠🏠🏠":               PasswordOK, // 8 characters, 32 bytes
		"🏠🏠🏠🏠🏠🏠🏠":                PasswordTooShort,
		strings.Repeat("a", 64):  PasswordOK,
		strings.Repeat("ab", 64): PasswordOK,
		strings.Repeat("a", 129): PasswordTooLong,
		"abc\xffdefgh":           PasswordInvalid,
	}
	for pw, want := range cases {
		if got := CheckPolicy(pw); got != want {
			t.Errorf("CheckPolicy(%q) = %q, want %q", pw, got, want)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	key := []byte("test key")
	hash := func(s string) []byte { m := hmac.New(sha256.New, key); m.Write([]byte(s)); return m.Sum(nil) }
	codes, hashes := NewRecoveryCodes(10, hash)
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Fatalf("bad or repeated code %q", c)
		}
		seen[c] = true
		if !Equal(hash(RecoveryCodeInput(strings.ToUpper(" "+c+" "))), hashes[i]) {
			t.Fatalf("code %q does not match its hash when typed loosely", c)
		}
	}
}

func TestMatchTOTP(t *testing.T) {
	key, err := NewTOTPKey("Cabinet", "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 10, 0, time.UTC)
	for _, skew := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		code, _ := totp.GenerateCode(key.Secret(), now.Add(skew))
		step, ok := MatchTOTP(key.Secret(), code, now)
		if !ok || step != now.Add(skew).Unix()/30 {
			t.Errorf("skew %v: ok=%v step=%d", skew, ok, step)
		}
	}
	old, _ := totp.GenerateCode(key.Secret(), now.Add(-2*time.Minute))
	if _, ok := MatchTOTP(key.Secret(), old, now); ok {
		t.Error("a code two minutes old was accepted")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := MatchTOTP(key.Secret(), bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if a, b := NewToken(), NewToken(); a == b || len(a) != 43 {
		t.Error("tokens are not 256 random bits")
	}
}

// FuzzCheckPassword feeds arbitrary stored hashes to the PHC parser.
func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$", "")
	f.Fuzz(func(t *testing.T, phc, pw string) {
		CheckPassword(phc, pw)
	})
}

// TestTOTPKeyURLRefusesBadSecret: a secret that does not decode is an error,
// not a QR code for a random secret the app would then never match.
func TestTOTPKeyURLRefusesBadSecret(t *testing.T) {
	for _, bad := range []string{"", "not base32!", "1111"} {
		if k, err := TOTPKeyURL("Practice", "a@example.org", bad); err == nil || !errors.Is(err, ErrBadSecret) {
			t.Errorf("secret %q: key %v, err %v", bad, k, err)
		}
	}
	key, _ := NewTOTPKey("Practice", "a@example.org")
	k, err := TOTPKeyURL("Practice", "a@example.org", key.Secret())
	if err != nil || k.Secret() != key.Secret() {
		t.Fatalf("good secret: %v %v", k, err)
	}
}

// TestDummyHashCostsARealCheck: the hash an unknown email is checked against
// is written out, not derived at start, yet costs exactly what a real one does.
func TestDummyHashCostsARealCheck(t *testing.T) {
	p, err := parseHash(dummyHash)
	if err != nil {
		t.Fatal(err)
	}
	real, err := parseHash(HashPassword("a real password"))
	if err != nil {
		t.Fatal(err)
	}
	if p.memory != real.memory || p.time != real.time || p.threads != real.threads || len(p.key) != len(real.key) || len(p.salt) != len(real.salt) {
		t.Fatalf("dummy %+v, real %+v", p, real)
	}
	before := Derivations()
	SpendHashTime("foyer-timing-equaliser")
	if Derivations() != before+1 {
		t.Error("SpendHashTime ran no derivation")
	}
}
