package handlers

import (
	"net/http"
	"testing"

	"foyer/store"
)

// TestCancelAndDeleteAppointment: cancelling and deleting ask first; an
// appointment with a receipt cannot be deleted (receipts have no gaps).
func TestCancelAndDeleteAppointment(t *testing.T) {
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
	if _, err := a.st.Appointment(1); err != store.ErrNotFound {
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

// TestDeliveryBanner: only owners and admins see it, only for email (no
// feature sends text messages yet), and it can be hidden for the session.
func TestDeliveryBanner(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	r := owner.get("/")
	mustContain(t, r, "Email is not set up", `action="/banner/dismiss"`)
	mustNotContain(t, r, "Text messages are not set up", "Email and text messages")

	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	mustNotContain(t, a.signIn("pat@example.org", staffPassword).get("/"), "is not set up")

	if r := owner.post("/banner/dismiss", formOf("next", "/clients")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/clients" {
		t.Fatalf("dismiss: %d %s", r.Code, r.Header().Get("Location"))
	}
	mustNotContain(t, owner.get("/"), "is not set up")
	if r := owner.post("/banner/dismiss", formOf("next", "//evil.example")); r.Header().Get("Location") != "/" {
		t.Fatalf("dismiss leaves the site: %s", r.Header().Get("Location"))
	}
	// A new session shows it again.
	mustContain(t, a.signIn("owner@example.org", ownerPassword).get("/"), "Email is not set up")
}
