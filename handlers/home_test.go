package handlers

import (
	"net/http"
	"strings"
	"testing"

	"foyer/store"
)

// TestHomeAgenda: the start page lists the sessions of today and the next 7
// days, by day, in the practice time zone; owners and admins see everyone's,
// a practitioner only their own; cancelled sessions are left out.
func TestHomeAgenda(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mustContain(t, owner.get("/"), "No session today or in the next 7 days.")
	pat := a.addStaff("Pat Practitioner", "pat@example.org", store.RolePractitioner)
	patClient := owner.newClient("practitioner", itoa(pat.ID), "last_name", "Patclient")
	ownClient := owner.newClient("last_name", "Ownclient", "email", "own@example.org")
	book := func(client, date, hour string, practitioner uint64) {
		t.Helper()
		r := owner.post(client+"/appointments", formOf("date", date, "time", hour, "minutes", "50", "kind", "in_person", "fee", "80", "practitioner", itoa(practitioner)))
		if r.Code != http.StatusSeeOther {
			t.Fatalf("book %s %s: %d %s", date, hour, r.Code, abbreviate(r.body))
		}
	}
	// The test clock is 2026-11-25 10:00 UTC, 11:00 in Paris.
	book(patClient, "2026-11-25", "16:00", pat.ID)
	book(ownClient, "2026-11-26", "09:00", 1)
	book(patClient, "2026-11-25", "08:00", pat.ID) // earlier today: still today's
	book(ownClient, "2026-11-27", "14:00", 1)      // cancelled below
	book(patClient, "2026-12-01", "10:00", pat.ID)
	book(patClient, "2026-12-03", "10:00", pat.ID) // eighth day: beyond the week
	if r := owner.post("/appointments/4/status", formOf("action", "cancelled")); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.Code)
	}

	r := owner.get("/")
	mustContain(t, r, "Sessions this week", "Today · Wednesday, November\u00a025, 2026", "Tomorrow · Thursday, November\u00a026, 2026", "Tuesday, December\u00a01, 2026",
		"Patclient, Éloïse", "Ownclient, Éloïse", "Pat Practitioner", "Olive Owner")
	mustNotContain(t, r, "November\u00a027, 2026", "December\u00a03, 2026", "No session today")
	order(t, r.body, "8:00\u00a0AM", "4:00\u00a0PM", "Tomorrow", "9:00\u00a0AM", "December\u00a01, 2026")

	// In French, a day heading starts with a capital and says "1er".
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	mustContain(t, owner.get("/"), "Aujourd’hui · mercredi 25\u00a0novembre 2026", "Mardi 1er\u00a0décembre 2026", "Séances de la semaine")

	p := a.signIn("pat@example.org", staffPassword)
	r = p.get("/")
	mustContain(t, r, "Your sessions this week", "8:00\u00a0AM", "4:00\u00a0PM", "December\u00a01, 2026")
	mustNotContain(t, r, "Tomorrow", "9:00\u00a0AM", "Ownclient")
}

// order fails unless each string appears in body after the one before it.
func order(t *testing.T, body string, in ...string) {
	t.Helper()
	at := 0
	for _, s := range in {
		i := strings.Index(body[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", s, abbreviate(body))
		}
		at += i + len(s)
	}
}

// TestHomeSaysWhatProspectsWaitFor: the start page tells an admin which
// prospects wait for the practice (confirmed, to link to a record) and which
// for their owner (the email not yet confirmed), each linking to its list.
func TestHomeSaysWhatProspectsWaitFor(t *testing.T) {
	t.Parallel()
	a, link, c := signedUp(t, "zoe@example.org", "mon mot de passe à moi")
	owner := a.signIn("owner@example.org", ownerPassword)
	owner.lang = "en"
	r := owner.get("/")
	mustContain(t, r, `href="/prospects?verified=no">Prospects: 1 sign-up whose email is not confirmed yet<`)
	mustNotContain(t, r, "to link to a client record", "no sign-up waiting")

	if r := c.post(link, formOf("password", "mon mot de passe à moi")); r.Code != http.StatusSeeOther {
		t.Fatalf("verify: %d", r.Code)
	}
	a.signUpAs("yann@example.org", "un autre mot de passe")
	a.signUpAs("xavier@example.org", "un troisième mot de passe")
	r = owner.get("/")
	mustContain(t, r, `href="/prospects?verified=yes">Prospects: 1 confirmed account to link to a client record<`,
		`href="/prospects?verified=no">Prospects: 2 sign-ups whose email is not confirmed yet<`)
	mustNotContain(t, r, "waiting to be confirmed")
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	mustContain(t, owner.get("/"), "1 compte confirmé à associer à une fiche client", "2 inscriptions dont l’adresse e-mail n’est pas encore confirmée")

	b := newTestApp(t)
	mustContain(t, b.setUp().get("/"), `href="/prospects">Prospects: no sign-up waiting<`)
}
