package handlers

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"foyer/store"
)

var clientURL = regexp.MustCompile(`^/clients/(\d+)$`)

// newClient creates a client through the form and returns its record path.
func (b *browser) newClient(fields ...string) string {
	b.app.t.Helper()
	f := formOf("first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org", "lang", "fr",
		"phone_0", "06 12 34 56 78", "phone_0_type", "mobile", "birth_date", "1985-04-12", "address", "3 rue des Lilas\n75011 Paris", "notes", "Prefers mornings.")
	for i := 0; i+1 < len(fields); i += 2 {
		f.Set(fields[i], fields[i+1])
	}
	if f.Get("practitioner") == "" {
		if u := b.me(); u != nil {
			f.Set("practitioner", itoa(u.ID))
		}
	}
	r := b.post("/clients", f)
	if r.Code != http.StatusSeeOther || !clientURL.MatchString(r.Header().Get("Location")) {
		b.app.t.Fatalf("create client: %d %s", r.Code, abbreviate(r.body))
	}
	return r.Header().Get("Location")
}

// me is the staff member signed in on this browser.
func (b *browser) me() *store.Staff {
	c := b.cookies["foyer_session"]
	if c == nil {
		return nil
	}
	sess, err := b.app.st.Session(c.Value)
	if err != nil || sess.UserID == 0 {
		return nil
	}
	st, _ := b.app.st.Staff(sess.UserID)
	return &st
}

func TestClientRecord(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient()
	r := owner.get(path)
	mustContain(t, r, "Éloïse Durand", "06 12 34 56 78", "receives codes", "April\u00a012, 1985", "3 rue des Lilas", "Prefers mornings.", "Olive Owner")
	cl, _ := a.st.Client(1)
	if len(cl.Phones) != 1 || cl.Phones[0].Number != "+33612345678" || !cl.Phones[0].Mobile {
		t.Fatalf("phones stored as %+v", cl.Phones)
	}
	// Search as you type: HTMX gets the results alone.
	owner.newClient("first_name", "Marc", "last_name", "Dupont", "email", "marc@example.org", "phone_0", "01 42 00 00 00", "phone_0_type", "work")
	for q, want := range map[string]string{"eloise": "Durand, Éloïse", "0612": "Durand, Éloïse", "dupont": "Dupont, Marc", "+33 1 42": "Dupont, Marc"} {
		r := owner.get("/clients?q="+strings.ReplaceAll(q, " ", "+"), "HX-Request", "true", "HX-Target", "client-results")
		if strings.Contains(r.body, "<html") || strings.Contains(r.body, `type="search"`) {
			t.Fatalf("search partial has the whole page")
		}
		mustContain(t, r, want, "1 client")
	}
	mustContain(t, owner.get("/clients"), "2 clients", `type="search"`, "Dupont, Marc")

	// Edit with a bad phone: nothing saved, the form keeps what was typed.
	r = owner.post(path, formOf("first_name", "Éloïse", "last_name", "Durand-Roy", "email", "eloise@example.org", "lang", "fr", "practitioner", "1",
		"phone_0", "06 12", "phone_0_type", "mobile", "phone_1", "01 42 00 00 00", "phone_1_type", "mobile"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad phone: %d", r.Code)
	}
	mustContain(t, r, "This number is not valid", "This is not a mobile number", `value="Durand-Roy"`, `value="06 12"`)
	if cl, _ := a.st.Client(1); cl.LastName != "Durand" {
		t.Fatal("an invalid edit was saved")
	}
	// Archive hides the client from the list.
	owner.post(path+"/archive", nil)
	mustNotContain(t, owner.get("/clients"), "Durand, Éloïse")
	mustContain(t, owner.get("/clients?archived=1"), "Durand, Éloïse")
	owner.post(path+"/restore", nil)
	mustContain(t, owner.get("/clients"), "Durand, Éloïse")
}

func TestClientValidation(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	cases := []struct{ field, value, want string }{
		{"first_name", "", "This field is required."},
		{"email", "nope", "Enter an email address"},
		{"birth_date", "2100-01-01", "cannot be in the future"},
		{"birth_date", "31/12/1990", "Enter a date such as"},
		{"lang", "de", "Choose one of the options"},
		{"phone_0_type", "fax", "Choose one of the options"},
		{"practitioner", "999", "Choose one of the options"},
		{"notes", strings.Repeat("x", 5001), "This is too long: at most 5000 characters."},
		{"birth_date", "2999-01-01", "cannot be in the future"},
		{"address", "a\x00b", "cannot be used here"},
	}
	for _, tc := range cases {
		f := formOf("first_name", "A", "last_name", "B", "lang", "fr", "practitioner", "1", "phone_0", "0612345678", "phone_0_type", "mobile")
		f.Set(tc.field, tc.value)
		r := owner.post("/clients", f)
		if r.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s=%q: %d", tc.field, tc.value, r.Code)
			continue
		}
		mustContain(t, r, tc.want)
	}
	if _, total, _ := a.st.SearchClients(store.ClientFilter{Limit: 1}); total != 0 {
		t.Fatal("an invalid client was saved")
	}
}

