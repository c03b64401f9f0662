package handlers

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limits holds token buckets per key ("signin-ip:1.2.3.4", "signin-acct:a@b.c").
// They live in memory: a restart forgets them, which costs an attacker a restart they cannot cause.
type limits struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	fails   map[string]*failures
	now     func() time.Time
	lastGC  time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// A policy is a refill rate and a burst.
type policy struct {
	every time.Duration
	burst int
}

// The limits on guessable things. Bursts allow honest typos; refill is slow.
var (
	limitSignInIP      = policy{every: 6 * time.Second, burst: 20}  // 10 a minute per address
	limitSignInAccount = policy{every: time.Minute, burst: 5}       // per email from one address (and per account for password checks)
	limitTwoFA         = policy{every: time.Minute, burst: 5}       // per account
	limitToken         = policy{every: 10 * time.Second, burst: 10} // invite links per address
	limitInvite        = policy{every: time.Minute, burst: 20}      // invitations sent per staff member
)

func newLimits(now func() time.Time) *limits {
	return &limits{buckets: map[string]*bucket{}, fails: map[string]*failures{}, now: now}
}

// allow takes one token from key's bucket under p and reports whether there was one.
func (l *limits) allow(key string, p policy) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastGC) > 10*time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > time.Hour {
				delete(l.buckets, k)
			}
		}
		for k, f := range l.fails {
			if now.Sub(f.last) > failureMemory {
				delete(l.fails, k)
			}
		}
		l.lastGC = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(p.every), p.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// Failed sign-ins per email, from any address, slow the next attempts down
// instead of refusing them: a refusal per email would let anyone lock a
// user out with one try a minute; a delay only costs the guesser time.
const (
	failuresFree  = 5                // failures before any delay
	failureMemory = 15 * time.Minute // failures older than this are forgotten
	maxFailDelay  = 8 * time.Second
)

type failures struct {
	n    int
	last time.Time
}

// failureDelay is how long an attempt for key waits before its answer.
func (l *limits) failureDelay(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.fails[key]
	if !ok || l.now().Sub(f.last) > failureMemory || f.n < failuresFree {
		return 0
	}
	return min(time.Second<<min(f.n-failuresFree, 4), maxFailDelay)
}

// failed counts a failed attempt for key.
func (l *limits) failed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f, ok := l.fails[key]
	if !ok || now.Sub(f.last) > failureMemory {
		f = &failures{}
		l.fails[key] = f
	}
	f.n++
	f.last = now
}

// succeeded forgets key's failures.
func (l *limits) succeeded(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
