package handlers

import (
	"net/http"
	"regexp"
	"testing"

	"foyer/store"
)

// passwordForm is a form with a password field, up to its end.
var passwordForm = regexp.MustCompile(`(?s)<form[^>]*>(?:[^<]|<[^/]|</[^f])*?autocomplete="(?:new|current)-password"(?:.*?)</form>`)

// usernameField is the hidden field that names the account to password managers.
var usernameField = regexp.MustCompile(`<input type="email" name="username" value="([^"]*)" autocomplete="username" hidden>`)

// mustNameAccount fails unless every password form of r carries email in a
// hidden autocomplete="username" field.
func mustNameAccount(t *testing.T, what string, r *resp, email string) {
	t.Helper()
	if r.Code != http.StatusOK {
		t.Fatalf("%s: %d", what, r.Code)
	}
	forms := passwordForm.FindAllString(r.body, -1)
	if len(forms) == 0 {
		t.Fatalf("%s: no password form", what)
	}
	for _, f := range forms {
		m := usernameField.FindStringSubmatch(f)
		if m == nil {
			t.Errorf("%s: a password form names no account:\n%s", what, f)
		} else if m[1] != email {
			t.Errorf("%s: the form names %q, want %q", what, m[1], email)
		}
	}
}

// TestPasswordFormsNameTheAccount: every form that sets or asks for a
// password carries the account's email in a hidden username field, so that
// a password manager saves the new password to the right account, also when
// someone else is signed in on the same browser.
func TestPasswordFormsNameTheAccount(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	mustNameAccount(t, "staff account", owner.get("/account"), "owner@example.org")
	mustNameAccount(t, "secret key", owner.get("/settings/key"), "owner@example.org")

	owner.post("/staff/invite", formOf("name", "Chloé Collègue", "email", "chloe@example.org", "role", "practitioner", "lang", "fr"))
	invite, _ := a.lastInvite("chloe@example.org")
	mustNameAccount(t, "invitation", a.browser().get(invite), "chloe@example.org")

	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	a.browser().post("/signin/forgot", formOf("email", "pat@example.org"))
	mustNameAccount(t, "staff reset", owner.get(a.lastStaffReset("pat@example.org")), "pat@example.org")

	_, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	mustNameAccount(t, "portal account", client.get("/portal/account"), "eloise@example.org")
	a.browser().post("/portal/forgot", formOf("email", "eloise@example.org"))
	// The owner is signed in on this browser: the form is still Éloïse's.
	mustNameAccount(t, "portal reset", owner.get(a.lastLink("eloise@example.org")), "eloise@example.org")

	a.signUpAs("zoe@example.org", "mon mot de passe à moi")
	mustNameAccount(t, "confirmation", owner.get(a.lastLink("zoe@example.org")), "zoe@example.org")
}
