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
	limitSignInAccount = policy{every: time.Minute, burst: 5}       // per email, whoever tries it
	limitTwoFA         = policy{every: time.Minute, burst: 5}       // per account
	limitToken         = policy{every: 10 * time.Second, burst: 10} // invite links per address
	limitInvite        = policy{every: time.Minute, burst: 20}      // invitations sent per staff member
)

func newLimits(now func() time.Time) *limits {
	return &limits{buckets: map[string]*bucket{}, now: now}
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
