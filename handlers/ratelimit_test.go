package handlers

import (
	"fmt"
	"net/http"
	"testing"

	"foyer/store"
)

// One IPv6 subscriber holds a whole /64: hopping between its addresses must
// not reset the per-address sign-in limit, and another network keeps its own.
func TestSignInLimitCountsAnIPv6NetworkOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	var code int
	for i := range 21 {
		b := a.browser()
		b.ip = fmt.Sprintf("[2001:db8:1:2::%x]:1234", i+1)
		code = b.post("/signin", formOf("email", fmt.Sprintf("user%d@example.org", i), "password", "x")).Code
		if i < 20 && code != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d from the /64: %d, want 422", i+1, code)
		}
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("21st attempt from 21 addresses of one /64: %d, want 429", code)
	}
	other := a.browser()
	other.ip = "[2001:db8:1:3::1]:1234"
	if r := other.post("/signin", formOf("email", "pat@example.org", "password", staffPassword)); r.Code != http.StatusSeeOther {
		t.Fatalf("another /64: %d, want 303", r.Code)
	}
}

// Each email tried gets a key of its own; only those the address's limit let
// through are kept, so a flood of made-up emails cannot fill the table.
func TestMadeUpEmailsStopAtTheAddressLimit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	b := a.browser()
	b.ip = "192.0.2.77:1"
	before, beforeFails := a.h.limits.l.Len()
	for i := range 200 {
		b.post("/signin", formOf("email", fmt.Sprintf("made-up-%d@example.org", i), "password", "x"))
	}
	buckets, fails := a.h.limits.l.Len()
	// The address's key and one per email it was allowed (its burst of 20).
	if got := buckets - before; got != 1+limitSignInIP.burst {
		t.Fatalf("200 made-up emails from one address left %d new keys, want %d", got, 1+limitSignInIP.burst)
	}
	if got := fails - beforeFails; got != limitSignInIP.burst {
		t.Fatalf("%d failure counts, want %d", got, limitSignInIP.burst)
	}
}
