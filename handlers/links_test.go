package handlers

import (
	"net/http"
	"testing"
	"time"
)

// Extend adds the days chosen to the link's expiry, not to now, and the
// message says the new date and time.
func TestExtendAddsToTheExpiryAndSaysWhen(t *testing.T) {
	a, owner, clientPath, _, _ := sharedClient(t)
	sent, _ := a.st.Share(1)
	r := owner.get(clientPath)
	mustContain(t, r, `<option value="7">7 more days</option>`, `<option value="20" selected>20 more days</option>`, `<option value="90">90 more days</option>`,
		`<label for="extend-1" class="sr-only">Extend the link by</label>`)
	a.advance(2 * time.Minute)
	r = owner.post("/shares/1/extend", formOf("days", "20"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("extend: %d %s", r.Code, abbreviate(r.body))
	}
	sh, _ := a.st.Share(1)
	if want := sent.ExpiresAt.Add(20 * 24 * time.Hour); !sh.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want %v (20 days after the old expiry)", sh.ExpiresAt, want)
	}
	when := a.h.catalog.Get("en").DateTime(sh.ExpiresAt.In(a.h.zone()))
	mustContain(t, owner.follow(r, clientPath+"#share-1"), "The secure link now expires on "+when+".")
	// Without a choice (an older page), the practice's lifetime; a length not offered is refused.
	owner.post("/shares/1/extend", nil)
	if sh2, _ := a.st.Share(1); !sh2.ExpiresAt.Equal(sh.ExpiresAt.Add(20 * 24 * time.Hour)) {
		t.Fatalf("extend without a choice: %v", sh2.ExpiresAt)
	}
	if r := owner.post("/shares/1/extend", formOf("days", "45")); r.Code != http.StatusBadRequest {
		t.Fatalf("45 days: %d", r.Code)
	}
}