// TestPractitionersSeeOwnClients: a practitioner lists and opens only their own clients;
// another's client is a 404, on every URL.
func TestPractitionersSeeOwnClients(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	sam := a.addStaff("Sam", "sam@example.org", store.RolePractitioner)
	patClient := owner.newClient("practitioner", itoa(pat.ID), "last_name", "Patclient")
	samClient := owner.newClient("practitioner", itoa(sam.ID), "last_name", "Samclient", "email", "sc@example.org")
	pb := a.signIn("pat@example.org", staffPassword)
	r := pb.get("/clients")
	mustContain(t, r, "Patclient", "1 client")
	mustNotContain(t, r, "Samclient")
	mustNotContain(t, pb.get("/clients?q=samclient"), "Samclient")
	if r := pb.get(patClient); r.Code != 200 {
		t.Fatalf("own client: %d", r.Code)
	}
	owner.post(samClient+"/appointments", formOf("date", "2026-12-01", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", itoa(sam.ID)))
	for _, req := range []struct{ method, path string }{
		{"GET", samClient}, {"GET", samClient + "/edit"}, {"POST", samClient}, {"POST", samClient + "/archive"},
		{"POST", samClient + "/portal"}, {"POST", samClient + "/appointments"}, {"POST", "/appointments/1/status"},
		{"GET", "/appointments/1/receipt.pdf"}, {"GET", "/appointments/1/edit"}, {"POST", "/appointments/1"},
	} {
		var r *resp
		if req.method == "GET" {
			r = pb.get(req.path)
		} else {
			r = pb.post(req.path, formOf("last_name", "Hacked", "first_name", "X", "lang", "fr", "action", "paid"))
		}
		if r.Code != http.StatusNotFound {
			t.Errorf("practitioner %s %s = %d, want 404", req.method, req.path, r.Code)
		}
	}
	if cl, _ := a.st.Client(2); cl.LastName != "Samclient" {
		t.Fatal("another practitioner's client was changed")
	}
	// A practitioner's new client is theirs, whatever the form says.
	pb.newClient("last_name", "Mine", "practitioner", itoa(sam.ID))
	cl, _ := a.st.Client(3)
	if cl.PractitionerID != pat.ID {
		t.Fatalf("practitioner's client belongs to %d", cl.PractitionerID)
	}
}

func TestPortalAccessFromRecord(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient()
	r := owner.post(path+"/portal", formOf("portal_email", "eloise@example.org", "portal_password", "short"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", r.Code)
	}
	r = owner.post(path+"/portal", formOf("portal_email", "eloise@example.org", "portal_password", "bienvenue au cabinet"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("set access: %d %s", r.Code, abbreviate(r.body))
	}
	r = owner.get(path)
	mustContain(t, r, "Portal account: eloise@example.org", "http://localhost:8080/portal", "Sign in with eloise@example.org")
	acct, err := a.st.AccountByEmail("eloise@example.org")
	if err != nil || !acct.Verified || acct.ClientID != 1 {
		t.Fatalf("account %+v %v", acct, err)
	}
	// Another client cannot take the same portal email.
	other := owner.newClient("last_name", "Other", "email", "")
	r = owner.post(other+"/portal", formOf("portal_email", "ELOISE@example.org", "portal_password", "another good password"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("taken email: %d", r.Code)
	}
	mustContain(t, r, "Another portal account already uses this email.")
}
