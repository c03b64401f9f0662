package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/auth"
	"foyer/store"
)

// shareCookies are the share-visit cookies a browser holds.
func (b *browser) shareCookies() map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for n, c := range b.cookies {
		if strings.HasPrefix(n, shareCookiePrefix) {
			out[n] = c
		}
	}
	return out
}

// verifyShare asks for a code sent to "to" and enters it, in this browser.
func (b *browser) verifyShare(token, to string) {
	b.app.t.Helper()
	if r := b.post("/s/"+token+"/code", nil); r.Code != http.StatusSeeOther {
		b.app.t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	r := b.post("/s/"+token+"/verify", formOf("code", b.app.lastCode(to)))
	if r.Code != http.StatusSeeOther || !strings.HasSuffix(r.Header().Get("Location"), "/files") {
		b.app.t.Fatalf("verify: %d %s", r.Code, abbreviate(r.body))
	}
}

func TestShareSessionsOfSeveralLinksAtOnce(t *testing.T) {
	a, owner, clientPath, tokenA, _ := sharedClient(t)
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"b.pdf", []byte("B")}); r.Code != http.StatusSeeOther {
		t.Fatalf("second share: %d", r.Code)
	}
	tokenB := a.lastShareToken("ana@example.org")
	b := verify(t, a, tokenA)
	a.advance(time.Minute)
	// The same browser verifies link B: it stays in A.
	b.verifyShare(tokenB, "+33612345678")
	for _, tok := range []string{tokenA, tokenB} {
		if r := b.get("/s/" + tok + "/files"); r.Code != http.StatusOK {
			t.Fatalf("files of %s…: %d", tok[:4], r.Code)
		}
	}
	cks := b.shareCookies()
	if len(cks) != 2 {
		t.Fatalf("%d share cookies", len(cks))
	}
	for n, c := range cks {
		if c.Path != "/s/" || c.MaxAge != 1800 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: path %q max-age %d", n, c.Path, c.MaxAge)
		}
		if strings.Contains(n, tokenA) || strings.Contains(n, tokenB) || strings.Contains(n, "1") && len(n) < 10 {
			t.Errorf("cookie name %q gives the share away", n)
		}
	}
	// A's session, put under B's cookie name, opens nothing of B.
	nameA, nameB := a.h.shareCookieName(1), a.h.shareCookieName(2)
	mallory := a.browser()
	mallory.cookies[nameB] = &http.Cookie{Name: nameB, Value: b.cookies[nameA].Value}
	if r := mallory.get("/s/" + tokenB + "/files"); r.Code != http.StatusSeeOther {
		t.Fatalf("A's session under B's name: %d", r.Code)
	}
	// Each visit idles out on its own: A is left for 30 minutes while B goes on.
	for range 3 {
		a.advance(10 * time.Minute)
		if r := b.get("/s/" + tokenB + "/files"); r.Code != http.StatusOK {
			t.Fatalf("B while A idles: %d", r.Code)
		}
	}
	if r := b.get("/s/" + tokenA + "/files"); r.Code != http.StatusSeeOther {
		t.Fatalf("A after 30 idle minutes: %d", r.Code)
	}
	// Deleting B's documents drops B's cookie only.
	if r := b.post("/s/"+tokenB+"/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete B: %d", r.Code)
	}
	if _, ok := b.cookies[nameB]; ok {
		t.Fatal("B's cookie kept after deletion")
	}
}

func TestShareCookiesStayFew(t *testing.T) {
	a, _, _, token, _ := sharedClient(t)
	b := a.browser()
	// The browser holds 25 cookies of other links: 5 of ended visits, 20 live
	// ones seen at different times.
	for i := range 25 {
		sid := auth.NewToken()
		name := fmt.Sprintf("%sx%02d", shareCookiePrefix, i)
		b.cookies[name] = &http.Cookie{Name: name, Value: sid}
		if i < 5 {
			continue
		}
		seen := a.now().Add(-time.Duration(25-i) * time.Minute)
		if err := a.st.SaveShareSession(sid, store.ShareSession{ShareID: uint64(100 + i), CreatedAt: seen, LastSeen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	b.verifyShare(token, "+33612345678")
	cks := b.shareCookies()
	if len(cks) != maxShareCookies {
		t.Fatalf("%d share cookies after one more link, want %d", len(cks), maxShareCookies)
	}
	if _, ok := cks[a.h.shareCookieName(1)]; !ok {
		t.Fatal("the new link's cookie is missing")
	}
	// The ended ones went, then the least recently used live one.
	for i := range 6 {
		if _, ok := cks[fmt.Sprintf("%sx%02d", shareCookiePrefix, i)]; ok {
			t.Errorf("cookie %d kept", i)
		}
	}
}
