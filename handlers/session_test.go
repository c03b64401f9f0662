package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// With a short idle timeout, a user active more often than the timeout stays
// signed in: activity is recorded often enough.
func TestShortIdleTimeoutKeepsActiveUser(t *testing.T) {
	t.Parallel()
	a := newTestAppConfig(t, Config{IdleTimeout: time.Minute})
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	pat := a.signIn("pat@example.org", staffPassword)
	for i := range 6 {
		a.advance(50 * time.Second)
		if r := pat.get("/account"); r.Code != http.StatusOK {
			t.Fatalf("request %d, 50 s after the last one: %d (signed out)", i+1, r.Code)
		}
	}
	a.advance(61 * time.Second)
	if r := pat.get("/account"); r.Code != http.StatusSeeOther {
		t.Fatalf("after a minute idle: %d, want a redirect to sign in", r.Code)
	}
}

// Cacheable responses never set a cookie, even for a signed-in user whose
// session is due a refresh.
func TestNoCookieOnCacheableResponses(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	if r := owner.upload("/settings/logo", "logo", "logo.png", pngBytes(t, 64, 32)); r.Code != http.StatusSeeOther {
		t.Fatalf("logo: %d", r.Code)
	}
	page := owner.get("/settings").body
	var paths []string
	for _, p := range []string{"/logo?v=", "/brand.css?v=", "/static/"} {
		i := strings.Index(page, p)
		if i < 0 {
			t.Fatalf("no %s on the page", p)
		}
		end := strings.IndexByte(page[i:], '"')
		paths = append(paths, strings.ReplaceAll(page[i:i+end], "&amp;", "&"))
	}
	a.advance(5 * time.Minute) // the session is due a refresh on its next page
	for _, p := range paths {
		r := owner.get(p)
		if r.Code != http.StatusOK || !strings.Contains(r.Header().Get("Cache-Control"), "public") {
			t.Fatalf("%s: %d %q", p, r.Code, r.Header().Get("Cache-Control"))
		}
		if sc := r.Header().Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s sets cookies: %v", p, sc)
		}
	}
}
