package handlers

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

var portalLink = regexp.MustCompile(`http://localhost:8080(/portal/(?:verify|reset)/[A-Za-z0-9_-]{43})`)

// lastLink returns the newest /portal/... link emailed to someone.
func (a *testApp) lastLink(to string) string {
	a.t.Helper()
	a.h.Wait()
	msgs, _ := a.st.ListMessages(0, 200)
	for _, m := range msgs {
		if m.To == to {
			if l := portalLink.FindStringSubmatch(a.sent(m).Text); l != nil {
				return l[1]
			}
		}
	}
	a.t.Fatalf("no portal link emailed to %s", to)
	return ""
}

func (a *testApp) enableSignup(owner *browser) {
	a.t.Helper()
	r := owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR",
		"brand_color", "#2f5d62", "currency", "EUR", "allow_signup", "1"))
	if r.Code != http.StatusSeeOther {
		a.t.Fatalf("enable sign-up: %d %s", r.Code, abbreviate(r.body))
	}
}

// clientWithPortal creates a client whose portal access was set by staff (method 1).
func (a *testApp) clientWithPortal(owner *browser, email, password string, fields ...string) (string, *browser) {
	a.t.Helper()
	path := owner.newClient(append([]string{"email", email}, fields...)...)
	if r := owner.post(path+"/portal", formOf("portal_email", email, "portal_password", password)); r.Code != http.StatusSeeOther {
		a.t.Fatalf("portal access: %d", r.Code)
	}
	c := a.browser()
	if r := c.post("/portal", formOf("email", email, "password", password)); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/portal/account" {
		a.t.Fatalf("portal sign-in: %d %s", r.Code, abbreviate(r.body))
	}
	return path, c
}

func TestPortalMethod1(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	owner.post(path+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "80", "practitioner", "1"))
	owner.post(path+"/appointments", formOf("date", "2026-12-03", "time", "14:00", "minutes", "45", "kind", "video", "fee", "95,50", "practitioner", "1"))
	owner.post("/appointments/1/status", formOf("action", "attended"))
	owner.post("/appointments/1/status", formOf("action", "paid"))
	r := client.get("/portal/account")
	mustContain(t, r, "Bonjour Éloïse", "Votre prochaine séance", "3\u00a0décembre 2026 à\u00a014:00", "20\u00a0novembre 2026 à\u00a009:30", "Reçu nº 1", "/portal/receipts/1")
	mustNotContain(t, r, "Olive Owner</span>") // the staff menu is not on portal pages
	// The client updates phone, address and language; the name stays as the practice set it.
	r = client.post("/portal/account", formOf("phone_0", "06 98 76 54 32", "phone_0_type", "mobile", "address", "1 place Neuve", "lang", "en", "first_name", "Hacker"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("update details: %d %s", r.Code, abbreviate(r.body))
	}
	cl, _ := a.st.Client(1)
	if cl.FirstName != "Éloïse" || cl.Address != "1 place Neuve" || cl.Lang != "en" || cl.Phones[0].Number != "+33698765432" {
		t.Fatalf("client after update: %+v", cl)
	}
	mustContain(t, client.get("/portal/account"), "Hello Éloïse", "Your next session")
	// Bad input keeps what was typed and saves nothing.
	r = client.post("/portal/account", formOf("phone_0", "12", "phone_0_type", "mobile", "address", "Somewhere else", "lang", "en"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad phone: %d", r.Code)
	}
	mustContain(t, r, "This number is not valid", "Somewhere else")
	if cl, _ := a.st.Client(1); cl.Address != "1 place Neuve" {
		t.Fatal("an invalid update was saved")
	}
	// Change password.
	if r := client.post("/portal/password", formOf("current", "wrong", "new", "un nouveau mot de passe")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password: %d", r.Code)
	}
	if r := client.post("/portal/password", formOf("current", "bienvenue au cabinet", "new", "un nouveau mot de passe")); r.Code != http.StatusSeeOther {
		t.Fatalf("change password: %d", r.Code)
	}
	client.post("/portal/signout", nil)
	if r := client.get("/portal/account"); r.Code != http.StatusSeeOther {
		t.Fatalf("signed out but still in: %d", r.Code)
	}
	if r := a.browser().post("/portal", formOf("email", "eloise@example.org", "password", "bienvenue au cabinet")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("old password still works: %d", r.Code)
	}
	// A portal session is not a staff session.
	c2 := a.browser()
	c2.post("/portal", formOf("email", "eloise@example.org", "password", "un nouveau mot de passe"))
	for _, p := range []string{"/", "/clients", "/clients/1", "/appointments/1/receipt.pdf"} {
		if r := c2.get(p); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
			t.Errorf("client on staff page %s: %d %s", p, r.Code, r.Header().Get("Location"))
		}
	}
}

