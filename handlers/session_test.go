package handlers

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// With a short idle timeout, a user active more often than the timeout stays
// signed in: activity is recorded often enough.
func TestShortIdleTimeoutKeepsActiveUser(t *testing.T) {
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

// One appointment whose client cannot be read does not stop the reminders of the others.
func TestOneBadAppointmentDoesNotStopReminders(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	first := owner.newClient("email", "eloise@example.org", "lang", "fr")
	second := owner.newClient("first_name", "Marc", "email", "marc@example.org", "lang", "fr")
	owner.post(first+"/appointments", formOf("date", "2026-11-26", "time", "09:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	owner.post(second+"/appointments", formOf("date", "2026-11-26", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	broken, _ := a.st.Appointment(1)
	readClient = func(s *store.Store, id uint64) (store.Client, error) {
		if id == broken.ClientID {
			return store.Client{}, errors.New("store: unable to decode clients record")
		}
		return s.Client(id)
	}
	t.Cleanup(func() { readClient = (*store.Store).Client })
	n, err := a.h.SendReminders(a.now())
	if n != 1 || err == nil {
		t.Fatalf("reminders: %d, %v; want the second one sent and the first one's error", n, err)
	}
	msgs, _ := a.st.ListMessages(0, 10)
	if len(msgs) != 1 || msgs[0].To != "marc@example.org" {
		t.Fatalf("outbox: %+v", msgs)
	}
}
