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
var (
	limitSignInIP      = policy{every: 6 * time.Second, burst: 20}  // 10 a minute per address
	limitSignInAccount = policy{every: time.Minute, burst: 5}       // per email from one address (and per account for password checks)
	limitTwoFA         = policy{every: time.Minute, burst: 5}       // per account
	limitToken         = policy{every: 10 * time.Second, burst: 10} // invite links per address
	limitInvite        = policy{every: time.Minute, burst: 20}      // invitations sent per staff member
)

// allow takes one token from key's bucket under p and reports whether there was one.
func (l *limits) allow(key string, p policy) bool { return l.l.Allow(key, p.rate()) }

// allowBehind is allow for outer, then, only if outer had a token, for
// inner: a key a visitor varies at will (an email) is counted only behind
// their address's limit, so a flood of made-up emails cannot fill the table.
func (l *limits) allowBehind(outer string, op policy, inner string, ip policy) bool {
	return l.l.AllowBehind(outer, op.rate(), inner, ip.rate())
}

// peek reports whether allow would let key through now, without using a token.
func (l *limits) peek(key string, p policy) bool { return l.l.Peek(key, p.rate()) }

// failureDelay is how long an attempt for key waits before its answer.
func (l *limits) failureDelay(key string) time.Duration { return l.l.FailureDelay(key) }

// failed counts a failed attempt for key.
func (l *limits) failed(key string) { l.l.Failed(key) }

// succeeded forgets key's failures.
func (l *limits) succeeded(key string) { l.l.Succeeded(key) }

// limitAddr is the visitor's address as the limits count it: an IPv6
// address by its /64 (see ratelimit.Addr).
func limitAddr(c echo.Context) string { return ratelimit.Addr(c.RealIP()) }
