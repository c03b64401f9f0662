package auth

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPPeriod is the length of one TOTP step.
const TOTPPeriod = 30

// NewTOTPKey generates a TOTP secret for account under issuer.
func NewTOTPKey(issuer, account string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// TOTPKeyURL rebuilds the otpauth:// key for a stored secret, for the QR code.
// A secret that does not decode is an error: with no secret, the generator
// would make a random one, and the QR code would enrol an app that never matches.
func TOTPKeyURL(issuer, account, secret string) (*otp.Key, error) {
	raw, err := decodeSecret(secret)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("auth: the TOTP secret does not decode: %w", errors.Join(ErrBadSecret, err))
	}
	return totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: raw})
}

// ErrBadSecret is returned for a TOTP secret that is not base32.
var ErrBadSecret = errors.New("auth: malformed TOTP secret")

// MatchTOTP checks code against the steps around now (one step of clock skew
// either way) and returns the step it matched, so the caller can refuse replays.
// pquerna/otp's Validate does not say which step matched, hence this loop.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / TOTPPeriod
	for _, s := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*TOTPPeriod, 0), totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

func decodeSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.TrimRight(secret, "="))
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
}
