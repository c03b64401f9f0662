package handlers

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// TestCancelAndDeleteAppointment: cancelling and deleting ask first; an
// appointment with a receipt cannot be deleted (receipts have no gaps).
func TestCancelAndDeleteAppointment(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient()
	for range 2 {
		owner.post(path+"/appointments", formOf("date", "2026-12-01", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	}
	r := owner.get(path)
	mustContain(t, r, "Mark attended", "Mark paid", "Cancel appointment…", `href="/appointments/1/delete"`, `class="badge info">Booked<`)

	r = owner.get("/appointments/1/cancel")
	mustContain(t, r, "Cancel this appointment?", `name="action" value="cancelled"`, "Keep it")
	if ap, _ := a.st.Appointment(1); ap.Status != store.StatusBooked {
		t.Fatal("asking to cancel cancelled")
	}
	if r := owner.post("/appointments/1/status", formOf("action", "cancelled")); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.Code)
	}
	mustContain(t, owner.get(path), `class="badge off">Cancelled<`)

	// Appointment 2 is paid: it has receipt no. 1 and stays.
	owner.post("/appointments/2/status", formOf("action", "paid"))
	mustNotContain(t, owner.get(path), `href="/appointments/2/delete"`)
	for _, r := range []*resp{owner.get("/appointments/2/delete"), owner.post("/appointments/2/delete", nil)} {
		if r.Code != http.StatusConflict {
			t.Fatalf("delete with a receipt: %d", r.Code)
		}
		mustContain(t, r, "This appointment has a receipt")
	}
	if _, err := a.st.Appointment(2); err != nil {
		t.Fatal("an appointment with a receipt was deleted")
	}

	mustContain(t, owner.get("/appointments/1/delete"), "Delete this appointment?", "Delete the appointment")
	if r := owner.post("/appointments/1/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Code)
	}
	if _, err := a.st.Appointment(1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("still there: %v", err)
	}
	mustNotContain(t, owner.get(path), "/appointments/1/")

	// Another practitioner cannot delete or even see the confirmation.
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	owner.post(path+"/appointments", formOf("date", "2026-12-02", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	pat := a.signIn("pat@example.org", staffPassword)
	for _, r := range []*resp{pat.get("/appointments/3/delete"), pat.post("/appointments/3/delete", nil), pat.get("/appointments/3/cancel")} {
		if r.Code != http.StatusNotFound {
			t.Fatalf("another practitioner: %d", r.Code)
		}
	}
}

// TestDeliveryBanner: every staff member sees it (owners and admins with a
// link to the outbox), for text messages once a share could send codes, and
// it can be hidden for the session.
func TestDeliveryBanner(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	r := owner.get("/")
	mustContain(t, r, "Email is not set up", `action="/banner/dismiss"`)
	mustNotContain(t, r, "Text messages are not set up", "Email and text messages")

	// A practitioner sees it too, in words for them: no outbox to open, the owner acts.
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	pat := a.signIn("pat@example.org", staffPassword)
	r = pat.get("/")
	mustContain(t, r, "Email is not set up yet: emails wait until the practice owner sets up delivery.", `action="/banner/dismiss"`)
	mustNotContain(t, r, `href="/outbox"`)
	if r := pat.post("/banner/dismiss", formOf("next", "/clients")); r.Code != http.StatusSeeOther {
		t.Fatalf("practitioner dismisses: %d", r.Code)
	}
	mustNotContain(t, pat.get("/"), "is not set up")

	if r := owner.post("/banner/dismiss", formOf("next", "/clients")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/clients" {
		t.Fatalf("dismiss: %d %s", r.Code, r.Header().Get("Location"))
	}
	mustNotContain(t, owner.get("/"), "is not set up")
	if r := owner.post("/banner/dismiss", formOf("next", "//evil.example")); r.Header().Get("Location") != "/" {
		t.Fatalf("dismiss leaves the site: %s", r.Header().Get("Location"))
	}
	// A new session shows it again.
	again := a.signIn("owner@example.org", ownerPassword)
	mustContain(t, again.get("/"), "Email is not set up")
	// Once the practice has made a share link, its codes may go by text
	// message: an unset SMS provider now matters too.
	if err := a.st.CreateShare(&store.Share{Kind: store.SharePreso, SubjectID: 1, ExpiresAt: a.now().Add(time.Hour)}, "a-token-for-the-banner-test", nil, nil); err != nil {
		t.Fatal(err)
	}
	mustContain(t, again.get("/"), "Email and text messages are not set up")
}

// TestWordsFitTheSituation: limits are said, values come back uncut, dates
// out of range are named, an empty page past the end says so.
func TestWordsFitTheSituation(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	long := strings.Repeat("x", 5001)
	for _, tc := range []struct{ field, value, want string }{
		{"notes", long, "This is too long: at most 5000 characters."},
		{"birth_date", "2999-01-01", "cannot be in the future"},
		{"birth_date", "1850-06-01", "after 1900"},
	} {
		f := formOf("first_name", "A", "last_name", "B", "lang", "fr", "practitioner", "1")
		f.Set(tc.field, tc.value)
		r := owner.post("/clients", f)
		if r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d", tc.field, r.Code)
		}
		mustContain(t, r, tc.want)
		if tc.field == "notes" {
			mustContain(t, r, ">"+long+"</textarea>")
		}
	}
	path := owner.newClient()
	for _, day := range []string{"1900-01-01", "2206-01-01"} {
		r := owner.post(path+"/appointments", formOf("date", day, "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
		if r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("appointment on %s: %d", day, r.Code)
		}
		mustContain(t, r, "Enter a date between November\u00a025, 2021 and November\u00a025, 2028.")
	}
	r := owner.get("/clients?page=99999")
	mustContain(t, r, "1 client", "This page is past the end of the list.", `href="/clients?page=1&amp;q="`)
	mustNotContain(t, r, "No client yet")
}

// TestPortalEmails: giving portal access and linking a sign-up each email the
// client where to sign in, never a password; the handout speaks of the right password.
func TestPortalEmails(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient()
	const password = "un mot de passe assez long"
	if r := owner.post(path+"/portal", formOf("portal_email", "eloise@example.org", "portal_password", password)); r.Code != http.StatusSeeOther {
		t.Fatalf("portal access: %d %s", r.Code, abbreviate(r.body))
	}
	var msgs []string
	list, _ := a.st.ListMessages(0, 10)
	for _, m := range list {
		if m.To == "eloise@example.org" {
			msgs = append(msgs, a.sent(m).Text)
		}
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Cabinet Lumière a ouvert votre portail client") || !strings.Contains(msgs[0], "/portal") ||
		strings.Contains(msgs[0], password) || !strings.Contains(msgs[0], "Ouvrir mon portail client\u00a0: ") {
		t.Fatalf("portal access email: %q", msgs)
	}
	mustContain(t, owner.get(path), "the password we gave you", "Change portal email or password")
	// The client chooses their own: the handout now says so.
	ac, _ := a.st.AccountByEmail("eloise@example.org")
	a.st.UpdateAccount(ac.ID, func(x *store.Account) error { x.StaffPassword = false; return nil })
	mustContain(t, owner.get(path), "the password you chose")
}

// TestCancelledIsNotPaid: a cancelled appointment gets no receipt; a past
// session still marked booked does not read "Booked" to the client.
func TestCancelledIsNotPaid(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet", "lang", "en")
	owner.post(path+"/appointments", formOf("date", "2026-11-24", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	owner.post("/appointments/1/status", formOf("action", "cancelled"))
	r := owner.post("/appointments/1/status", formOf("action", "paid"))
	if r.Code != http.StatusConflict {
		t.Fatalf("paying a cancelled appointment: %d", r.Code)
	}
	mustContain(t, r, "This appointment is cancelled")
	if ap, _ := a.st.Appointment(1); ap.Paid || ap.ReceiptNo != 0 {
		t.Fatalf("a cancelled appointment was paid: %+v", ap)
	}
	owner.post("/appointments/1/status", formOf("action", "booked"))
	owner.post("/appointments/1/status", formOf("action", "paid"))
	r = client.get("/portal/account")
	mustContain(t, r, "50 minutes · Video · Paid")
	mustNotContain(t, r, "Booked")
}