// TestPortalIsolation: every portal URL refuses another client's IDs.
func TestPortalIsolation(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	p1, alice := a.clientWithPortal(owner, "alice@example.org", "alice's long password", "first_name", "Alice", "last_name", "Martin")
	p2, bob := a.clientWithPortal(owner, "bob@example.org", "bob's long password", "first_name", "Bob", "last_name", "Roux")
	owner.post(p1+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "80", "practitioner", "1"))
	owner.post(p2+"/appointments", formOf("date", "2026-11-21", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "120", "practitioner", "1"))
	owner.post("/appointments/1/status", formOf("action", "paid"))
	owner.post("/appointments/2/status", formOf("action", "paid"))
	if r := alice.get("/portal/receipts/1"); r.Code != 200 || r.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("own receipt: %d %s", r.Code, r.Header().Get("Content-Type"))
	}
	for _, path := range []string{"/portal/receipts/2", "/portal/receipts/3", "/portal/receipts/0", "/portal/receipts/x"} {
		if r := alice.get(path); r.Code != http.StatusNotFound {
			t.Errorf("alice GET %s = %d, want 404", path, r.Code)
		}
	}
	// The 404 leads back to the portal, not to the staff sign-in.
	mustContain(t, alice.get("/portal/receipts/2"), `href="/portal"`, "Page introuvable")
	r := alice.get("/portal/account")
	mustNotContain(t, r, "Bob", "Roux", "120")
	mustContain(t, bob.get("/portal/account"), "Bob")
	// Posted IDs are ignored: the account page only ever writes the signed-in client.
	alice.post("/portal/account", formOf("id", "2", "client_id", "2", "address", "Alice's address", "lang", "fr"))
	if cl, _ := a.st.Client(2); cl.Address == "Alice's address" {
		t.Fatal("alice changed bob's record")
	}
}

