package handlers

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"foyer/delivery"
	"foyer/store"
)

var inviteLink = regexp.MustCompile(`http://localhost:8080(/invite/[A-Za-z0-9_-]{43})`)

// lastInvite returns the path of the newest invitation link in the outbox, and the email as it is sent.
func (a *testApp) lastInvite(to string) (string, delivery.Outgoing) {
	a.t.Helper()
	msgs, err := a.st.ListMessages(0, 100)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == to {
			out := a.sent(m)
			link := inviteLink.FindStringSubmatch(out.Text)
			if link == nil {
				a.t.Fatalf("no link in %q", out.Text)
			}
			return link[1], out
		}
	}
	a.t.Fatalf("no message to %s", to)
	return "", delivery.Outgoing{}
}

// sent renders a message the way the worker sends it, secret included.
func (a *testApp) sent(m store.Message) delivery.Outgoing {
	a.t.Helper()
	secret, err := a.st.Unseal(m.Sealed)
	if err != nil {
		a.t.Fatal(err)
	}
	out, err := a.h.mail.Render(m, secret)
	if err != nil {
		a.t.Fatal(err)
	}
	return out
}

func TestInviteStaff(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	r := owner.post("/staff/invite", formOf("name", "Chloé Collègue", "email", "chloe@example.org", "role", "practitioner", "lang", "fr"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("invite: %d %s", r.Code, abbreviate(r.body))
	}
	path, msg := a.lastInvite("chloe@example.org")
	if msg.Lang != "fr" || !strings.Contains(msg.Subject, "Votre invitation") || !strings.Contains(msg.HTML, "Choisir mon mot de passe") {
		t.Errorf("invitation not in French: %+v", msg)
	}
	mustContain(t, owner.get("/staff"), "Chloé Collègue", "Invited")
	// The same email cannot be invited twice.
	r = owner.post("/staff/invite", formOf("name", "Again", "email", "CHLOE@example.org", "role", "admin", "lang", "en"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate invite: %d", r.Code)
	}
	mustContain(t, r, "already uses this email")
	// Invited but not yet active: no sign-in.
	if r := a.browser().post("/signin", formOf("email", "chloe@example.org", "password", "")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("invited account signs in: %d", r.Code)
	}

	chloe := a.browser()
	chloe.lang = "fr"
	mustContain(t, chloe.get(path), "Choisissez votre mot de passe", "chloe@example.org")
	if r := chloe.post(path, formOf("password", "short")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", r.Code)
	}
	if r := chloe.post(path, formOf("password", "le jardin de ma grand-mère")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
		t.Fatalf("set password: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, chloe.get("/signin"), "Votre mot de passe est enregistré")
	// Single use.
	if r := chloe.get(path); r.Code != http.StatusNotFound {
		t.Fatalf("used invite link: %d", r.Code)
	}
	if r := chloe.post(path, formOf("password", "another fine password")); r.Code != http.StatusNotFound {
		t.Fatalf("used invite link (POST): %d", r.Code)
	}
	c := a.signIn("chloe@example.org", "le jardin de ma grand-mère")
	mustContain(t, c.get("/"), "Bienvenue, Chloé Collègue")
}

func TestInviteExpiresAndIsReplaced(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.post("/staff/invite", formOf("name", "Sam", "email", "sam@example.org", "role", "admin", "lang", "en"))
	first, _ := a.lastInvite("sam@example.org")
	st, _ := a.st.StaffByEmail("sam@example.org")
	id := strconv.FormatUint(st.ID, 10)
	// Re-sending makes a new link; the old one stops working.
	if r := owner.post("/staff/"+id+"/reinvite", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("reinvite: %d", r.Code)
	}
	second, _ := a.lastInvite("sam@example.org")
	if first == second {
		t.Fatal("reinvite reused the link")
	}
	if r := a.browser().get(first); r.Code != http.StatusNotFound {
		t.Fatalf("replaced link: %d", r.Code)
	}
	mustContain(t, a.browser().get(second), "Choose your password")
	a.advance(72*time.Hour + time.Minute)
	r := a.browser().get(second)
	if r.Code != http.StatusGone {
		t.Fatalf("expired link: %d", r.Code)
	}
	mustContain(t, r, "This invitation has expired")
	if r := a.browser().get("/invite/" + strings.Repeat("x", 43)); r.Code != http.StatusNotFound {
		t.Fatalf("made-up link: %d", r.Code)
	}
}

func TestStaffRoles(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.addStaff("Ada Admin", "ada@example.org", store.RoleAdmin)
	pat := a.addStaff("Pat Practitioner", "pat@example.org", store.RolePractitioner)
	ownerRec, _ := a.st.StaffByEmail("owner@example.org")
	admin := a.signIn("ada@example.org", staffPassword)
	prac := a.signIn("pat@example.org", staffPassword)
	patID := strconv.FormatUint(pat.ID, 10)
	ownerID := strconv.FormatUint(ownerRec.ID, 10)

	cases := []struct {
		who    string
		b      *browser
		method string
		path   string
		status int
	}{
		{"practitioner", prac, "GET", "/staff", 403},
		{"practitioner", prac, "GET", "/outbox", 403},
		{"practitioner", prac, "GET", "/settings", 403},
		{"practitioner", prac, "GET", "/backup", 403},
		{"practitioner", prac, "POST", "/staff/invite", 403},
		{"practitioner", prac, "POST", "/staff/" + ownerID + "/deactivate", 403},
		{"practitioner", prac, "POST", "/settings", 403},
		{"admin", admin, "GET", "/staff", 200},
		{"admin", admin, "GET", "/outbox", 200},
		{"admin", admin, "GET", "/settings", 403},
		{"admin", admin, "GET", "/backup", 403},
		{"admin", admin, "POST", "/staff/" + ownerID + "/deactivate", 403},
		{"admin", admin, "POST", "/staff/" + ownerID + "/role", 403},
		{"admin", admin, "POST", "/staff/999/role", 404},
		{"owner", owner, "GET", "/settings", 200},
		{"owner", owner, "POST", "/staff/" + ownerID + "/deactivate", 403},
		{"anonymous", a.browser(), "GET", "/staff", 303},
		{"anonymous", a.browser(), "POST", "/staff/" + patID + "/deactivate", 303},
	}
	for _, tc := range cases {
		var r *resp
		if tc.method == "GET" {
			r = tc.b.get(tc.path)
		} else {
			r = tc.b.post(tc.path, formOf("role", "admin"))
		}
		if r.Code != tc.status {
			t.Errorf("%s %s %s = %d, want %d", tc.who, tc.method, tc.path, r.Code, tc.status)
		}
		if tc.status == 403 {
			mustContain(t, r, "Not allowed")
		}
	}
	// The admin promotes the practitioner, inline with HTMX: the row comes back alone.
	r := admin.post("/staff/"+patID+"/role", formOf("role", "admin"), "HX-Request", "true")
	if r.Code != http.StatusOK || strings.Contains(r.body, "<html") || !strings.Contains(r.body, `id="staff-`+patID+`"`) {
		t.Fatalf("HTMX role change: %d %s", r.Code, abbreviate(r.body))
	}
	if st, _ := a.st.Staff(pat.ID); st.Role != store.RoleAdmin {
		t.Fatalf("role = %s", st.Role)
	}
	if r := admin.post("/staff/"+patID+"/role", formOf("role", "owner")); r.Code != http.StatusBadRequest {
		t.Fatalf("promotion to owner: %d", r.Code)
	}
}

func TestDeactivateEndsSessions(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	b := a.signIn("pat@example.org", staffPassword)
	mustContain(t, b.get("/"), "Welcome, Pat")
	id := strconv.FormatUint(pat.ID, 10)
	if r := owner.post("/staff/"+id+"/deactivate", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", r.Code)
	}
	if r := b.get("/"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
		t.Fatalf("deactivated session still works: %d", r.Code)
	}
	if r := a.browser().post("/signin", formOf("email", "pat@example.org", "password", staffPassword)); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("deactivated account signs in: %d", r.Code)
	}
	owner.post("/staff/"+id+"/activate", nil)
	a.signIn("pat@example.org", staffPassword)
}
