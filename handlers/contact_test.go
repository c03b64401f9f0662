package handlers

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"foyer/store"
)

// A link's visitor told to contact the practice is shown how: its phone
// and email, as Settings hold them, on the page of an ended documents link
// and on the error page of a preso link that no longer opens.
func TestEndedLinksSayHowToReachThePractice(t *testing.T) {
	t.Parallel()
	a, owner, _, token, _ := sharedClient(t)
	if r := owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "en", "time_zone", "Europe/Paris", "phone_region", "FR",
		"currency", "EUR", "brand_color", "#2f5d62", "phone", "01 42 00 00 00", "contact_email", "contact@lumiere.example", "vat_note", "x")); r.Code != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", r.Code, abbreviate(r.body))
	}
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	// Before: a live link names no contact lines.
	mustNotContain(t, a.browser().get("/s/"+token), "To reach Cabinet Lumière")
	owner.post("/shares/1/expire", nil)
	if r := owner.post(presoPath(id, "/share/2/expire"), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("expire the preso link: %d", r.Code)
	}
	want := []string{"To reach Cabinet Lumière:", `<a href="tel:01%2042%2000%2000%2000">01 42 00 00 00</a>`, `<a href="mailto:contact@lumiere.example">contact@lumiere.example</a>`}
	if r := a.browser().get("/s/" + token); r.Code != http.StatusGone {
		t.Fatalf("ended documents link: %d", r.Code)
	} else {
		mustContain(t, r, want...)
	}
	if r := a.browser().get(link); r.Code != http.StatusGone {
		t.Fatalf("ended preso link: %d", r.Code)
	} else {
		mustContain(t, r, want...)
	}
	// A staff page's error says nothing of it: staff know how to reach their practice.
	mustNotContain(t, owner.get("/clients/999"), "To reach Cabinet Lumière")
}

// A preso link's landing says until when the link works, as a documents
// link's does, and shows the new date once the link is extended, though
// the page is kept in memory between visitors.
func TestPresoLandingSaysWhenTheLinkEnds(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	_, link := sharePreso(t, a, owner, "anyone", mia)
	sh, err := a.st.Share(1)
	if err != nil {
		t.Fatal(err)
	}
	until := regexp.MustCompile(`This link works until ([^<]+)\.`)
	first := until.FindStringSubmatch(a.browser().get(link).body)
	if first == nil {
		t.Fatal("the landing does not say until when the link works")
	}
	later := sh.ExpiresAt.Add(5 * 24 * time.Hour)
	if _, err := a.st.ChangeShare(sh.ID, func(ch *store.ShareChange) error { ch.Share.ExpiresAt = later; return nil }); err != nil {
		t.Fatal(err)
	}
	again := until.FindStringSubmatch(a.browser().get(link).body)
	if again == nil || again[1] == first[1] {
		t.Fatalf("the landing after an extension says %q, before %q", again, first[1])
	}
}
