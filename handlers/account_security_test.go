package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/auth"
	"foyer/store"
)

// TestPreHijack: someone signs up with a client's email before the client
// does. The account cannot sign in, and staff cannot link it or make a client
// of it until its email is confirmed; the dialogs say so.
func TestPreHijack(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	owner.newClient("first_name", "Léa", "last_name", "Petit", "email", "lea@example.org", "birth_date", "1979-02-03")
	attacker := a.browser()
	attacker.post("/portal/signup", formOf("first_name", "Léa", "last_name", "Petit", "email", "lea@example.org", "birth_date", "1979-02-03", "lang", "en", "password", "the attacker's password"))
	r := attacker.post("/portal", formOf("email", "lea@example.org", "password", "the attacker's password"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("unconfirmed sign-in: %d", r.Code)
	}
	// The one message for every failure names the unconfirmed case too.
	mustContain(t, r, "or the email address is not confirmed yet", `href="/portal/resend"`)
	// Associate: the match is suggested, marked unconfirmed, with no Link button.
	r = owner.get("/prospects/1/associate")
	mustContain(t, r, "Petit, Léa", "not verified", "Nobody has confirmed lea@example.org yet")
	mustNotContain(t, r, `method="post" action="/prospects/1/associate"`, "Link to Léa")
	r = owner.post("/prospects/1/associate", formOf("client_id", "1"))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/prospects" {
		t.Fatalf("associate an unconfirmed account: %d %s", r.Code, r.Header().Get("Location"))
	}
	mustContain(t, owner.get("/prospects"), "not confirmed yet: it cannot be linked")
	if cl, _ := a.st.Client(1); cl.AccountID != 0 {
		t.Fatal("the unconfirmed account was linked")
	}
	// Add client: the dialog says the same and has no form to save.
	r = owner.get("/prospects/1/create")
	mustContain(t, r, "not verified", "Nobody has confirmed lea@example.org yet")
	mustNotContain(t, r, `action="/prospects/1/create"`)
	owner.post("/prospects/1/create", formOf("first_name", "Léa", "last_name", "Petit", "lang", "en", "practitioner", "1"))
	if _, total, _ := a.st.SearchClients(store.ClientFilter{Limit: 10}); total != 1 {
		t.Fatalf("%d clients: one was made from an unconfirmed account", total)
	}
	// Once confirmed (here by staff, after checking), the dialogs show it and link.
	owner.post("/prospects/1/verify", nil)
	r = owner.get("/prospects/1/associate")
	mustContain(t, r, "was marked verified by the practice", "Link to Léa")
	if r := owner.post("/prospects/1/associate", formOf("client_id", "1")); r.Header().Get("Location") != "/clients/1" {
		t.Fatalf("associate a confirmed account: %d %s", r.Code, r.Header().Get("Location"))
	}
}

// TestUnconfirmedSessionEnds: a session an unconfirmed account holds (from
// before sign-in refused them) no longer opens the portal.
func TestUnconfirmedSessionEnds(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	_, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	a.st.UpdateAccount(1, func(x *store.Account) error { x.Verified = false; return nil })
	if r := client.get("/portal/account"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/portal" {
		t.Fatalf("unconfirmed account's session: %d %s", r.Code, r.Header().Get("Location"))
	}
}

// TestSignInAlwaysHashes: staff and portal sign-ins verify an argon2 hash
// whatever the account's state, so timing does not tell the states apart.
func TestSignInAlwaysHashes(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	gone := a.addStaff("Gone", "gone@example.org", store.RolePractitioner)
	a.st.UpdateStaff(gone.ID, func(st *store.Staff) error { st.Active = false; return nil })
	owner.post("/staff/invite", formOf("name", "New", "email", "new@example.org", "role", "practitioner", "lang", "en"))
	a.browser().post("/portal/signup", formOf("first_name", "Z", "last_name", "M", "email", "zoe@example.org", "lang", "en", "password", "zoe's long password"))
	for _, try := range []struct{ path, email, password string }{
		{"/signin", "nobody@example.org", "whatever password"},
		{"/signin", "gone@example.org", staffPassword},
		{"/signin", "new@example.org", "whatever password"},
		{"/portal", "nobody@example.org", "whatever password"},
		{"/portal", "zoe@example.org", "zoe's long password"},
	} {
		b := a.browser()
		b.csrf()
		before := auth.Derivations()
		r := b.post(try.path, formOf("email", try.email, "password", try.password))
		if r.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s %s: %d", try.path, try.email, r.Code)
		}
		if n := auth.Derivations() - before; n != 1 {
			t.Errorf("%s %s: %d argon2 derivations, want 1", try.path, try.email, n)
		}
	}
}

// TestForgotOffRequestPath: the reset link is made and mailed after the
// answer, so a known email answers as fast as an unknown one.
func TestForgotOffRequestPath(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	var pending []func()
	a.h.spawn = func(fn func()) { pending = append(pending, fn) }
	a.holdLater = true
	before, _ := a.st.ListMessages(0, 100)
	r := a.browser().post("/portal/forgot", formOf("email", "eloise@example.org"))
	if r.Code != http.StatusOK {
		t.Fatalf("forgot: %d", r.Code)
	}
	if now, _ := a.st.ListMessages(0, 100); len(now) != len(before) {
		t.Fatal("the reset email was written before the answer")
	}
	a.browser().post("/portal/forgot", formOf("email", "nobody@example.org"))
	if len(pending) != 2 {
		t.Fatalf("%d pieces of work left for later, want 2 (known and unknown alike)", len(pending))
	}
	for _, fn := range pending {
		fn()
	}
	if now, _ := a.st.ListMessages(0, 100); len(now) != len(before)+1 {
		t.Fatalf("%d new messages after the work ran, want 1", len(now)-len(before))
	}
}

