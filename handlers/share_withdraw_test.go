package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/delivery"
	"foyer/store"
)

// shareTo shares one file from a client record with "someone else" and
// returns the link token emailed to them.
func (b *browser) shareTo(clientPath, email, mobile string) string {
	b.app.t.Helper()
	r := b.shareUpload(clientPath, []string{"recipient", "other", "other_name", "Someone", "other_email", email,
		"other_lang", "en", "other_mobile", mobile, "verify", "1", "message", "Private words."}, upFile{"a.txt", []byte("a")})
	if r.Code != http.StatusSeeOther {
		b.app.t.Fatalf("share to %s: %d %s", email, r.Code, abbreviate(r.body))
	}
	return b.app.lastShareToken(email)
}

// statesByRecipient is each outbox message's state, by address, per kind.
func statesByRecipient(a *testApp) map[string]store.MessageState {
	msgs, _ := a.st.ListMessages(0, 200)
	out := map[string]store.MessageState{}
	for _, m := range msgs {
		out[m.Kind+" "+m.To] = m.State
	}
	return out
}

// deliverNow configures delivery (both lanes) and runs the outbox once; it
// returns what the drivers were handed.
func deliverNow(a *testApp) *sendRecorder {
	rec := &sendRecorder{}
	a.h.outbox.Email, a.h.outbox.SMS = rec, rec
	a.h.outbox.RunOnce(context.Background())
	return rec
}

// sendRecorder keeps where messages went; the lanes send at once, so it locks.
type sendRecorder struct {
	mu sync.Mutex
	to []string
}

func (r *sendRecorder) Send(_ context.Context, o delivery.Outgoing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.to = append(r.to, o.To)
	return nil
}