func TestPortalMethod2SignupAndProspects(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	visitor := a.browser()
	visitor.lang = "fr"
	r := visitor.get("/portal/signup")
	mustContain(t, r, "ne propose pas la création de compte en ligne")
	if r := visitor.post("/portal/signup", formOf("first_name", "Zoé")); r.Code != http.StatusForbidden {
		t.Fatalf("sign-up while closed: %d", r.Code)
	}
	a.enableSignup(owner)
	mustContain(t, visitor.get("/portal"), "Créer un compte")
	f := formOf("first_name", "Zoé", "last_name", "Martin", "email", "zoe@example.org", "phone", "06 11 11 11 11", "birth_date", "1990-04-01", "lang", "fr", "password", "mon mot de passe à moi")
	r = visitor.post("/portal/signup", f)
	if r.Code != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, r, "Consultez vos e-mails", "zoe@example.org")
	// Signing up again with the same email looks the same, and creates nothing.
	f.Del("_csrf")
	r = a.browser().post("/portal/signup", f)
	mustContain(t, r, "zoe@example.org")
	if _, total, _ := a.st.SearchProspects(store.ProspectFilter{Limit: 10}); total != 1 {
		t.Fatalf("%d prospects", total)
	}
	// Unconfirmed: signing in answers exactly as a wrong password does.
	c := a.browser()
	c.lang = "fr"
	right := c.post("/portal", formOf("email", "zoe@example.org", "password", "mon mot de passe à moi"))
	wrong := c.post("/portal", formOf("email", "zoe@example.org", "password", "pas le bon mot de passe"))
	if right.Code != http.StatusUnprocessableEntity || right.body != wrong.body {
		t.Fatalf("unconfirmed sign-in: %d, and the page differs from a wrong password's: %v", right.Code, right.body != wrong.body)
	}
	if r := c.get("/portal/account"); r.Code != http.StatusSeeOther {
		t.Fatalf("an unconfirmed account got a session: %d", r.Code)
	}
	// A new link is asked for from a page that answers the same for every email.
	mustContain(t, c.get("/portal"), `href="/portal/resend"`)
	known := c.post("/portal/resend", formOf("email", "zoe@example.org"))
	unknown := c.post("/portal/resend", formOf("email", "nobody@example.org"))
	if known.Code != http.StatusOK || strings.ReplaceAll(known.body, "zoe@example.org", "X") != strings.ReplaceAll(unknown.body, "nobody@example.org", "X") {
		t.Fatalf("resend answers differ: %d %d", known.Code, unknown.Code)
	}
	link := a.lastLink("zoe@example.org")
	// Opening the link changes nothing (mail scanners open links); the button does.
	mustContain(t, c.get(link), "Confirmer mon adresse")
	if acct, _ := a.st.AccountByEmail("zoe@example.org"); acct.Verified {
		t.Fatal("a GET verified the account")
	}
	if r := c.post(link, formOf("password", "mon mot de passe à moi")); r.Code != http.StatusSeeOther {
		t.Fatalf("verify: %d %s", r.Code, abbreviate(r.body))
	}
	if r := c.post(link, formOf("password", "mon mot de passe à moi")); r.Code != http.StatusNotFound {
		t.Fatalf("second use of the link: %d", r.Code)
	}
	if r := c.post("/portal", formOf("email", "zoe@example.org", "password", "mon mot de passe à moi")); r.Code != http.StatusSeeOther {
		t.Fatalf("sign-in once confirmed: %d", r.Code)
	}
	mustContain(t, c.get("/portal/account"), "Votre compte est presque prêt")

	// The prospect appears for admins; practitioners get 403 on the page and every action.
	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	_ = pat
	pb := a.signIn("pat@example.org", staffPassword)
	for _, req := range []struct{ m, p string }{{"GET", "/prospects"}, {"GET", "/prospects/action?id=1&do=create"}, {"POST", "/prospects/1/verify"},
		{"GET", "/prospects/1/create"}, {"POST", "/prospects/1/create"}, {"GET", "/prospects/1/associate"}, {"POST", "/prospects/1/associate"},
		{"GET", "/prospects/1/delete"}, {"POST", "/prospects/1/delete"}} {
		var r *resp
		if req.m == "GET" {
			r = pb.get(req.p)
		} else {
			r = pb.post(req.p, formOf("client_id", "1", "first_name", "X", "last_name", "Y", "lang", "fr"))
		}
		if r.Code != http.StatusForbidden {
			t.Errorf("practitioner %s %s = %d, want 403", req.m, req.p, r.Code)
		}
	}
	r = owner.get("/prospects")
	mustContain(t, r, "Zoé Martin", "zoe@example.org", "06 11 11 11 11", "April\u00a01, 1990", "verified")
	r = owner.get("/prospects?q=martin&verified=yes", "HX-Request", "true", "HX-Target", "prospect-results")
	if strings.Contains(r.body, "<html") {
		t.Fatal("HTMX list got the whole page")
	}
	mustContain(t, r, "Zoé Martin")
	mustNotContain(t, owner.get("/prospects?verified=no"), "Zoé Martin")

	// Create client from the prospect: the dialog is pre-filled; saving links the account.
	r = owner.get("/prospects/action?id=1&do=create", "HX-Request", "true", "HX-Target", "dialog")
	mustContain(t, r, `role="dialog"`, `value="Zoé"`, `value="Martin"`, `value="zoe@example.org"`, `value="06 11 11 11 11"`, `value="1990-04-01"`)
	r = owner.post("/prospects/1/create", formOf("first_name", "Zoé", "last_name", "Martin", "email", "zoe@example.org", "lang", "fr", "practitioner", itoa(pat.ID),
		"phone_0", "06 11 11 11 11", "phone_0_type", "mobile", "birth_date", "1990-04-01"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("create from prospect: %d %s", r.Code, abbreviate(r.body))
	}
	mustNotContain(t, owner.get("/prospects"), "Zoé Martin")
	mustContain(t, owner.get(r.Header().Get("Location")), "Portal account: zoe@example.org")
	mustContain(t, c.get("/portal/account"), "Bonjour Zoé", "Votre prochaine séance")
}

