package handlers

import (
	"net/http"
	"strings"
	"testing"

	"foyer/store"
)

// A mobile the client adds in the portal receives no security code until staff
// confirm it: whoever takes over the client's mailbox (and so their portal
// password) cannot redirect the codes of later shares. The practitioner is
// emailed; staff editing the record keep it unconfirmed; only the practitioner
// of the client (or an admin) can confirm it.
func TestPortalMobileWaitsForStaff(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	paul := a.addStaff("Paul Other", "paul@example.org", store.RolePractitioner)
	clientPath, client := a.clientWithPortal(owner, "ana@example.org", "a long password here", "lang", "en", "first_name", "Ana", "last_name", "Martin")
	// The known mobile stays; the client adds a second one.
	r := client.post("/portal/account", formOf("phone_0", "06 12 34 56 78", "phone_0_type", "mobile", "phone_1", "06 55 44 33 22", "phone_1_type", "mobile", "lang", "en"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("portal save: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, client.get("/portal/account"), "06 55 44 33 22: waiting for Cabinet Lumière to confirm it for security codes")
	cl, _ := a.st.Client(1)
	if len(cl.Phones) != 2 || !cl.Phones[0].ReceivesCodes() || cl.Phones[1].ReceivesCodes() || !cl.Phones[1].Unconfirmed {
		t.Fatalf("phones after the portal: %+v", cl.Phones)
	}
	msgs, _ := a.st.ListMessages(0, 20)
	notice := ""
	for _, m := range msgs {
		if m.Kind == "phones_added" && m.To == "owner@example.org" {
			notice = a.sent(m).Text
		}
	}
	if !strings.Contains(notice, "06 55 44 33 22") || !strings.Contains(notice, "/clients/1") {
		t.Fatalf("practitioner notice: %q", notice)
	}

	// Codes cannot go to it: the share dialog offers only the known mobile.
	dialog := owner.get(clientPath + "/shares/new")
	mustContain(t, dialog, "06 12 34 56 78")
	mustNotContain(t, dialog, "06 55 44 33 22")
	mustContain(t, owner.get(clientPath), "to confirm", "Added by the client in the portal", "Confirm for codes")

	// Staff saving the record (another field changed) do not confirm it by the way.
	if r := owner.post(clientPath, formOf("first_name", "Ana", "last_name", "Martin", "email", "ana@example.org", "lang", "en", "practitioner", "1",
		"phone_0", "06 12 34 56 78", "phone_0_type", "mobile", "phone_1", "06 55 44 33 22", "phone_1_type", "mobile", "notes", "Called.")); r.Code != http.StatusSeeOther {
		t.Fatalf("staff save: %d %s", r.Code, abbreviate(r.body))
	}
	if cl, _ := a.st.Client(1); cl.Phones[1].ReceivesCodes() || cl.Notes != "Called." {
		t.Fatalf("after a staff save: %+v", cl)
	}

	// Another practitioner cannot confirm it; the client's can.
	pb := a.signIn("paul@example.org", staffPassword)
	if r := pb.post(clientPath+"/phones/confirm", formOf("number", "+33655443322")); r.Code != http.StatusNotFound {
		t.Fatalf("confirm by %s: %d", paul.Name, r.Code)
	}
	if r := owner.post(clientPath+"/phones/confirm", formOf("number", "+33600000000")); r.Code != http.StatusNotFound {
		t.Fatalf("confirm of a number not on the record: %d", r.Code)
	}
	if r := owner.post(clientPath+"/phones/confirm", formOf("number", "+33655443322")); r.Code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", r.Code)
	}
	mustContain(t, owner.get(clientPath+"/shares/new"), "06 55 44 33 22")
	// Once confirmed it stays so when the client saves again; a number the
	// client types again after removing it waits once more.
	client.post("/portal/account", formOf("phone_0", "06 55 44 33 22", "phone_0_type", "mobile", "lang", "en"))
	client.post("/portal/account", formOf("phone_0", "06 55 44 33 22", "phone_0_type", "mobile", "phone_1", "06 12 34 56 78", "phone_1_type", "mobile", "lang", "en"))
	cl, _ = a.st.Client(1)
	if len(cl.Phones) != 2 || !cl.Phones[0].ReceivesCodes() || cl.Phones[1].ReceivesCodes() {
		t.Fatalf("phones at the end: %+v", cl.Phones)
	}
}
