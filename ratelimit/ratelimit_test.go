package ratelimit

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// clock is a test clock moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }

var every6s = Policy{Every: 6 * time.Second, Burst: 3}

func TestAllowSpendsTheBurstThenRefills(t *testing.T) {
	c := newClock()
	l := New(c.now, 10)
	for i := range 3 {
		if !l.Allow("k", every6s) {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if l.Allow("k", every6s) {
		t.Fatal("the burst is spent, yet allowed")
	}
	if !l.Allow("other", every6s) {
		t.Fatal("another key shares the first one's bucket")
	}
	c.advance(5 * time.Second)
	if l.Peek("k", every6s) || l.Allow("k", every6s) {
		t.Fatal("allowed before a token came back")
	}
	c.advance(6 * time.Second)
	if !l.Peek("k", every6s) {
		t.Fatal("Peek says no once a token came back")
	}
	if !l.Allow("k", every6s) || l.Allow("k", every6s) {
		t.Fatal("one token came back: one attempt, not zero or two")
	}
	// A clock set back refills nothing.
	c.advance(-time.Hour)
	if l.Allow("k", every6s) {
		t.Fatal("a clock set back refilled the bucket")
	}
}

func TestPeekUsesNoToken(t *testing.T) {
	l := New(newClock().now, 10)
	for range 10 {
		if !l.Peek("k", every6s) {
			t.Fatal("Peek refused an unused key")
		}
	}
	if b, _ := l.Len(); b != 0 {
		t.Fatalf("Peek made %d buckets", b)
	}
	for range 3 {
		l.Allow("k", every6s)
	}
	if l.Peek("k", every6s) {
		t.Fatal("Peek allows a spent key")
	}
}

func TestTheLeastRecentlyUsedKeyGoesFirst(t *testing.T) {
	c := newClock()
	l := New(c.now, 3)
	spend := func(k string) {
		for l.Allow(k, every6s) {
		}
	}
	spend("a")
	spend("b")
	spend("c")
	c.advance(time.Second)
	l.Allow("a", every6s) // a is used again: b is now the oldest
	spend("d")            // one key too many: b goes
	if b, _ := l.Len(); b != 3 {
		t.Fatalf("%d keys held, want 3", b)
	}
	if l.Peek("a", every6s) || l.Peek("c", every6s) || l.Peek("d", every6s) {
		t.Fatal("a key still held lost its count")
	}
	if !l.Peek("b", every6s) {
		t.Fatal("b, the least recently used, is still counted")
	}
}

func TestIdleKeysAreForgotten(t *testing.T) {
	c := newClock()
	l := New(c.now, 100)
	for i := range 10 {
		l.Allow("old-"+strconv.Itoa(i), every6s)
		l.Failed("old-fail-" + strconv.Itoa(i))
	}
	c.advance(idle + time.Minute)
	// Each use drops a few idle keys from the old end.
	for i := range 10 {
		l.Allow("new-"+strconv.Itoa(i), every6s)
	}
	if b, f := l.Len(); b != 10 || f != 0 {
		t.Fatalf("held %d buckets and %d failure counts, want 10 and 0", b, f)
	}
}

func TestAllowAllCountsTheInnerKeyOnlyPastTheOuter(t *testing.T) {
	c := newClock()
	l := New(c.now, 1000)
	perAddr := Policy{Every: 6 * time.Second, Burst: 20}
	perEmail := Policy{Every: time.Minute, Burst: 5}
	allowed := 0
	for i := range 500 {
		if l.AllowAll(Key{"signin-ip:192.0.2.1", perAddr}, Key{fmt.Sprintf("signin-acct:%d@example.org", i), perEmail}) {
			allowed++
		}
	}
	if allowed != 20 {
		t.Fatalf("%d of 500 random emails from one address allowed, want the address's burst, 20", allowed)
	}
	if b, _ := l.Len(); b != 21 {
		t.Fatalf("%d keys held after 500 random emails from one address, want 21 (the address and the 20 emails it was allowed)", b)
	}
	// The inner limit still counts: one email, tried again and again.
	c.advance(time.Hour)
	n := 0
	for range 10 {
		if l.AllowAll(Key{"signin-ip:192.0.2.2", perAddr}, Key{"signin-acct:x@example.org", perEmail}) {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("one email allowed %d times, want its burst, 5", n)
	}
	// Refused by the email, the attempt took nothing from the address:
	// 15 tokens are left there, not 10.
	for i := range 16 {
		if ok := l.AllowAll(Key{"signin-ip:192.0.2.2", perAddr}, Key{fmt.Sprintf("other-%d@example.org", i), perEmail}); ok != (i < 15) {
			t.Fatalf("other email %d from the address: allowed %v", i+1, ok)
		}
	}
}

// A refund gives back what the attempt took and never more: a right
// password, whatever the number of them, leaves the wrong ones counted.
func TestRefundGivesBackOnlyWhatWasTaken(t *testing.T) {
	c := newClock()
	l := New(c.now, 100)
	addr := Key{"ip", Policy{Every: time.Minute, Burst: 3}}
	// Three wrong guesses spend the burst; a hundred right ones in between change nothing.
	for i := range 3 {
		for range 100 {
			if !l.AllowAll(addr) {
				t.Fatalf("a right password was refused after %d wrong ones", i)
			}
			l.Refund(addr)
		}
		if !l.AllowAll(addr) {
			t.Fatalf("wrong guess %d refused", i+1)
		}
	}
	if l.AllowAll(addr) {
		t.Fatal("a fourth attempt passed: right passwords gave back more than they took")
	}
	// A refund for a bucket already full adds nothing beyond its burst.
	full := Key{"full", Policy{Every: time.Minute, Burst: 2}}
	l.Refund(full)
	l.AllowAll(full)
	l.Refund(full)
	l.Refund(full)
	n := 0
	for l.AllowAll(full) {
		n++
	}
	if n != 2 {
		t.Fatalf("%d attempts after extra refunds, want the burst, 2", n)
	}
}

func TestFailuresSlowDownThenAreForgotten(t *testing.T) {
	c := newClock()
	l := New(c.now, 10)
	for range failuresFree {
		if d := l.FailureDelay("k"); d != 0 {
			t.Fatalf("delay %v before %d failures", d, failuresFree)
		}
		l.Failed("k")
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for _, w := range want {
		if d := l.FailureDelay("k"); d != w {
			t.Fatalf("delay %v, want %v", d, w)
		}
		l.Failed("k")
	}
	c.advance(failureMemory + time.Second)
	if d := l.FailureDelay("k"); d != 0 {
		t.Fatalf("failures older than %v still delay by %v", failureMemory, d)
	}
	for range failuresFree + 1 {
		l.Failed("k")
	}
	if l.FailureDelay("k") == 0 {
		t.Fatal("fresh failures do not delay")
	}
}

func TestAddrCountsAnIPv6NetworkByItsSlash64(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.10", "192.0.2.10"},
		{"::ffff:192.0.2.10", "192.0.2.10"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"not an address", "not an address"},
		{"", ""},
	} {
		if got := Addr(tc.in); got != tc.want {
			t.Errorf("Addr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkMillionKeys fills a Limiter with a million distinct keys and
// reports the heap it holds per key and in all.
func BenchmarkMillionKeys(b *testing.B) {
	const n = 1_000_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "signin-acct:someone" + strconv.Itoa(i) + "@example.org|192.0.2.1"
	}
	c := newClock()
	p := Policy{Every: time.Minute, Burst: 5}
	var perKey float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := New(c.now, n)
		for _, k := range keys {
			l.Allow(k, p)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got, _ := l.Len(); got != n {
			b.Fatalf("%d keys held, want %d", got, n)
		}
		perKey = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(l)
	}
	b.ReportMetric(perKey, "B/key")
	b.ReportMetric(perKey*n/(1<<20), "MiB/1M-keys")
}