func TestProspectVerifyInlineAndAssociate(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	existing := owner.newClient("first_name", "Léa", "last_name", "Petit", "email", "lea.petit@example.org", "birth_date", "1979-02-03", "phone_0", "06 22 22 22 22")
	v := a.browser()
	v.post("/portal/signup", formOf("first_name", "Lea", "last_name", "Petit", "email", "lea@example.org", "birth_date", "1979-02-03", "lang", "en", "password", "lea has a long password"))
	// Verify inline: the row comes back alone, now verified.
	r := owner.post("/prospects/1/verify", nil, "HX-Request", "true")
	if r.Code != 200 || !strings.HasPrefix(strings.TrimSpace(r.body), `<tr id="prospect-1">`) || !strings.Contains(r.body, "verified") {
		t.Fatalf("inline verify: %d %s", r.Code, abbreviate(r.body))
	}
	// The row alone carries the same words as in the list.
	mustContain(t, r, `data-label="Email"`, "Select Lea Petit", "Actions for Lea Petit", "February\u00a03, 1979")
	if acct, _ := a.st.Account(1); !acct.Verified || acct.VerifiedBy != "staff" {
		t.Fatalf("account after verify: %+v", acct)
	}
	// Associate: the likely match is suggested before any search.
	r = owner.get("/prospects/1/associate")
	mustContain(t, r, "Likely matches", "Petit, Léa", "Link to Léa")
	r = owner.get("/prospects/1/associate?q=pet", "HX-Request", "true", "HX-Target", "assoc-results")
	mustContain(t, r, "Petit, Léa")
	if r := owner.post("/prospects/1/associate", formOf("client_id", "99")); r.Code != http.StatusNotFound {
		t.Fatalf("associate with a missing client: %d", r.Code)
	}
	if r := owner.post("/prospects/1/associate", formOf("client_id", "1")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != existing {
		t.Fatalf("associate: %d %s", r.Code, r.Header().Get("Location"))
	}
	mustNotContain(t, owner.get("/prospects"), "lea@example.org")
	// A linked account is no longer a prospect: its actions are 404.
	if r := owner.post("/prospects/1/verify", nil); r.Code != http.StatusNotFound {
		t.Fatalf("verify a linked account: %d", r.Code)
	}
	// Choosing two prospects for one action asks for one.
	v2 := a.browser()
	v2.post("/portal/signup", formOf("first_name", "A", "last_name", "B", "email", "ab@example.org", "lang", "en", "password", "another long password"))
	v3 := a.browser()
	v3.ip = "192.0.2.77:1"
	v3.post("/portal/signup", formOf("first_name", "C", "last_name", "D", "email", "cd@example.org", "lang", "en", "password", "another long password"))
	if r := owner.get("/prospects/action?id=2&id=3&do=create"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/prospects" {
		t.Fatalf("two selected: %d %s", r.Code, r.Header().Get("Location"))
	}
}

// TestDeleteProspect: an admin deletes an unwanted sign-up after a
// confirmation; the person can no longer sign in, and may sign up again.
func TestDeleteProspect(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	bot := a.browser()
	bot.post("/portal/signup", formOf("first_name", "Spam", "last_name", "Bot", "email", "bot@example.org", "lang", "en", "password", "a bot with a long password"))
	a.st.UpdateAccount(1, func(x *store.Account) error { x.Verified = true; return nil })
	if r := bot.post("/portal", formOf("email", "bot@example.org", "password", "a bot with a long password")); r.Code != http.StatusSeeOther {
		t.Fatalf("bot sign-in: %d", r.Code)
	}
	r := owner.get("/prospects/action?id=1&do=delete", "HX-Request", "true", "HX-Target", "dialog")
	mustContain(t, r, `role="dialog"`, "Delete this sign-up?", "Spam Bot (bot@example.org)", `action="/prospects/1/delete"`)
	mustNotContain(t, r, "<html")
	if r := owner.get("/prospects/action?id=1&do=delete"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/prospects/1/delete" {
		t.Fatalf("without HTMX: %d %s", r.Code, r.Header().Get("Location"))
	}
	mustContain(t, owner.get("/prospects/1/delete"), "<html", "Delete the account")
	// Deleting needs the CSRF token like every change.
	if r := owner.post("/prospects/1/delete", formOf("_csrf", "forged")); r.Code != http.StatusForbidden {
		t.Fatalf("delete without CSRF: %d", r.Code)
	}
	r = owner.post("/prospects/1/delete", nil)
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/prospects" {
		t.Fatalf("delete: %d %s", r.Code, r.Header().Get("Location"))
	}
	mustContain(t, owner.get("/prospects"), "The sign-up is deleted.", "No prospect right now.")
	if r := bot.get("/portal/account"); r.Code != http.StatusSeeOther {
		t.Fatalf("the deleted account's session still works: %d", r.Code)
	}
	if r := owner.post("/prospects/1/delete", nil); r.Code != http.StatusNotFound {
		t.Fatalf("delete twice: %d", r.Code)
	}
	// A client's account is not a prospect: it cannot be deleted from here.
	_, _ = a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	acct, _ := a.st.AccountByEmail("eloise@example.org")
	if r := owner.post("/prospects/"+itoa(acct.ID)+"/delete", nil); r.Code != http.StatusNotFound {
		t.Fatalf("delete a client's account: %d", r.Code)
	}
}

