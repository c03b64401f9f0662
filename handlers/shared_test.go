package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestSharedPages: a public page kept once per language still carries each
// visitor's own CSRF token, follows the practice settings as soon as they are
// saved, speaks the visitor's language, and is never what a signed-in visitor
// or one with a flash message gets.
func TestSharedPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()

	first, second := a.browser(), a.browser()
	r1, r2 := first.get("/portal"), second.get("/portal")
	t1, t2 := first.csrf(), second.csrf()
	if t1 == t2 {
		t.Fatal("two visitors share a CSRF token")
	}
	for _, c := range []struct {
		r     *resp
		token string
	}{{r1, t1}, {r2, t2}} {
		mustContain(t, c.r, `name="_csrf" value="`+c.token+`"`, `"X-CSRF-Token": "`+c.token+`"`)
		mustNotContain(t, c.r, tokenPlaceholder)
		if got := c.r.Header().Get("Content-Length"); got != strconv.Itoa(len(c.r.body)) {
			t.Errorf("Content-Length %s, body %d bytes", got, len(c.r.body))
		}
	}
	if strings.ReplaceAll(r1.body, t1, "") != strings.ReplaceAll(r2.body, t2, "") {
		t.Error("the two visitors got different pages apart from the token")
	}
	// A POST with the token from the kept page is accepted by the CSRF check;
	// the other visitor's token is not.
	if r := first.post("/portal", formOf("_csrf", t1, "email", "nobody@example.org", "password", "wrong password here")); r.Code == http.StatusForbidden {
		t.Fatalf("token from the kept page refused: %d", r.Code)
	}
	if r := first.post("/portal", formOf("_csrf", t2, "email", "nobody@example.org", "password", "wrong password here")); r.Code != http.StatusForbidden {
		t.Fatalf("another visitor's token accepted: %d", r.Code)
	}

	mustNotContain(t, r1, `href="/portal/signup"`)
	a.enableSignup(owner)
	r := first.get("/portal")
	mustContain(t, r, `href="/portal/signup"`, "Cabinet Lumière")

	french := a.browser()
	french.lang = "fr"
	mustContain(t, french.get("/portal"), `<html lang="fr">`)
	mustContain(t, first.get("/portal"), `<html lang="en">`)

	// A flash message is shown once, to its visitor only.
	first.cookies[flashCookie] = &http.Cookie{Name: flashCookie, Value: "flash.saved"}
	mustContain(t, first.get("/portal"), `class="flash"`)
	mustNotContain(t, first.get("/portal"), `class="flash"`)
	mustNotContain(t, second.get("/portal"), `class="flash"`)

	// A staff member on the staff sign-in page is sent home, not shown a kept page.
	if r := owner.get("/signin"); r.Code != http.StatusSeeOther {
		t.Errorf("signed-in staff on /signin: %d", r.Code)
	}
}

// TestSharedShareLandings: kept share landings never mix two links: each
// shows its own contacts and its own path, with the visitor's own token.
func TestSharedShareLandings(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	_, mia := sharePreso(t, a, owner, "anyone", a.addClient("Mia", "Martin", a.ownerID()))
	_, leo := sharePreso(t, a, owner, "anyone", a.addClient("Léo", "Roux", a.ownerID()))
	for range 2 {
		for _, c := range []struct{ link, name, other string }{{mia, "Mia Martin", "Léo Roux"}, {leo, "Léo Roux", "Mia Martin"}} {
			v := a.browser()
			r := v.get(c.link)
			mustContain(t, r, c.name, `action="`+c.link+`/open"`, `name="_csrf" value="`+v.csrf()+`"`)
			mustNotContain(t, r, c.other, tokenPlaceholder)
		}
	}
}