// Share emails and security codes that waited while delivery was not set up
// go out once it is only if their share still opens: expired now, replaced by
// Send again, deleted by the recipient or ended by the client's archive, they
// are withdrawn — the corrected-away address never gets the name and message.
func TestShareMessagesThatWaitedWithdrawnOnceVoid(t *testing.T) {
	t.Parallel()
	a, owner, _, _, _ := sharedClient(t) // share 1 → ana@, kept live
	clientPath := owner.newClient("lang", "en", "email", "bea@example.org", "first_name", "Bea")
	archived := owner.newClient("lang", "en", "email", "carl@example.org", "first_name", "Carl")

	expired := owner.shareTo(clientPath, "expired@example.org", "06 11 11 11 02")
	a.browser().post("/s/"+expired+"/code", nil) // its code waits too
	owner.post("/shares/2/expire", nil)

	owner.shareTo(clientPath, "wrong@example.org", "06 11 11 11 03")
	if r := owner.post("/shares/3/again", formOf("name", "Someone", "email", "right@example.org", "lang", "en")); r.Code != http.StatusSeeOther {
		t.Fatalf("send again: %d %s", r.Code, abbreviate(r.body))
	}

	deleted := owner.shareTo(clientPath, "deleted@example.org", "06 11 11 11 05")
	b := a.browser()
	b.post("/s/"+deleted+"/code", nil)
	if r := b.post("/s/"+deleted+"/verify", formOf("code", a.lastCode("+33611111105"))); r.Code != http.StatusSeeOther {
		t.Fatalf("verify: %d", r.Code)
	}
	if r := b.post("/s/"+deleted+"/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Code)
	}

	if r := owner.shareUpload(archived, []string{"recipient", "client", "verify", "1"}, upFile{"c.txt", []byte("c")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share to Carl: %d", r.Code)
	}
	carl := a.lastShareToken("carl@example.org")
	a.browser().post("/s/"+carl+"/code", nil)
	if r := owner.post(archived+"/archive", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("archive: %d", r.Code)
	}
	// A code asked for and not yet sent when its share is live stays due.
	live := owner.shareTo(clientPath, "live@example.org", "06 11 11 11 07")
	a.browser().post("/s/"+live+"/code", nil)

	rec := deliverNow(a)
	got := statesByRecipient(a)
	for key, want := range map[string]store.MessageState{
		"share_link ana@example.org":     store.StateSent,
		"share_link expired@example.org": store.StateWithdrawn,
		"share_code +33611111102":        store.StateWithdrawn,
		"share_link wrong@example.org":   store.StateWithdrawn,
		"share_link right@example.org":   store.StateSent,
		"share_link deleted@example.org": store.StateWithdrawn,
		"share_code +33611111105":        store.StateWithdrawn, // used already
		"share_link carl@example.org":    store.StateWithdrawn,
		"share_code +33612345678":        store.StateWithdrawn, // Carl's mobile (the default one)
		"share_link live@example.org":    store.StateSent,
		"share_code +33611111107":        store.StateSent,
	} {
		if got[key] != want {
			t.Errorf("%s: %q, want %q", key, got[key], want)
		}
	}
	if len(rec.to) != 4 {
		t.Errorf("sent to %v", rec.to)
	}
	mustContain(t, owner.get("/outbox"), "Withdrawn")
}

// A share that ran out while its email and reminder waited: neither goes out.
func TestShareMessagesThatWaitedNotSentAfterExpiry(t *testing.T) {
	t.Parallel()
	a, _, _, _, _ := sharedClient(t)
	a.h.outbox.RunOnce(context.Background()) // delivery not set up: the email waits
	sh, _ := a.st.Share(1)
	a.advance(sh.ExpiresAt.Sub(a.now()) - 36*time.Hour)
	if n, err := a.jobs.RemindShares(a.now()); n != 1 || err != nil {
		t.Fatalf("reminder: %d %v", n, err)
	}
	a.advance(37 * time.Hour)
	rec := deliverNow(a)
	if len(rec.to) != 0 {
		t.Fatalf("sent after the share expired: %v", rec.to)
	}
	got := statesByRecipient(a)
	for _, key := range []string{"share_link ana@example.org", "share_reminder ana@example.org"} {
		if got[key] != store.StateWithdrawn && got[key] != store.StateExpired {
			t.Errorf("%s: %q", key, got[key])
		}
	}
	// And between the expiry and the sweep, the check itself says no.
	msgs, _ := a.st.ListMessages(0, 10)
	for _, m := range msgs {
		secret, _ := a.st.Unseal(m.Sealed)
		if m.Kind == "share_link" && a.h.mail.StillValid(m, secret) {
			t.Error("the link email of an expired share is still valid")
		}
	}
}

// A preso's security code that waited is withdrawn once its link is expired.
func TestPresoCodeThatWaitedWithdrawnOnceExpired(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	id, link := sharePreso(t, a, owner, "contacts", mia)
	if r := a.browser().post(link+"/code", formOf("who", "0", "to", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	msgs, _ := a.st.ListMessages(0, 10)
	if len(msgs) != 1 || msgs[0].Kind != "preso_code" {
		t.Fatalf("messages: %+v", msgs)
	}
	secret, _ := a.st.Unseal(msgs[0].Sealed)
	if !a.h.mail.StillValid(msgs[0], secret) {
		t.Fatal("the code of a live preso link withdrawn")
	}
	sh, _ := a.st.SharesOfSubject(store.SharePreso, id)
	if r := owner.post(presoPath(id, "/share/"+itoa(sh[0].ID)+"/expire"), nil); r.Code >= 400 {
		t.Fatalf("expire: %d", r.Code)
	}
	if rec := deliverNow(a); len(rec.to) != 0 {
		t.Fatalf("sent: %v", rec.to)
	}
	if got := statesByRecipient(a)["preso_code +33612345678"]; got != store.StateWithdrawn {
		t.Fatalf("preso code: %q", got)
	}
}

// With delivery not set up, sharing says the email waits and points to Copy
// link (and, with a code to come, that it waits for the owner); with email
// alone set up, that the code will wait.
func TestShareFlashSaysWhatWaits(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	paul := a.addStaff("Paul Praticien", "paul@example.org", store.RolePractitioner)
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "practitioner", itoa(paul.ID))
	pb := a.signIn("paul@example.org", staffPassword)
	share := func(verify string) string {
		t.Helper()
		r := pb.shareUpload(clientPath, []string{"recipient", "client", "verify", verify}, upFile{"a.txt", []byte("a")})
		if r.Code != http.StatusSeeOther {
			t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
		}
		return pb.get(r.Header().Get("Location")).body
	}
	page := share("1")
	for _, want := range []string{"the email with the link waits in the outbox", "Use Copy link below",
		"The security code they ask for will wait too", "Email and text messages are not set up yet"} {
		if !strings.Contains(page, want) {
			t.Errorf("delivery off: no %q", want)
		}
	}
	if strings.Contains(page, "is on its way") {
		t.Error("delivery off, yet the email is on its way")
	}
	if page := share("0"); !strings.Contains(page, "Use Copy link below") || strings.Contains(page, "security code") {
		t.Error("delivery off, no code: wrong flash")
	}
	a.h.outbox.Email = &sendRecorder{}
	if page := share("1"); !strings.Contains(page, "the email is on its way. Text messages are not set up yet") {
		t.Error("SMS off: the flash does not say the code waits")
	}
	a.h.outbox.SMS = &sendRecorder{}
	if page := share("1"); !strings.Contains(page, "The documents are shared: the email with the secure link is on its way.") {
		t.Error("all set up: the plain flash is gone")
	}
}

// Sent again to someone else, a share leaves the client's portal: the client
// neither sees that person's history nor can stop their link. Sent again to
// the client's own address, it stays.
func TestShareSentAgainToSomeoneElseLeavesThePortal(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath, client := a.clientWithPortal(owner, "ana@example.org", "a long password here", "lang", "en", "first_name", "Ana", "last_name", "Martin")
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"bilan.pdf", []byte("A")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d", r.Code)
	}
	if r := owner.post("/shares/1/again", formOf("name", "Maître Roux", "email", "roux@example.org", "lang", "fr")); r.Code != http.StatusSeeOther {
		t.Fatalf("send again: %d %s", r.Code, abbreviate(r.body))
	}
	page := client.get("/portal/account")
	if strings.Contains(page.body, "Maître Roux") || strings.Contains(page.body, `/portal/shares/2/not-me`) {
		t.Fatal("the lawyer's share is in the client's portal")
	}
	if r := client.post("/portal/shares/2/not-me", nil); r.Code != http.StatusNotFound {
		t.Fatalf("the client stops the lawyer's link: %d", r.Code)
	}
	// Back to the client (any case of their address): theirs again.
	if r := owner.post("/shares/2/again", formOf("name", "Ana Martin", "email", "ANA@example.org", "lang", "en")); r.Code != http.StatusSeeOther {
		t.Fatalf("send again to Ana: %d", r.Code)
	}
	if sh, _ := a.st.Share(3); sh.Recipients[0].ClientID != 1 {
		t.Fatalf("sent again to the client: recipient %+v", sh.Recipients[0])
	}
}

// A reminder that waited is withdrawn once the documents were downloaded:
// it would say they were not.
func TestShareReminderThatWaitedWithdrawnOnceDownloaded(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	a.h.outbox.RunOnce(context.Background())
	sh, _ := a.st.Share(1)
	a.advance(sh.ExpiresAt.Sub(a.now()) - 36*time.Hour)
	if n, err := a.jobs.RemindShares(a.now()); n != 1 || err != nil {
		t.Fatalf("reminder: %d %v", n, err)
	}
	b := verify(t, a, token)
	if r := b.get("/s/" + token + "/files/2"); r.Code != http.StatusOK {
		t.Fatalf("download: %d", r.Code)
	}
	deliverNow(a)
	got := statesByRecipient(a)
	if got["share_reminder ana@example.org"] != store.StateWithdrawn || got["share_link ana@example.org"] != store.StateSent {
		t.Fatalf("states: %v", got)
	}
}

// A preso's codes that waited are withdrawn for a contact who lost access
// (archived) and go out for the other contact: who may open the link is the
// share engine's answer, per recipient, for the outbox as for the pages.
func TestPresoCodesThatWaitedPerContact(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	leo := a.addClient("Léo", "Lemaire", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33611111111", Mobile: true})
	_, link := sharePreso(t, a, owner, "contacts", mia, leo)
	if r := a.browser().post(link+"/code", formOf("who", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("Mia's code: %d", r.Code)
	}
	a.advance(2 * time.Minute)
	if r := a.browser().post(link+"/code", formOf("who", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("Léo's code: %d", r.Code)
	}
	if r := owner.post(fmt.Sprintf("/clients/%d/archive", mia.ID), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("archive: %d", r.Code)
	}
	deliverNow(a)
	got := statesByRecipient(a)
	if got["preso_code +33612345678"] != store.StateWithdrawn || got["preso_code +33611111111"] != store.StateSent {
		t.Fatalf("Mia's code %q, Léo's %q", got["preso_code +33612345678"], got["preso_code +33611111111"])
	}
}