func TestForgotPassword(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	b := a.browser()
	known := b.post("/portal/forgot", formOf("email", "eloise@example.org"))
	unknown := b.post("/portal/forgot", formOf("email", "nobody@example.org"))
	if known.Code != 200 || unknown.Code != 200 {
		t.Fatalf("forgot: %d %d", known.Code, unknown.Code)
	}
	// The answer does not tell whether the email is known.
	if strings.ReplaceAll(known.body, "eloise@example.org", "X") != strings.ReplaceAll(unknown.body, "nobody@example.org", "X") {
		t.Fatal("the replies differ for known and unknown emails")
	}
	link := a.lastLink("eloise@example.org")
	mustContain(t, b.get(link), "Choose a new password")
	if r := b.post(link, formOf("password", "password1")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("common password: %d", r.Code)
	}
	if r := b.post(link, formOf("password", "un tout nouveau mot de passe")); r.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.Code)
	}
	if r := b.get(link); r.Code != http.StatusNotFound {
		t.Fatalf("used link: %d", r.Code)
	}
	a.browser().post("/portal", formOf("email", "eloise@example.org", "password", "un tout nouveau mot de passe"))
	// An hour later a fresh link no longer works.
	b.post("/portal/forgot", formOf("email", "eloise@example.org"))
	link = a.lastLink("eloise@example.org")
	a.advance(61 * time.Minute)
	if r := b.get(link); r.Code != http.StatusGone {
		t.Fatalf("expired link: %d", r.Code)
	}
	// Rate limited per email.
	var last *resp
	for range 5 {
		last = a.browser().post("/portal/forgot", formOf("email", "eloise@example.org"))
	}
	if last.Code != http.StatusTooManyRequests {
		t.Fatalf("forgot flood: %d", last.Code)
	}
}

func TestPortalSignInLimits(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	var last *resp
	guesser := a.browser()
	guesser.ip = "203.0.113.1:1"
	for range 6 {
		last = guesser.post("/portal", formOf("email", "eloise@example.org", "password", "wrong"))
	}
	if last.Code != http.StatusTooManyRequests {
		t.Fatalf("6 wrong passwords: %d", last.Code)
	}
	// The guesses from one address do not lock the client out from hers.
	var slept []time.Duration
	a.h.sleep = func(_ context.Context, d time.Duration) { slept = append(slept, d) }
	if r := a.browser().post("/portal", formOf("email", "eloise@example.org", "password", "bienvenue au cabinet")); r.Code != http.StatusSeeOther {
		t.Fatalf("the client from her own address: %d", r.Code)
	}
	if len(slept) != 1 || slept[0] < time.Second {
		t.Fatalf("no delay after 6 failures: %v", slept)
	}
	// Sign-up is limited per address.
	a.enableSignup(owner)
	b := a.browser()
	b.ip = "198.51.100.50:1"
	var code int
	for i := range 7 {
		code = b.post("/portal/signup", formOf("first_name", "A", "last_name", "B", "email", "s"+itoa(uint64(i))+"@example.org", "lang", "en", "password", "a long enough password")).Code
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("7 sign-ups from one address: %d", code)
	}
}