// TestSignupExistsLimited: signing up again and again with an address that
// has an account sends its owner a few "you already have an account" emails, not one each time.
func TestSignupExistsLimited(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	for i := range 10 {
		b := a.browser()
		b.ip = "203.0.113." + itoa(uint64(i+1)) + ":1"
		r := b.post("/portal/signup", formOf("first_name", "E", "last_name", "D", "email", "eloise@example.org", "lang", "en", "password", "someone's long password"))
		if r.Code != http.StatusOK {
			t.Fatalf("sign-up %d: %d", i, r.Code)
		}
	}
	msgs, _ := a.st.ListMessages(0, 100)
	n := 0
	for _, m := range msgs {
		if m.To == "eloise@example.org" && m.Kind == "portal_exists" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d \"account exists\" emails after 10 sign-ups, want 2", n)
	}
	// Hours later the owner hears of it again.
	a.advance(7 * time.Hour)
	a.browser().post("/portal/signup", formOf("first_name", "E", "last_name", "D", "email", "eloise@example.org", "lang", "en", "password", "someone's long password"))
	if msgs2, _ := a.st.ListMessages(0, 100); len(msgs2) != len(msgs)+1 {
		t.Fatal("no email after the limit refilled")
	}
}

// TestPortalAccessEnds: "Remove portal access" and archiving a client both
// end the client's sessions and sign-in, and void their links.
func TestPortalAccessEnds(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	a.browser().post("/portal/forgot", formOf("email", "eloise@example.org"))
	link := a.lastLink("eloise@example.org")
	mustContain(t, owner.get(path), `action="`+path+`/portal/remove"`, "Remove portal access")
	if r := owner.post(path+"/portal/remove", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("remove portal access: %d", r.Code)
	}
	mustContain(t, owner.get(path), "The portal access is removed", "This client has no portal account yet")
	if r := client.get("/portal/account"); r.Code != http.StatusSeeOther {
		t.Fatalf("the session survived: %d", r.Code)
	}
	if r := a.browser().post("/portal", formOf("email", "eloise@example.org", "password", "bienvenue au cabinet")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("sign-in after removal: %d", r.Code)
	}
	if r := a.browser().get(link); r.Code != http.StatusNotFound {
		t.Fatalf("a reset link survived the removal: %d", r.Code)
	}
	// Given again, then the client is archived: the same happens.
	owner.post(path+"/portal", formOf("portal_email", "eloise@example.org", "portal_password", "bienvenue au cabinet"))
	client = a.browser()
	if r := client.post("/portal", formOf("email", "eloise@example.org", "password", "bienvenue au cabinet")); r.Code != http.StatusSeeOther {
		t.Fatalf("sign in again: %d", r.Code)
	}
	owner.post(path+"/archive", nil)
	if r := client.get("/portal/account"); r.Code != http.StatusSeeOther {
		t.Fatalf("an archived client's session survived: %d", r.Code)
	}
	if r := a.browser().post("/portal", formOf("email", "eloise@example.org", "password", "bienvenue au cabinet")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("an archived client signs in: %d", r.Code)
	}
	// An archived client cannot be given access; restored, they can.
	r := owner.post(path+"/portal", formOf("portal_email", "eloise@example.org", "portal_password", "bienvenue au cabinet"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("portal access for an archived client: %d", r.Code)
	}
	mustContain(t, r, "An archived client has no portal access")
	owner.post(path+"/restore", nil)
	if r := owner.post(path+"/portal", formOf("portal_email", "eloise@example.org", "portal_password", "bienvenue au cabinet")); r.Code != http.StatusSeeOther {
		t.Fatalf("portal access once restored: %d", r.Code)
	}
}

// TestHistoryRestoreGetsWholePage: Back after a search makes htmx ask again
// for a page it no longer has, with HX-Request set: it gets the whole page.
func TestHistoryRestoreGetsWholePage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.newClient()
	r := owner.get("/clients?q=dur", "HX-Request", "true", "HX-History-Restore-Request", "true")
	mustContain(t, r, "<!doctype html>", `<nav`, "Durand")
	if !strings.Contains(strings.Join(r.Header().Values("Vary"), ","), "HX-History-Restore-Request") {
		t.Errorf("Vary = %q", r.Header().Values("Vary"))
	}
}

// TestPractitionerEditsOwnAppointment: a practitioner who is not an admin
// changes the time of their own session; it stays theirs.
func TestPractitionerEditsOwnAppointment(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	sam := a.addStaff("Sam", "sam@example.org", store.RolePractitioner)
	path := owner.newClient("practitioner", itoa(sam.ID))
	owner.post(path+"/appointments", formOf("date", "2026-12-01", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", itoa(pat.ID)))
	pb := a.signIn("pat@example.org", staffPassword)
	r := pb.post("/appointments/1", formOf("date", "2026-12-01", "time", "11:00", "minutes", "50", "kind", "video", "fee", "80"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("edit own appointment: %d %s", r.Code, abbreviate(r.body))
	}
	if ap, _ := a.st.Appointment(1); ap.PractitionerID != pat.ID {
		t.Fatalf("the appointment went to practitioner %d", ap.PractitionerID)
	}
	if r := pb.get("/appointments/1/edit"); r.Code != http.StatusOK {
		t.Fatalf("the appointment is no longer reachable: %d", r.Code)
	}
}
