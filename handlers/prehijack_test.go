package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// signUpAs signs someone up for the portal with email and password, in English.
func (a *testApp) signUpAs(email, password string) {
	a.t.Helper()
	v := a.browser()
	v.lang = "en"
	r := v.post("/portal/signup", formOf("first_name", "Mallory", "last_name", "Early", "email", email, "lang", "en", "password", password))
	if r.Code != http.StatusOK {
		a.t.Fatalf("sign-up: %d %s", r.Code, abbreviate(r.body))
	}
}

func (a *testApp) verified(email string) bool {
	a.t.Helper()
	acct, err := a.st.AccountByEmail(email)
	if err != nil {
		a.t.Fatal(err)
	}
	return acct.Verified
}

// TestVerifyNeedsPassword: the confirmation link confirms only with the
// password chosen at sign-up; a wrong one says so beside the field and
// leaves the link usable.
func TestVerifyNeedsPassword(t *testing.T) {
	t.Parallel()
	a, link, c := signedUp(t, "zoe@example.org", "mon mot de passe à moi")
	mustContain(t, c.get(link), "Enter the password you chose when signing up", `autocomplete="current-password"`,
		"If you did not create an account, ignore the email", `href="/portal/forgot"`)
	r := c.post(link, nil)
	if r.Code != http.StatusUnprocessableEntity || a.verified("zoe@example.org") {
		t.Fatalf("no password: %d, verified %v", r.Code, a.verified("zoe@example.org"))
	}
	r = c.post(link, formOf("password", "not the password"))
	if r.Code != http.StatusUnprocessableEntity || a.verified("zoe@example.org") {
		t.Fatalf("wrong password: %d, verified %v", r.Code, a.verified("zoe@example.org"))
	}
	mustContain(t, r, "This is not the password chosen when signing up", `aria-invalid="true"`)
	mustNotContain(t, r, "not the password\"") // a password is never echoed back
	c.lang = "fr"
	mustContain(t, c.post(link, formOf("password", "pas le mot de passe")), "Ce n’est pas le mot de passe choisi")
	// The link still works with the right password, once.
	if r := c.post(link, formOf("password", "mon mot de passe à moi")); r.Code != http.StatusSeeOther || !a.verified("zoe@example.org") {
		t.Fatalf("right password: %d %s", r.Code, abbreviate(r.body))
	}
	acct, _ := a.st.AccountByEmail("zoe@example.org")
	if acct.VerifiedBy != "email" {
		t.Fatalf("verified by %q", acct.VerifiedBy)
	}
	if r := c.post(link, formOf("password", "mon mot de passe à moi")); r.Code != http.StatusNotFound {
		t.Fatalf("second use: %d", r.Code)
	}
}

// TestVerifyPreHijack: someone signs up first with a client's email; the
// client, who does not know that password, cannot turn the account into a
// verified one the stranger could sign in to. A reset is the client's way in,
// and it replaces the stranger's password.
func TestVerifyPreHijack(t *testing.T) {
	t.Parallel()
	a, link, victim := signedUp(t, "eloise@example.org", "the attacker's password")
	victim.get(link)
	for _, pw := range []string{"bienvenue au cabinet", "my usual password"} {
		if r := victim.post(link, formOf("password", pw)); r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("victim's guess %q: %d", pw, r.Code)
		}
	}
	if a.verified("eloise@example.org") {
		t.Fatal("the stranger's account was confirmed without its password")
	}
	attacker := a.browser()
	if r := attacker.post("/portal", formOf("email", "eloise@example.org", "password", "the attacker's password")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("the stranger signed in: %d", r.Code)
	}
	// The client resets the password instead: confirmed, and the stranger's password is dead.
	victim.post("/portal/forgot", formOf("email", "eloise@example.org"))
	reset := a.lastLink("eloise@example.org")
	if r := victim.post(reset, formOf("password", "un tout nouveau mot de passe")); r.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", r.Code, abbreviate(r.body))
	}
	if !a.verified("eloise@example.org") {
		t.Fatal("a reset by the inbox owner did not confirm")
	}
	if r := a.browser().post("/portal", formOf("email", "eloise@example.org", "password", "the attacker's password")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("the stranger's password still works: %d", r.Code)
	}
	// The old confirmation link, still unused, needs the new password, not the stranger's.
	if r := attacker.post(link, formOf("password", "the attacker's password")); r.Code != http.StatusUnprocessableEntity && r.Code != http.StatusNotFound {
		t.Fatalf("old password on the old link: %d", r.Code)
	}
}

