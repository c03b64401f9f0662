package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat Practitioner", "pat@example.org", store.RolePractitioner)

	cases := []struct {
		name, email, password string
		status                int
		want                  string
	}{
		{"right", "pat@example.org", staffPassword, http.StatusSeeOther, ""},
		{"any case email", "PAT@Example.org", staffPassword, http.StatusSeeOther, ""},
		{"wrong password", "pat@example.org", "not the password", http.StatusUnprocessableEntity, "The email or password is incorrect."},
		{"unknown email", "nobody@example.org", staffPassword, http.StatusUnprocessableEntity, "The email or password is incorrect."},
		{"empty", "", "", http.StatusUnprocessableEntity, "This field is required."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := a.browser()
			b.ip = "198.51.100." + tc.name[:1] + ":1"
			r := b.post("/signin", formOf("email", tc.email, "password", tc.password))
			if r.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Code, tc.status, abbreviate(r.body))
			}
			if tc.want != "" {
				mustContain(t, r, tc.want)
			}
			if tc.status == http.StatusSeeOther {
				mustContain(t, b.get("/"), "Welcome, Pat Practitioner")
			}
		})
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	b := a.browser()
	b.get("/signin")
	// A session before sign-in (from the 2FA step, say) must not survive it: no fixation.
	b.cookies["foyer_session"] = &http.Cookie{Name: "foyer_session", Value: strings.Repeat("A", 43)}
	r := b.post("/signin", formOf("email", "pat@example.org", "password", staffPassword))
	var sc *http.Cookie
	for _, c := range r.Result().Cookies() {
		if c.Name == "foyer_session" {
			sc = c
		}
	}
	if sc == nil {
		t.Fatal("no session cookie")
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.MaxAge != 0 || sc.Value == strings.Repeat("A", 43) {
		t.Errorf("cookie = %+v", sc)
	}
	if len(sc.Value) != 43 {
		t.Errorf("session ID has %d characters, want 43 (256 bits)", len(sc.Value))
	}
}

func TestSecureCookieNames(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.h.cfg.BaseURL.Scheme = "https"
	a.h.sessions = newSessionStore(a.st, a.h.cfg, a.now)
	a.setUpSecure()
}

// setUpSecure checks the https variants: __Host- names, Secure cookies, HSTS.
func (a *testApp) setUpSecure() {
	b := a.browser()
	r := b.get("/setup")
	if r.Header().Get("Strict-Transport-Security") == "" {
		a.t.Error("no HSTS over https")
	}
	c := b.cookies["__Host-foyer_csrf"]
	if c == nil || !c.Secure {
		a.t.Fatalf("csrf cookie over https = %+v", c)
	}
	r = b.post("/setup", formOf("_csrf", b.csrf(), "practice_name", "P", "default_lang", "en", "name", "N", "email", "n@example.org", "password", ownerPassword))
	sc := b.cookies["__Host-foyer_session"]
	if r.Code != http.StatusSeeOther || sc == nil || !sc.Secure || !sc.HttpOnly {
		a.t.Fatalf("setup over https: %d, session cookie %+v", r.Code, sc)
	}
}

func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	var slept []time.Duration
	a.h.sleep = func(_ context.Context, d time.Duration) { slept = append(slept, d) }
	// Per email from one address: the sixth try is refused, even with the right password.
	guesser := a.browser()
	guesser.ip = "203.0.113.1:1"
	var last *resp
	for range 6 {
		last = guesser.post("/signin", formOf("email", "pat@example.org", "password", "wrong password"))
	}
	if last.Code != http.StatusTooManyRequests {
		t.Fatalf("6th wrong attempt: %d, want 429", last.Code)
	}
	mustContain(t, last, "Too many attempts")
	if r := guesser.post("/signin", formOf("email", "pat@example.org", "password", staffPassword)); r.Code != http.StatusTooManyRequests {
		t.Fatalf("right password from the guessing address: %d", r.Code)
	}
	// An unknown email is limited the same way: the limit tells nothing about existence.
	for range 5 {
		guesser.post("/signin", formOf("email", "ghost@example.org", "password", "x"))
	}
	if r := guesser.post("/signin", formOf("email", "ghost@example.org", "password", "x")); r.Code != http.StatusTooManyRequests {
		t.Fatalf("unknown email not limited: %d", r.Code)
	}
	// Someone tries Pat's email once a minute, from ever new addresses, for
	// half an hour: Pat is never locked out, only slowed down a little.
	for i := range 30 {
		b := a.browser()
		b.ip = "198.51.100." + itoa(uint64(i+1)) + ":1"
		if r := b.post("/signin", formOf("email", "pat@example.org", "password", "wrong password")); r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("try %d from a new address: %d", i, r.Code)
		}
		a.advance(time.Minute)
	}
	slept = nil
	pat := a.browser()
	pat.ip = "192.0.2.50:1"
	if r := pat.post("/signin", formOf("email", "pat@example.org", "password", staffPassword)); r.Code != http.StatusSeeOther {
		t.Fatalf("Pat, after half an hour of someone else's guesses: %d", r.Code)
	}
	if len(slept) != 1 || slept[0] < time.Second || slept[0] > 8*time.Second {
		t.Fatalf("delay before Pat's answer: %v, want one of 1 to 8 s", slept)
	}
	// Pat's success forgets none of the guesser's failures: the next
	// answer for her email still waits, until they are old enough.
	slept = nil
	a.browser().post("/signin", formOf("email", "pat@example.org", "password", staffPassword))
	if len(slept) != 1 || slept[0] < time.Second {
		t.Fatalf("delay after Pat's success: %v, want the guesser's failures to still count", slept)
	}
	a.advance(15*time.Minute + time.Second)
	slept = nil
	a.browser().post("/signin", formOf("email", "pat@example.org", "password", staffPassword))
	if len(slept) != 1 || slept[0] != 0 {
		t.Fatalf("delay once the failures are a quarter of an hour old: %v", slept)
	}
	// Per address: one address trying many accounts runs out too.
	b := a.browser()
	b.ip = "192.0.2.99:1"
	var code int
	for i := range 25 {
		code = b.post("/signin", formOf("email", "user"+string(rune('a'+i))+"@example.org", "password", "x")).Code
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("25 accounts from one address: %d, want 429", code)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	b := a.signIn("pat@example.org", staffPassword)
	a.advance(29 * time.Minute)
	if r := b.get("/"); r.Code != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", r.Code)
	}
	a.advance(31 * time.Minute)
	if r := b.get("/"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
		t.Fatalf("after 31 idle minutes: %d %s", r.Code, r.Header().Get("Location"))
	}
	// Activity every 20 minutes keeps a session alive, but not past 12 hours.
	b = a.signIn("pat@example.org", staffPassword)
	for range 37 {
		a.advance(20 * time.Minute)
		b.get("/")
	}
	if r := b.get("/"); r.Code != http.StatusSeeOther {
		t.Fatalf("after 12h20 of steady activity: %d, want a redirect to sign in", r.Code)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	phone := a.signIn("pat@example.org", staffPassword)
	laptop := a.signIn("pat@example.org", staffPassword)
	mustContain(t, laptop.get("/account"), "signed in on 2 devices")
	r := laptop.post("/signout/everywhere", nil)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", r.Code)
	}
	if r := phone.get("/"); r.Code != http.StatusSeeOther {
		t.Fatalf("the other session still works: %d", r.Code)
	}
	if r := laptop.get("/"); r.Code != http.StatusSeeOther {
		t.Fatalf("this session still works: %d", r.Code)
	}
}
