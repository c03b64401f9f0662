// Package auth holds Foyer's credentials logic: argon2id password hashes,
// the password policy, random tokens and TOTP checks. It knows nothing of HTTP.
package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's first recommendation (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length bounds, in characters (ASVS 5.0 §6.2: at least 8, at least 64 allowed).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// hashSlots caps concurrent hashing so a burst of sign-ins cannot exhaust memory.
var hashSlots = make(chan struct{}, max(1, runtime.NumCPU()))

// HashingMemory is the most memory password hashing holds at once, in
// bytes: a derivation at a time per slot, each of argonMemory KiB.
func HashingMemory() int64 { return int64(cap(hashSlots)) * argonMemory * 1024 }

// ErrMalformedHash is returned for a stored hash that is not an argon2id PHC string.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// HashPassword returns the argon2id PHC string for password.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := derive(password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// derivations counts argon2 runs, so tests can check that every sign-in path
// spends the same work whatever the account's state.
var derivations atomic.Int64

// Derivations is how many argon2 derivations ran since the process started.
func Derivations() int64 { return derivations.Load() }

func derive(password string, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	derivations.Add(1)
	hashSlots <- struct{}{}
	hashing.Add(1)
	defer func() {
		<-hashSlots
		if hashing.Add(-1) == 0 {
			releaseSoon()
		}
	}()
	return argon2.IDKey([]byte(password), salt, t, m, p, n)
}

// Each derivation takes argonMemory KiB from the heap. Once freed, Go keeps
// such memory for reuse, so a burst of sign-ins would leave the idle server
// tens of MB larger; handing it back once hashing has paused keeps an idle
// Foyer small.
var (
	hashing      atomic.Int32 // derivations running now
	releaseMu    sync.Mutex
	releaseTimer *time.Timer
)

// releaseAfter is how long hashing must pause before memory is handed back:
// long enough that a burst pays for it once.
const releaseAfter = 500 * time.Millisecond

func releaseSoon() {
	releaseMu.Lock()
	defer releaseMu.Unlock()
	if releaseTimer == nil {
		releaseTimer = time.AfterFunc(releaseAfter, func() {
			if hashing.Load() == 0 {
				debug.FreeOSMemory()
			}
		})
		return
	}
	releaseTimer.Reset(releaseAfter)
}

// params is a parsed PHC string.
type params struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseHash parses "$argon2id$v=19$m=..,t=..,p=..$salt$key".
func parseHash(phc string) (params, error) {
	var p params
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, ErrMalformedHash
	}
	var m, t uint32
	var th uint8
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 {
		return p, ErrMalformedHash
	}
	// Bounds keep a tampered hash from making us allocate gigabytes.
	if m < 8 || m > 1<<20 || t < 1 || t > 20 || th < 1 || th > 16 {
		return p, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, ErrMalformedHash
	}
	return params{memory: m, time: t, threads: th, salt: salt, key: key}, nil
}

// CheckPassword reports whether password matches the PHC string, in constant time.
func CheckPassword(phc, password string) bool {
	p, err := parseHash(phc)
	if err != nil {
		return false
	}
	key := derive(password, p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

// dummyHash is checked against when an account does not exist, so a sign-in
// takes as long for an unknown email as for a wrong password. It has the
// parameters of a real hash but matches no password; written out rather than
// derived, so that starting Foyer runs no argon2.
var dummyHash = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
	base64.RawStdEncoding.EncodeToString([]byte("foyer-timing-eq.")), base64.RawStdEncoding.EncodeToString(make([]byte, argonKeyLen)))

// VerifyPassword is CheckPassword that always does the work of one check:
// against the dummy hash when phc is empty or malformed (an invited account,
// an unknown email), so the time taken tells nothing about the account.
func VerifyPassword(phc, password string) bool {
	if _, err := parseHash(phc); err != nil {
		SpendHashTime(password)
		return false
	}
	return CheckPassword(phc, password)
}

// SpendHashTime does the work of one password check against nothing.
func SpendHashTime(password string) { CheckPassword(dummyHash, password) }

// PasswordProblem is why a password is refused; empty when it is acceptable.
type PasswordProblem string

// The reasons a password can be refused.
const (
	PasswordOK       PasswordProblem = ""
	PasswordTooShort PasswordProblem = "too_short"
	PasswordTooLong  PasswordProblem = "too_long"
	PasswordCommon   PasswordProblem = "common"
	PasswordInvalid  PasswordProblem = "invalid"
)

//go:embed common-passwords.txt
var commonList string

// common is read on first use: most starts never check a new password.
var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(strings.NewReader(commonList))
	for sc.Scan() {
		m[sc.Text()] = struct{}{}
	}
	return m
})

// CheckPolicy applies the password policy: 8 to 128 characters of any Unicode,
// no composition rules, and none of the 10,000 most common passwords.
func CheckPolicy(password string) PasswordProblem {
	if !utf8.ValidString(password) {
		return PasswordInvalid
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return PasswordTooShort
	case n > MaxPasswordLen:
		return PasswordTooLong
	}
	if _, ok := common()[strings.ToLower(password)]; ok {
		return PasswordCommon
	}
	return PasswordOK
}
