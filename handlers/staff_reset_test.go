package handlers

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

var staffResetLink = regexp.MustCompile(`http://localhost:8080(/signin/reset/[A-Za-z0-9_-]{43})`)

// lastStaffReset returns the newest staff reset link emailed to someone, or "".
func (a *testApp) lastStaffReset(to string) string {
	a.t.Helper()
	a.h.Wait()
	msgs, _ := a.st.ListMessages(0, 200)
	for _, m := range msgs {
		if m.To == to {
			if l := staffResetLink.FindStringSubmatch(a.sent(m).Text); l != nil {
				return l[1]
			}
		}
	}
	return ""
}

// TestStaffForgotPassword: "Forgot password?" on the staff sign-in mails a
// one-hour, single-use link, under the portal's rules, in the member's language.
func TestStaffForgotPassword(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	a.st.UpdateStaff(pat.ID, func(st *store.Staff) error { st.Lang = "fr"; return nil })
	patBrowser := a.signIn("pat@example.org", staffPassword)
	v := a.browser()
	mustContain(t, v.get("/signin"), `href="/signin/forgot"`)
	mustContain(t, v.get("/signin/forgot"), "Forgot your password?")
	known := v.post("/signin/forgot", formOf("email", "pat@example.org"))
	unknown := v.post("/signin/forgot", formOf("email", "nobody@example.org"))
	if known.Code != http.StatusOK || strings.ReplaceAll(known.body, "pat@example.org", "X") != strings.ReplaceAll(unknown.body, "nobody@example.org", "X") {
		t.Fatalf("the answers differ: %d %d", known.Code, unknown.Code)
	}
	mustContain(t, known, `href="/signin"`)
	link := a.lastStaffReset("pat@example.org")
	if link == "" {
		t.Fatal("no reset link mailed")
	}
	msgs, _ := a.st.ListMessages(0, 1)
	if !strings.Contains(a.sent(msgs[0]).Subject, "Choisissez un nouveau mot de passe") {
		t.Errorf("the email is not in the member's language: %q", a.sent(msgs[0]).Subject)
	}
	// A portal reset link path does not open it, nor the other way round.
	if r := v.get(strings.Replace(link, "/signin/reset/", "/portal/reset/", 1)); r.Code != http.StatusNotFound {
		t.Errorf("a staff link works on the portal: %d", r.Code)
	}
	mustContain(t, v.get(link), "Choose a new password")
	if r := v.post(link, formOf("password", "password1")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("common password: %d", r.Code)
	}
	if r := v.post(link, formOf("password", "pat's brand new password")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
		t.Fatalf("reset: %d %s", r.Code, r.Header().Get("Location"))
	}
	if r := v.get(link); r.Code != http.StatusNotFound {
		t.Fatalf("used link: %d", r.Code)
	}
	// The old sessions ended; the new password signs in.
	if r := patBrowser.get("/"); r.Code != http.StatusSeeOther {
		t.Fatalf("a session from before the reset survived: %d", r.Code)
	}
	a.signIn("pat@example.org", "pat's brand new password")

	// A deactivated or invited member gets no link; a link dies with a
	// password change, a deactivation, and after an hour.
	owner := a.signIn("owner@example.org", ownerPassword)
	owner.post("/staff/invite", formOf("name", "New", "email", "new@example.org", "role", "practitioner", "lang", "en"))
	other := a.browser()
	other.ip = "198.51.100.8:1"
	other.post("/signin/forgot", formOf("email", "new@example.org"))
	if a.lastStaffReset("new@example.org") != "" {
		t.Error("an invited member got a reset link")
	}
	other.post("/signin/forgot", formOf("email", "owner@example.org"))
	link = a.lastStaffReset("owner@example.org")
	owner.post("/account/password", formOf("current", ownerPassword, "new", "the owner's next password"))
	if r := v.get(link); r.Code != http.StatusNotFound {
		t.Errorf("a reset link survived a password change: %d", r.Code)
	}
	b := a.browser()
	b.ip = "198.51.100.9:1"
	b.post("/signin/forgot", formOf("email", "pat@example.org"))
	link = a.lastStaffReset("pat@example.org")
	a.advance(61 * time.Minute)
	if r := b.get(link); r.Code != http.StatusGone {
		t.Errorf("a link after an hour: %d", r.Code)
	}
	// Limited per email, like the portal's, without a word to the asker:
	// the flood from many addresses sends three emails, answers as ever.
	before := len(a.linksTo("pat@example.org", "staff_reset"))
	for i := range 5 {
		c := a.browser()
		c.ip = "203.0.113." + itoa(uint64(i+1)) + ":1"
		if r := c.post("/signin/forgot", formOf("email", "pat@example.org")); r.Code != http.StatusOK {
			t.Errorf("forgot flood, request %d: %d", i, r.Code)
		}
	}
	if n := len(a.linksTo("pat@example.org", "staff_reset")) - before; n != 3 {
		t.Errorf("forgot flood: %d emails", n)
	}
	// From one address, the fourth request in five minutes is refused.
	var last *resp
	for range 4 {
		last = b.post("/signin/forgot", formOf("email", "someone@example.org"))
	}
	if last.Code != http.StatusTooManyRequests {
		t.Errorf("forgot flood from one address: %d", last.Code)
	}
}

// TestInvitationRevoked: deactivating an invitee or cancelling the
// invitation stops its link; a cancelled invitee leaves the list.
func TestInvitationRevoked(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.post("/staff/invite", formOf("name", "Sam", "email", "sam@example.org", "role", "admin", "lang", "en"))
	link, _ := a.lastInvite("sam@example.org")
	st, _ := a.st.StaffByEmail("sam@example.org")
	id := itoa(st.ID)
	if r := owner.post("/staff/"+id+"/deactivate", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("deactivate the invitee: %d", r.Code)
	}
	if r := a.browser().get(link); r.Code != http.StatusNotFound {
		t.Fatalf("the invitation of a deactivated invitee still opens: %d", r.Code)
	}
	if r := a.browser().post(link, formOf("password", "sam's long password")); r.Code == http.StatusSeeOther {
		t.Fatal("the invitation of a deactivated invitee still sets a password")
	}
	// Sent again, then cancelled: the row offers it, the link stops, the person goes.
	owner.post("/staff/"+id+"/reinvite", nil)
	link, _ = a.lastInvite("sam@example.org")
	r := owner.get("/staff")
	mustContain(t, r, `action="/staff/`+id+`/cancel"`, "Cancel the invitation")
	r = owner.post("/staff/"+id+"/cancel", nil, "HX-Request", "true")
	if r.Code != http.StatusOK || strings.TrimSpace(r.body) != "" {
		t.Fatalf("cancel (HTMX): %d %q", r.Code, r.body)
	}
	if r := a.browser().get(link); r.Code != http.StatusNotFound {
		t.Fatalf("a cancelled invitation still opens: %d", r.Code)
	}
	mustNotContain(t, owner.get("/staff"), "sam@example.org")
	// An accepted account cannot be "cancelled".
	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	if r := owner.post("/staff/"+itoa(pat.ID)+"/cancel", nil); r.Code != http.StatusForbidden {
		t.Fatalf("cancel an active account: %d", r.Code)
	}
	// The email may be invited again.
	if r := owner.post("/staff/invite", formOf("name", "Sam", "email", "sam@example.org", "role", "admin", "lang", "en")); r.Code != http.StatusSeeOther {
		t.Fatalf("invite again: %d", r.Code)
	}
}
