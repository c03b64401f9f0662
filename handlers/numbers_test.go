package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// "People viewed" counts people as a person would: a contact who looked
// twice (two browsers) is one, a name given twice is one, an anonymous
// visitor is one.
func TestShareBoxCountsPeople(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	leo := a.addClient("Léo", "Lemaire", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia, leo)
	// Before anyone looked, the box says so in words, in both languages,
	// and in French the link's state agrees with the link.
	mustContain(t, owner.get(presoPath(id, "/share")), "Nobody has viewed it yet")
	mustContain(t, owner.get(presoPath(id, "")), "Nobody has viewed it yet")
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	fr := owner.get(presoPath(id, "/share"))
	mustContain(t, fr, "Personne ne l’a encore vue", "Lien créé le ", ">actif</span>")
	mustNotContain(t, fr, "0 personne", "Partagée le ")
	mustNotContain(t, owner.get(presoPath(id, "")), "0 personne")
	owner.post("/lang", formOf("lang", "en", "next", "/"))
	openViewer(t, a, link, "0")
	openViewer(t, a, link, "0") // Mia again, on her phone
	openViewer(t, a, link, "1")
	for _, name := range []string{"Anne Roux", "anne  roux"} {
		b := a.browser()
		if r := b.post(link+"/open", formOf("who", "-1", "name", name, "email", "anne@example.org")); r.Code != http.StatusSeeOther {
			t.Fatalf("Anne: %d", r.Code)
		}
	}
	anon := a.browser()
	anon.post(link+"/open", formOf("who", "-1", "anonymous", "1"))
	if vs, _ := a.st.ShareViewings(1); len(vs) != 6 {
		t.Fatalf("%d viewings, want 6", len(vs))
	}
	mustContain(t, owner.get(presoPath(id, "/share")), "4 people viewed it")
}

// The time on the slide a viewer had open when the link was expired counts
// up to the expiry, not beyond; the numbers still name the slides after.
func TestSlideOpenAtExpiryCountsUpToIt(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	v, viewing := openViewer(t, a, link, "0")
	a.advance(10 * time.Second)
	if r := v.post(link+"/beacon", beaconForm(v, viewing, 1, 10000)); r.Code != http.StatusNoContent {
		t.Fatalf("beacon of slide 1: %d", r.Code)
	}
	v.get(link + "/slides/2")
	a.advance(30 * time.Second)
	if r := owner.post(presoPath(id, "/share/1/expire"), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("expire: %d", r.Code)
	}
	a.advance(20 * time.Second)
	// Another browser's beacon, or one of a slide never shown, counts nothing.
	stranger := a.browser()
	if r := stranger.post(link+"/beacon", beaconForm(stranger, viewing, 3, 50000)); r.Code != http.StatusGone {
		t.Fatalf("a stranger's late beacon: %d", r.Code)
	}
	if r := v.post(link+"/beacon", beaconForm(v, viewing, 2, 50000)); r.Code != http.StatusBadRequest {
		t.Fatalf("a late beacon of a slide left out: %d", r.Code)
	}
	// Mia leaves slide 2 (id 3), shown 50 s ago; the link ended 30 s after she opened it.
	if r := v.post(link+"/beacon", beaconForm(v, viewing, 3, 50000)); r.Code != http.StatusNoContent {
		t.Fatalf("the late beacon: %d", r.Code)
	}
	times, _ := a.st.SlideTimes(1)
	if len(times) != 2 || times[1].SlideID != 3 || times[1].Millis < 30000 || times[1].Millis > 32000 {
		t.Fatalf("credited %+v, want 30 s on slide 3 (and the slack)", times)
	}
	if r := v.post(link+"/beacon", beaconForm(v, viewing, 3, 50000)); r.Code != http.StatusNoContent {
		t.Fatalf("the late beacon again: %d", r.Code)
	}
	if total := creditedMillis(t, a)[1]; total > 42000 {
		t.Fatalf("credited %d ms in all, more than the 40 s the link was open (and the slack)", total)
	}
	r := owner.get(presoPath(id, "/share/1"))
	mustContain(t, r, "<td data-label=\"Slide\">1. Hello</td><td data-label=\"Time\">10\u00a0s</td>",
		"<td data-label=\"Slide\">2. Sign here</td><td data-label=\"Time\">32\u00a0s</td>")
	if r := v.get(link + "/slides/1"); r.Code != http.StatusGone {
		t.Fatalf("a slide after the expiry: %d", r.Code)
	}
}

// A viewer who comes back into the same link from the same browser (its
// viewing cookie) comes back into the same viewing, and is no new entry:
// coming back every 30 s never meets the entry limit, which still holds
// for newcomers of the address.
func TestReturningViewerIsNoNewEntry(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	_, link := sharePreso(t, a, owner, "anyone", mia)
	v, viewing := openViewer(t, a, link, "0")
	sh, _ := a.st.ShareByToken(strings.TrimPrefix(link, "/s/"))
	for i := range 25 {
		delete(v.cookies, a.h.shareCookieName(sh.ID)) // the session is gone (idle, or the cookie expired)
		a.advance(30 * time.Second)
		if r := v.post(link+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link+"/slides/1" {
			t.Fatalf("coming back, time %d: %d", i+1, r.Code)
		}
		mustContain(t, v.get(link+"/slides/1"), `data-viewing="`+viewing+`"`)
	}
	anon := a.browser()
	for range 2 {
		if r := anon.post(link+"/open", formOf("who", "-1", "anonymous", "1")); r.Code != http.StatusSeeOther {
			t.Fatalf("an anonymous visitor, twice: %d", r.Code)
		}
	}
	if vs, _ := a.st.ShareViewings(sh.ID); len(vs) != 2 {
		t.Fatalf("%d viewings, want Mia's and the anonymous visitor's", len(vs))
	}
	// Newcomers of the same address still meet the entry limit.
	status := 0
	for range 12 {
		status = a.browser().post(link+"/open", formOf("who", "0")).Code
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("twelve newcomers within a minute: %d", status)
	}
}
