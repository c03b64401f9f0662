// Package ratelimit keeps Foyer's limits on guessable things: token buckets
// that refuse, and failure counts that slow answers down, per key
// ("signin-ip:192.0.2.1", "portal-acct:a@b.example|192.0.2.1"). It knows
// nothing of HTTP; handlers build the keys, with Addr for the address part.
//
// A limit on guesses (passwords, codes) counts wrong guesses only: the
// attempt takes its tokens before the check (AllowAll, so that attempts made
// at once cannot all pass before the first failure is counted) and a right
// one gives them back (Refund).
//
// The limits live in memory: a restart forgets them, which costs an attacker
// a restart they cannot cause. Memory is bounded: each table keeps at most a
// fixed number of keys, and the least recently used goes first when a new one
// comes. Evicting a key forgets its count, so a flood of new keys could wash
// out someone else's; every key that grows with what a visitor types (an
// email) sits behind a per-address limit (AllowAll), so that flood needs
// thousands of addresses (or /64 networks, see Addr).
package ratelimit

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Policy is a refill rate and a burst: Burst tokens at most, one more every Every.
type Policy struct {
	Every time.Duration
	Burst int
}

// DefaultKeys is how many keys each table of a Limiter keeps by default. A
// key costs about 120 bytes (BenchmarkMillionKeys: 112 MiB for a million),
// so both tables full hold under 60 MiB; a practice's visitors use a few
// thousand keys, and washing out a key takes new keys from hundreds of
// addresses, each spending its per-address burst.
const DefaultKeys = 250_000

// idle is how long a key is kept without use even when there is room: a
// bucket untouched for this long is as good as full again for every policy
// that matters (sign-in, codes, links), and forgetting it frees its memory.
const idle = time.Hour

// Failed attempts per key (an email, from any address) slow the next
// attempts down instead of refusing them: a refusal per email would let
// anyone lock a user out with one try a minute; a delay only costs the
// guesser time.
const (
	failuresFree  = 5                // failures before any delay
	failureMemory = 15 * time.Minute // failures older than this are forgotten
	maxFailDelay  = 8 * time.Second
)

// Limiter holds the token buckets and the failure counts. Keys are kept as
// 64-bit hashes with a seed of the process's own: a table of a million keys
// does not hold a million emails, and nobody can choose two keys that share
// a bucket.
type Limiter struct {
	mu      sync.Mutex
	now     func() time.Time
	seed    maphash.Seed
	buckets *simplelru.LRU[uint64, bucket]
	fails   *simplelru.LRU[uint64, failures]
}

// bucket is a token bucket: tokens left at the time at (Unix nanoseconds).
type bucket struct {
	tokens float64
	at     int64
}

type failures struct {
	n    int64
	last int64 // Unix nanoseconds
}

// New makes a Limiter on the clock now, keeping at most keys keys per table
// (DefaultKeys when keys <= 0).
func New(now func() time.Time, keys int) *Limiter {
	if keys <= 0 {
		keys = DefaultKeys
	}
	// NewLRU fails only for a size <= 0.
	b, _ := simplelru.NewLRU[uint64, bucket](keys, nil)
	f, _ := simplelru.NewLRU[uint64, failures](keys, nil)
	return &Limiter{now: now, seed: maphash.MakeSeed(), buckets: b, fails: f}
}

func (l *Limiter) hash(key string) uint64 { return maphash.String(l.seed, key) }

// Allow takes one token from key's bucket under p and reports whether there was one.
func (l *Limiter) Allow(key string, p Policy) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.allow(l.hash(key), p, l.now().UnixNano())
}

// Key is one limit an attempt counts against: the key of its bucket and the policy it refills by.
type Key struct {
	Name   string
	Policy Policy
}

// AllowAll takes one token from every key's bucket when each has one, and
// reports whether it did; when one has none it takes nothing and keeps no
// new key. keys run from the widest to the one a visitor varies at will (an
// email): behind a spent address, a flood of new emails adds no key.
func (l *Limiter) AllowAll(keys ...Key) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixNano()
	l.dropIdle(now)
	for _, k := range keys {
		b, ok := l.buckets.Peek(l.hash(k.Name))
		if ok && refill(b, k.Policy, now) < 1 {
			return false
		}
	}
	for _, k := range keys {
		l.allow(l.hash(k.Name), k.Policy, now)
	}
	return true
}

// Refund gives back to each key the token an AllowAll of the same keys took,
// for an attempt that proved not to be what the limit counts (the right
// password, where only wrong ones are limited). A bucket never goes above
// its burst, so a refund returns what was taken and nothing more: an
// attempt that succeeds leaves the limits as they were, neither spent nor
// refilled for anyone else's attempts.
func (l *Limiter) Refund(keys ...Key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixNano()
	for _, k := range keys {
		h := l.hash(k.Name)
		b, ok := l.buckets.Peek(h)
		if !ok {
			// Forgotten meanwhile: as good as full.
			continue
		}
		b.tokens = min(float64(k.Policy.Burst), refill(b, k.Policy, now)+1)
		b.at = max(b.at, now)
		l.buckets.Add(h, b)
	}
}

func (l *Limiter) allow(h uint64, p Policy, now int64) bool {
	l.dropIdle(now)
	b, ok := l.buckets.Get(h)
	if ok {
		b.tokens = refill(b, p, now)
	} else {
		b.tokens = float64(p.Burst)
	}
	b.at = now
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	l.buckets.Add(h, b)
	return allowed
}

// refill is how many tokens b holds at now under p.
func refill(b bucket, p Policy, now int64) float64 {
	if now <= b.at || p.Every <= 0 {
		// A clock set back refills nothing.
		return b.tokens
	}
	return min(float64(p.Burst), b.tokens+float64(now-b.at)/float64(p.Every))
}

// Peek reports whether Allow would let key through now, without using a token.
func (l *Limiter) Peek(key string, p Policy) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets.Peek(l.hash(key))
	return !ok || refill(b, p, l.now().UnixNano()) >= 1
}

// dropIdle forgets the least recently used keys of either table while they
// have been idle too long; a few at a time, so no call pays for a sweep.
func (l *Limiter) dropIdle(now int64) {
	for range 2 {
		if _, b, ok := l.buckets.GetOldest(); ok && now-b.at > int64(idle) {
			l.buckets.RemoveOldest()
		}
		if _, f, ok := l.fails.GetOldest(); ok && now-f.last > int64(failureMemory) {
			l.fails.RemoveOldest()
		}
	}
}

// FailureDelay is how long an attempt for key waits before its answer.
func (l *Limiter) FailureDelay(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.fails.Peek(l.hash(key))
	if !ok || l.now().UnixNano()-f.last > int64(failureMemory) || f.n < failuresFree {
		return 0
	}
	return min(time.Second<<min(f.n-failuresFree, 4), maxFailDelay)
}

// Failed counts a failed attempt for key.
func (l *Limiter) Failed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixNano()
	l.dropIdle(now)
	h := l.hash(key)
	f, ok := l.fails.Get(h)
	if !ok || now-f.last > int64(failureMemory) {
		f = failures{}
	}
	f.n++
	f.last = now
	l.fails.Add(h, f)
}

// Len is how many keys the tables hold, buckets and failure counts.
func (l *Limiter) Len() (buckets, failures int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buckets.Len(), l.fails.Len()
}

// Addr is the part of a client address a limit counts: an IPv4 address
// whole, an IPv6 address by its /64. One subscriber, home or server usually
// holds a whole /64 and can pick any address in it at will; counting each
// of its 2^64 addresses apart would make a per-address limit no limit. A
// string that is not an address comes back as it is.
func Addr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