// TestVerifyRateLimit: wrong passwords void the link after verifyTries, and
// are limited per account across links.
func TestVerifyRateLimit(t *testing.T) {
	t.Parallel()
	a, link, c := signedUp(t, "zoe@example.org", "mon mot de passe à moi")
	for i := 1; i < verifyTries; i++ {
		if r := c.post(link, formOf("password", "guess")); r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("wrong try %d: %d", i, r.Code)
		}
	}
	r := c.post(link, formOf("password", "guess"))
	if r.Code != http.StatusGone {
		t.Fatalf("try %d did not void the link: %d", verifyTries, r.Code)
	}
	// Said as it happened, with the way to a new link; not "expired, used or replaced".
	mustContain(t, r, "Too many wrong passwords stopped this confirmation link", `href="/portal/resend"`, "Ask for a new confirmation link")
	mustNotContain(t, r, "been used already")
	fr := a.browser()
	fr.lang = "fr"
	fr.cookies = c.cookies
	if r := fr.post(link, formOf("password", "guess")); !strings.Contains(r.body, "Ce lien de confirmation ne fonctionne pas") || !strings.Contains(r.body, "arrêté après trop de mots de passe erronés") {
		t.Fatalf("the stopped link, visited again in French: %d %s", r.Code, abbreviate(r.body))
	}
	if r := c.post(link, formOf("password", "mon mot de passe à moi")); r.Code != http.StatusNotFound || a.verified("zoe@example.org") {
		t.Fatalf("a voided link confirmed: %d", r.Code)
	}
	// A new link does not reset the per-account limit.
	a.advance(11 * time.Second) // the per-address token limit, not the account's, refills
	c.post("/portal/resend", formOf("email", "zoe@example.org"))
	link2 := a.lastLink("zoe@example.org")
	if link2 == link {
		t.Fatal("no new link")
	}
	r = c.post(link2, formOf("password", "guess"))
	if r.Code != http.StatusTooManyRequests {
		t.Fatalf("past the account's limit: %d", r.Code)
	}
	mustContain(t, r, "Too many attempts")
	if tok, err := a.st.PeekAccountToken(store.TokenVerify, link2[len("/portal/verify/"):], a.now()); err != nil || tok.Fails != 0 {
		t.Fatalf("a refused try counted against the link: %+v %v", tok, err)
	}
	a.advance(time.Minute)
	if r := c.post(link2, formOf("password", "mon mot de passe à moi")); r.Code != http.StatusSeeOther || !a.verified("zoe@example.org") {
		t.Fatalf("right password after the wait: %d %s", r.Code, abbreviate(r.body))
	}
}

// signedUp is a practice open to sign-ups where email signed up with
// password: the confirmation link, and a fresh English browser to open it.
func signedUp(t *testing.T, email, password string) (*testApp, string, *browser) {
	t.Helper()
	a := newTestApp(t)
	a.enableSignup(a.setUp())
	a.signUpAs(email, password)
	b := a.browser()
	b.lang = "en"
	return a, a.lastLink(email), b
}

