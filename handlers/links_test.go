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

// Send again keeps every mobile of the share: each has its field, and the
// new link's codes may go to any of them.
func TestSendAgainKeepsEveryMobile(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin",
		"phone_0", "06 12 34 56 78", "phone_0_type", "mobile", "phone_1", "06 55 44 33 22", "phone_1_type", "mobile")
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"a.pdf", []byte("A")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
	if sh, _ := a.st.Share(1); len(sh.Recipients[0].Mobiles) != 2 {
		t.Fatalf("shared to %v", sh.Recipients[0].Mobiles)
	}
	r := owner.get("/shares/1/again")
	mustContain(t, r, `name="mobile_0" type="tel" value="06 12 34 56 78"`, `name="mobile_1" type="tel" value="06 55 44 33 22"`, "Second mobile phone")
	// A mistake in the second comes back beside it, the first kept as typed.
	r = owner.post("/shares/1/again", formOf("name", "Ana Martin", "email", "ana@example.org", "lang", "en", "mobile_0", "06 12 34 56 78", "mobile_1", "01 42 00 00 00"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a landline as second mobile: %d", r.Code)
	}
	mustContain(t, r, `name="mobile_0" type="tel" value="06 12 34 56 78"`, `name="mobile_1" type="tel" value="01 42 00 00 00"`, `id="e-mobile_1">This number is not a mobile phone`)
	r = owner.post("/shares/1/again", formOf("name", "Ana Martin", "email", "ana@example.org", "lang", "en", "mobile_0", "06 12 34 56 78", "mobile_1", "06 55 44 33 22"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("send again: %d %s", r.Code, abbreviate(r.body))
	}
	sh, _ := a.st.Share(2)
	if m := sh.Recipients[0].Mobiles; len(m) != 2 || m[0] != "+33612345678" || m[1] != "+33655443322" {
		t.Fatalf("sent again to %v", m)
	}
}

// The sharing box works as a page of its own (opened in a new tab): its
// forms swap the box itself, which is on every page the box is; and Expire
// asks first, with a page that works without JavaScript.
func TestStandaloneShareBoxAndExpireAsksFirst(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	r := owner.get(presoPath(id, "/share"))
	mustContain(t, r, "<html", `hx-target="closest .share-box" hx-swap="outerHTML"`, `href="/presos/`+itoa(id)+`/share/1/expire"`)
	mustNotContain(t, r, `hx-target="#dialog"`, `action="/presos/`+itoa(id)+`/share/1/expire"`)
	// Expire asks: a page of its own, or the box's content for HTMX; asking expires nothing.
	r = owner.get(presoPath(id, "/share/1/expire"))
	mustContain(t, r, "<html", "Expire this link now?", "Pension plan", `action="/presos/`+itoa(id)+`/share/1/expire"`, "Expire the link", "Keep the link")
	r = owner.get(presoPath(id, "/share/1/expire"), "HX-Request", "true")
	mustContain(t, r, `class="card dialog-card share-box"`, "Expire this link now?")
	mustNotContain(t, r, "<html")
	if r := a.browser().get(link); r.Code != http.StatusOK {
		t.Fatalf("the link after the question: %d", r.Code)
	}
	if r := owner.post(presoPath(id, "/share/1/expire"), nil); r.Code != http.StatusSeeOther || r.Header().Get("Location") != presoPath(id, "/share") {
		t.Fatalf("expire: %d %s", r.Code, r.Header().Get("Location"))
	}
	if r := a.browser().get(link); r.Code != http.StatusGone {
		t.Fatalf("the link after Expire: %d", r.Code)
	}
	// Asking again about an ended link shows the box, saying so.
	mustContain(t, owner.get(presoPath(id, "/share/1/expire")), "This link no longer works")
}