func TestReminders(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient("email", "eloise@example.org", "lang", "fr")
	// 2026-11-26 10:00 Paris = 09:00 UTC, 23 hours after the test clock (2026-11-25 10:00 UTC).
	owner.post(path+"/appointments", formOf("date", "2026-11-26", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	owner.post(path+"/appointments", formOf("date", "2026-11-28", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	n, err := a.jobs.SendReminders(a.now())
	if err != nil || n != 1 {
		t.Fatalf("reminders: %d %v", n, err)
	}
	msgs, _ := a.st.ListMessages(0, 10)
	m := a.sent(msgs[0])
	if m.To != "eloise@example.org" || m.Lang != "fr" || !strings.Contains(m.Subject, "Rappel\u00a0: votre séance du 26\u00a0novembre 2026 à\u00a010:00") || !strings.Contains(m.Text, "séance en vidéo avec Olive Owner") {
		t.Fatalf("reminder: %+v", m)
	}
	if n, _ := a.jobs.SendReminders(a.now()); n != 0 {
		t.Fatal("the reminder went twice")
	}
	a.advance(48 * time.Hour)
	if n, _ := a.jobs.SendReminders(a.now()); n != 1 {
		t.Fatal("the second reminder did not go")
	}
}

func TestRescheduleAppointment(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient("email", "eloise@example.org")
	owner.post(path+"/appointments", formOf("date", "2026-11-26", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80,5", "practitioner", "1"))
	if n, _ := a.jobs.SendReminders(a.now()); n != 1 {
		t.Fatal("no reminder for tomorrow's session")
	}
	r := owner.get("/appointments/1/edit")
	mustContain(t, r, `value="2026-11-26"`, `value="10:00"`, `value="80.50"`, "Change the appointment")
	r = owner.post("/appointments/1", formOf("date", "2026-11-26", "time", "25:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad time: %d", r.Code)
	}
	mustContain(t, r, "Enter a time such as 14:30.", `value="25:00"`)
	if r := owner.post("/appointments/1", formOf("date", "2026-11-27", "time", "16:30", "minutes", "60", "kind", "in_person", "fee", "90", "practitioner", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("reschedule: %d %s", r.Code, abbreviate(r.body))
	}
	ap, _ := a.st.Appointment(1)
	if ap.Start != time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC) || ap.Minutes != 60 || ap.Kind != store.KindInPerson || ap.FeeCents != 9000 || ap.ReminderSent {
		t.Fatalf("after reschedule: %+v", ap)
	}
	// The new time gets its own reminder, 24 hours before it.
	a.advance(30 * time.Hour)
	if n, _ := a.jobs.SendReminders(a.now()); n != 1 {
		t.Fatal("no reminder for the new time")
	}
}

// Portal access with the email of a confirmed sign-up waiting under
// Prospects says so, and an owner or admin gets the way to link it there;
// a practitioner, who cannot, is told whom to ask.
func TestPortalAccessToAProspectsEmailPointsToProspects(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	a.signUpAs("fanny@example.org", "le mot de passe de Fanny")
	link := a.lastLink("fanny@example.org")
	if r := a.browser().post(link, formOf("password", "le mot de passe de Fanny")); r.Code != http.StatusSeeOther {
		t.Fatalf("confirm the sign-up: %d %s", r.Code, abbreviate(r.body))
	}
	prospect, err := a.st.AccountByEmail("fanny@example.org")
	if err != nil {
		t.Fatal(err)
	}
	path := owner.newClient("first_name", "Fanny", "last_name", "Faure", "email", "fanny@example.org")
	r := owner.post(path+"/portal", formOf("portal_email", "fanny@example.org", "portal_password", "a starting password"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("portal access with a prospect's email: %d", r.Code)
	}
	associate := fmt.Sprintf("/prospects/%d/associate?q=Fanny+Faure", prospect.ID)
	mustContain(t, r, "This email belongs to a confirmed sign-up waiting under Prospects", `href="`+strings.ReplaceAll(associate, "+", "&#43;")+`"`, "Link the sign-up to this client under Prospects")
	mustNotContain(t, r, "Another portal account already uses this email.")
	mustContain(t, owner.get(associate), "Fanny Faure")

	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	pb := a.signIn("pat@example.org", staffPassword)
	path = pb.newClient("first_name", "Fanny", "last_name", "Faure", "email", "fanny@example.org", "practitioner", itoa(pat.ID))
	r = pb.post(path+"/portal", formOf("portal_email", "fanny@example.org", "portal_password", "a starting password"))
	mustContain(t, r, "This email belongs to a confirmed sign-up waiting under Prospects", "Ask an owner or an admin to link it to this client there")
	mustNotContain(t, r, "/prospects/")
}