// TestConfirmingSignsIn: confirming the email asks the password chosen at
// sign-up, so the person is signed in at once, not sent to type it again;
// the session is a new one, and a wrong password signs nobody in.
func TestConfirmingSignsIn(t *testing.T) {
	t.Parallel()
	a, link, c := signedUp(t, "zoe@example.org", "mon mot de passe à moi")
	c.get(link)
	before := c.cookies["foyer_session"]
	if r := c.post(link, formOf("password", "pas le bon mot de passe")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: %d", r.Code)
	}
	if r := c.get("/portal/account"); r.Code != http.StatusSeeOther {
		t.Fatalf("a wrong password signed in: %d", r.Code)
	}
	r := c.post(link, formOf("password", "mon mot de passe à moi"))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/portal/account" {
		t.Fatalf("confirm: %d to %q", r.Code, r.Header().Get("Location"))
	}
	if after := c.cookies["foyer_session"]; after == nil || (before != nil && after.Value == before.Value) {
		t.Fatal("confirming did not start a new session")
	}
	r = c.get("/portal/account")
	mustContain(t, r, "Your email address is confirmed.", "Your account is almost ready", `action="/portal/signout"`)
	if !a.verified("zoe@example.org") {
		t.Fatal("not verified")
	}
}

// TestStaffAccessReplacesAnUnconfirmedSignUp: a sign-up nobody confirmed does
// not keep staff from giving that email portal access. The client record says
// beforehand that the sign-up will be replaced, and afterwards that it was;
// the sign-up is gone with its link, its waiting confirmation email is
// withdrawn, and whoever made it hears nothing. A confirmed account still
// keeps its email.
func TestStaffAccessReplacesAnUnconfirmedSignUp(t *testing.T) {
	t.Parallel()
	a, link, _ := signedUp(t, "zoe@example.org", "the squatter's password")
	owner := a.signIn("owner@example.org", ownerPassword)
	owner.lang = "en"
	path := owner.newClient("first_name", "Zoé", "last_name", "Martin", "email", "zoe@example.org")
	mustContain(t, owner.get(path), "Someone signed up with zoe@example.org without confirming it.")
	before := a.countMessages()

	r := owner.post(path+"/portal", formOf("portal_email", "zoe@example.org", "portal_password", "the practice's starting password"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("portal access: %d %s", r.Code, abbreviate(r.body))
	}
	r = owner.get(path)
	mustContain(t, r, "It replaced an unconfirmed sign-up with the same email")
	mustNotContain(t, r, "Someone signed up with")
	if n, _ := a.st.CountProspects(); n.Total() != 0 {
		t.Fatalf("%d prospects left", n.Total())
	}
	if r := a.browser().get(link); r.Code != http.StatusNotFound {
		t.Fatalf("the sign-up's confirmation link: %d", r.Code)
	}
	// One new message, to the client about their access; the confirmation
	// email still waiting is withdrawn when the worker comes to it.
	msgs, _ := a.st.ListMessages(0, 50)
	if a.countMessages() != before+1 || msgs[0].Kind != "portal_access" {
		t.Fatalf("messages: %d then %d, newest %q", before, a.countMessages(), msgs[0].Kind)
	}
	for _, m := range msgs {
		if m.Kind == "portal_verify" && a.h.mail.StillValidSealed(m) {
			t.Fatal("the sign-up's confirmation email would still go out")
		}
	}
	if r := a.browser().post("/portal", formOf("email", "zoe@example.org", "password", "the squatter's password")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("the sign-up's password: %d", r.Code)
	}
	if r := a.browser().post("/portal", formOf("email", "zoe@example.org", "password", "the practice's starting password")); r.Code != http.StatusSeeOther {
		t.Fatalf("the practice's password: %d", r.Code)
	}

	// A confirmed sign-up is someone's account: it keeps its email.
	a.signUpAs("yann@example.org", "yann's own password")
	yann, _ := a.st.AccountByEmail("yann@example.org")
	a.st.UpdateAccount(yann.ID, func(x *store.Account) error { x.Verified = true; return nil })
	other := owner.newClient("first_name", "Yann", "last_name", "Roux", "email", "yann@example.org")
	mustNotContain(t, owner.get(other), "Someone signed up with")
	r = owner.post(other+"/portal", formOf("portal_email", "yann@example.org", "portal_password", "the practice's starting password"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a confirmed account's email: %d", r.Code)
	}
	// It waits under Prospects, to be linked there.
	mustContain(t, r, "This email belongs to a confirmed sign-up waiting under Prospects")
}
