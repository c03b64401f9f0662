package handlers

import (
	"fmt"
	"net/http"
	"testing"

	"foyer/store"
)

// The right password is not a guess: a practitioner signing in on a few
// devices, or again after idle time-outs, from one address, is never told
// to wait, at the staff sign-in, the second step, the portal sign-in, or
// where a signed-in person types their password again.
func TestRightPasswordsAreNotCountedAsGuesses(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	// More than either burst: the one per email from the address and the one per address.
	n := limitWrongPasswordsIP.burst + 5
	for i := range n {
		b := a.browser()
		b.ip = "203.0.113.51:1"
		if r := b.post("/signin", formOf("email", "pat@example.org", "password", staffPassword)); r.Code != http.StatusSeeOther {
			t.Fatalf("staff sign-in %d with the right password: %d %s", i+1, r.Code, abbreviate(r.body))
		}
		c := a.browser()
		c.ip = "203.0.113.52:1"
		if r := c.post("/portal", formOf("email", "eloise@example.org", "password", "bienvenue au cabinet")); r.Code != http.StatusSeeOther {
			t.Fatalf("portal sign-in %d with the right password: %d %s", i+1, r.Code, abbreviate(r.body))
		}
	}
	// The password typed again by someone signed in (staff and portal):
	// changing it several times in a row.
	pat := a.signIn("pat@example.org", staffPassword)
	eloise := a.browser()
	eloise.post("/portal", formOf("email", "eloise@example.org", "password", "bienvenue au cabinet"))
	staffPw, clientPw := staffPassword, "bienvenue au cabinet"
	for i := range limitWrongPasswords.burst + 2 {
		next := fmt.Sprintf("the new password number %d", i)
		if r := pat.post("/account/password", formOf("current", staffPw, "new", next)); r.Code != http.StatusSeeOther {
			t.Fatalf("staff password change %d: %d %s", i+1, r.Code, abbreviate(r.body))
		}
		staffPw = next
		if r := eloise.post("/portal/password", formOf("current", clientPw, "new", next)); r.Code != http.StatusSeeOther {
			t.Fatalf("portal password change %d: %d %s", i+1, r.Code, abbreviate(r.body))
		}
		clientPw = next
	}
}

// The second step is a guess too, counted only when wrong: seven sign-ins
// with 2FA in a row (recovery codes, each good once) all get in.
func TestRightSecondFactorsAreNotCountedAsGuesses(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	_, codes := a.signIn("pat@example.org", staffPassword).enrol2FA()
	for i := range limitWrongTwoFA.burst + 2 {
		// A new address each time: the limit of the second step is in play, not the password's.
		b := a.browser()
		b.ip = fmt.Sprintf("198.51.100.%d:1", i+1)
		if r := b.post("/signin", formOf("email", "pat@example.org", "password", staffPassword)); r.Code != http.StatusSeeOther {
			t.Fatalf("password step %d: %d", i+1, r.Code)
		}
		if r := b.post("/signin/2fa", formOf("code", codes[i])); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/" {
			t.Fatalf("second step %d with a good recovery code: %d %s", i+1, r.Code, abbreviate(r.body))
		}
	}
}

// Whoever knows one account's password gains nothing by signing in to it
// between guesses at others' from the same address: the address allows its
// burst of wrong passwords, however many right ones come in between.
func TestARightPasswordEarnsNoGuessesAtAnotherAccount(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	wrongAnswered := 0
	for i := range 3 * limitWrongPasswordsIP.burst {
		b := a.browser()
		b.ip = "203.0.113.60:1"
		right := b.post("/signin", formOf("email", "pat@example.org", "password", staffPassword)).Code
		b = a.browser()
		b.ip = "203.0.113.60:1"
		// A new email each time: only the address's limit is in play.
		switch r := b.post("/signin", formOf("email", fmt.Sprintf("colleague%d@example.org", i), "password", "a guess")); r.Code {
		case http.StatusUnprocessableEntity:
			wrongAnswered++
			if right != http.StatusSeeOther {
				t.Fatalf("right password %d, before the address ran out of tries: %d", i+1, right)
			}
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("guess %d: %d", i+1, r.Code)
		}
	}
	if wrongAnswered != limitWrongPasswordsIP.burst {
		t.Fatalf("%d wrong passwords checked from one address among right ones, want its burst, %d", wrongAnswered, limitWrongPasswordsIP.burst)
	}
}
