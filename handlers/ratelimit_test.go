package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// One IPv6 subscriber holds a whole /64: hopping between its addresses must
// not reset a per-address limit, and another network keeps its own. (The
// forgot-password form: its per-address limit is small and it hashes nothing.)
func TestLimitsCountAnIPv6NetworkOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	forgot := func(ip string, i int) int {
		b := a.browser()
		b.ip = ip
		return b.post("/portal/forgot", formOf("email", fmt.Sprintf("someone%d@example.org", i))).Code
	}
	for i := range limitForgot.burst {
		if code := forgot(fmt.Sprintf("[2001:db8:1:2::%x]:1234", i+1), i); code != http.StatusOK {
			t.Fatalf("request %d from the /64: %d, want 200", i+1, code)
		}
	}
	if code := forgot("[2001:db8:1:2:ffff::1]:1234", 99); code != http.StatusTooManyRequests {
		t.Fatalf("one more from yet another address of the /64: %d, want 429", code)
	}
	if code := forgot("[2001:db8:1:3::1]:1234", 100); code != http.StatusOK {
		t.Fatalf("another /64: %d, want 200", code)
	}
}

// Each email asked for gets a key of its own; only those the address's
// limit let through are kept, so a flood of made-up emails from one address
// cannot fill the table.
func TestMadeUpEmailsStopAtTheAddressLimit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	b := a.browser()
	b.ip = "192.0.2.77:1"
	before, _ := a.h.limits.l.Len()
	for i := range 200 {
		b.post("/portal/forgot", formOf("email", fmt.Sprintf("made-up-%d@example.org", i)))
	}
	buckets, _ := a.h.limits.l.Len()
	// The address's key and one per email it was allowed (its burst).
	if got := buckets - before; got != 1+limitForgot.burst {
		t.Fatalf("200 made-up emails from one address left %d new keys, want %d", got, 1+limitForgot.burst)
	}
}

// Wrong share codes count against the visitor's /64, like every other
// per-address limit: a guesser hopping between the addresses of their
// network meets the same limit, and another network keeps its own.
func TestShareWrongCodesCountAnIPv6NetworkOnce(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	link := "/s/" + token
	wrong := func(ip string) *resp {
		b := a.browser()
		b.ip = ip
		return b.follow(b.post(link+"/verify", formOf("code", "00000x")), link+"/code")
	}
	// No code waits: each entry is checked, and answered as no longer working.
	const checked = "This code no longer works."
	for i := range limitShareCode.burst {
		if r := wrong(fmt.Sprintf("[2001:db8:1:2::%x]:1234", i+1)); !strings.Contains(r.body, checked) {
			t.Fatalf("wrong code %d from the /64 was not checked: %s", i+1, abbreviate(r.body))
		}
	}
	r := wrong("[2001:db8:1:2:ffff::1]:1234")
	mustContain(t, r, "Too many attempts")
	mustNotContain(t, r, checked)
	mustContain(t, wrong("[2001:db8:1:3::1]:1234"), checked)
}

// Wrong codes sent all at once from one address meet the address's limit
// as if sent one by one: each entry holds its token before the code is
// checked, not after.
func TestShareWrongCodesAtOnceMeetTheAddressLimit(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	link := "/s/" + token
	const n = 60
	var wg sync.WaitGroup
	limited := make(chan bool, n)
	for range n {
		b := a.browser()
		b.ip = "203.0.113.70:1"
		b.csrf()
		wg.Add(1)
		go func() {
			defer wg.Done()
			// No Fatal off the test's goroutine: the page is read as it comes.
			r := b.post(link+"/verify", formOf("code", "00000x"))
			if r.Code == http.StatusSeeOther {
				r = b.get(link + "/code")
			}
			limited <- strings.Contains(r.body, "Too many attempts")
		}()
	}
	wg.Wait()
	close(limited)
	checked := 0
	for l := range limited {
		if !l {
			checked++
		}
	}
	if checked > limitShareCode.burst {
		t.Fatalf("%d of %d wrong codes sent at once were checked, want at most the burst, %d", checked, n, limitShareCode.burst)
	}
}
