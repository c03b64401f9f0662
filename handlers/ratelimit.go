package handlers

import (
	"time"

	"github.com/labstack/echo/v4"

	"foyer/ratelimit"
)

// limits are the handlers' rate limits, kept by package ratelimit in a
// bounded table; the keys say what each limit protects ("signin-ip:…").
type limits struct{ l *ratelimit.Limiter }

func newLimits(now func() time.Time) *limits {
	return &limits{l: ratelimit.New(now, ratelimit.DefaultKeys)}
}

// A policy is a refill rate and a burst.
type policy struct {
	every time.Duration
	burst int
}

func (p policy) rate() ratelimit.Policy { return ratelimit.Policy{Every: p.every, Burst: p.burst} }

// The limits on guessable things. Bursts allow honest typos; refill is slow.
// The password and second-factor limits count wrong guesses only (see
// guess): signing in again and again with the right password is not guessing.
var (
	limitWrongPasswordsIP = policy{every: 6 * time.Second, burst: 20}  // wrong passwords and second-factor codes from one address, whatever the account: 10 a minute
	limitWrongPasswords   = policy{every: time.Minute, burst: 5}       // wrong passwords for one email from one address, and for one account wherever it is signed in
	limitWrongTwoFA       = policy{every: time.Minute, burst: 5}       // wrong second-factor codes per staff member
	limitToken            = policy{every: 10 * time.Second, burst: 10} // invite links per address
	limitInvite           = policy{every: time.Minute, burst: 20}      // invitations sent per staff member
)

// allow takes one token from key's bucket under p and reports whether there was one.
func (l *limits) allow(key string, p policy) bool { return l.l.Allow(key, p.rate()) }

// limited is one limit a guess counts against: its key and policy.
func limited(key string, p policy) ratelimit.Key { return ratelimit.Key{Name: key, Policy: p.rate()} }

// A guess is one try at a secret (a password, a second-factor code) that
// holds a token of each limit protecting the secret until its answer is
// known. A wrong guess keeps them spent; right gives them back. So only
// wrong guesses count, and a right one gives back what it took and no more:
// whoever knows one account's password cannot sign in to it to earn
// guesses at another's from the same address.
type guess struct {
	l    *limits
	keys []ratelimit.Key
}

// guess takes a token from each of keys (widest first, the key a visitor
// varies at will last) and reports false, taking none, when one has none
// left: a refused attempt checks nothing, so it costs nothing.
func (l *limits) guess(keys ...ratelimit.Key) (guess, bool) {
	return guess{l, keys}, l.l.AllowAll(keys...)
}

// right gives back the tokens of a guess that proved right.
func (g guess) right() { g.l.l.Refund(g.keys...) }

// failureDelay is how long an attempt for key waits before its answer.
func (l *limits) failureDelay(key string) time.Duration { return l.l.FailureDelay(key) }

// failed counts a failed attempt for key.
func (l *limits) failed(key string) { l.l.Failed(key) }

// limitAddr is the visitor's address as the limits count it: an IPv6
// address by its /64 (see ratelimit.Addr).
func limitAddr(c echo.Context) string { return ratelimit.Addr(c.RealIP()) }
