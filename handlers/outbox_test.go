package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"foyer/delivery"
	"foyer/store"
)

// outboxFlow signs a client up, asks for a reset and invites a colleague:
// three emails carrying links.
func outboxFlow(t *testing.T, a *testApp) *browser {
	owner := a.setUp()
	a.enableSignup(owner)
	visitor := a.browser()
	r := visitor.post("/portal/signup", formOf("first_name", "Zoé", "last_name", "Martin", "email", "zoe@example.org", "phone", "06 11 11 11 11",
		"birth_date", "1990-04-01", "lang", "fr", "password", "mon mot de passe à moi"))
	if r.Code != http.StatusOK {
		t.Fatalf("sign-up: %d", r.Code)
	}
	if r := a.browser().post("/portal/forgot", formOf("email", "zoe@example.org")); r.Code != http.StatusOK {
		t.Fatalf("forgot: %d", r.Code)
	}
	a.h.Wait() // the reset is written after the answer
	if r := owner.post("/staff/invite", formOf("name", "Kim", "email", "kim@example.org", "role", "admin", "lang", "en")); r.Code != http.StatusSeeOther {
		t.Fatalf("invite: %d", r.Code)
	}
	return owner
}

var linkPaths = []string{"/portal/reset/", "/portal/verify/", "/invite/"}

// A copy of the data file gives no working link: after a sign-up, a reset
// and an invitation, its bytes hold none, before and after sending.
func TestDataFileHoldsNoLinks(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	outboxFlow(t, a)
	check := func(when string) {
		raw, err := os.ReadFile(filepath.Join(a.dir, store.FileName))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range linkPaths {
			if bytes.Contains(raw, []byte(p)) {
				t.Errorf("%s: foyer.db contains %q", when, p)
			}
		}
	}
	check("queued")
	// The links are there when the messages are written for sending.
	msgs, _ := a.st.ListMessages(0, 10)
	found := 0
	for _, m := range msgs {
		for _, p := range linkPaths {
			if bytes.Contains([]byte(a.sent(m).Text), []byte("http://localhost:8080"+p)) {
				found++
			}
		}
	}
	if found != 3 {
		t.Fatalf("%d links in the sent messages, want 3", found)
	}
	a.h.outbox.RunOnce(context.Background())
	check("logged")
}

var anyLink = regexp.MustCompile(`/(?:invite|portal/verify|portal/reset)/[A-Za-z0-9_-]{43}`)

func TestOutboxPageShowsNoUsableLink(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := outboxFlow(t, a)
	a.h.outbox.RunOnce(context.Background())
	page := owner.get("/outbox")
	if anyLink.MatchString(page.body) {
		t.Fatal("the Outbox page shows a usable link")
	}
	mustContain(t, page, "Your invitation to", "[masqué]", `action="/outbox/3/reveal"`)

	// An admin sees the messages, and cannot reveal one.
	a.addStaff("Ada Admin", "ada@example.org", store.RoleAdmin)
	admin := a.signIn("ada@example.org", staffPassword)
	mustNotContain(t, admin.get("/outbox"), "/reveal")
	if r := admin.post("/outbox/3/reveal", nil); r.Code != http.StatusForbidden && r.Code != http.StatusNotFound {
		t.Fatalf("admin reveal: %d", r.Code)
	}

	// The owner reveals the invitation: the page holds the link, and the act is recorded.
	r := owner.post("/outbox/3/reveal", nil)
	if r.Code != http.StatusOK || !anyLink.MatchString(r.body) || r.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal: %d %s", r.Code, abbreviate(r.body))
	}
	m, _ := a.st.Message(3)
	if len(m.Reveals) != 1 || m.Reveals[0].StaffID != 1 {
		t.Fatalf("reveal not recorded: %+v", m.Reveals)
	}
	mustContain(t, owner.get("/outbox"), "Olive Owner")

	// Once it expires, it can no longer be revealed: the reset link (message 2) lasts an hour.
	for range 4 {
		a.advance(16 * time.Minute) // the owner stays active, within the idle timeout
		owner.get("/outbox")
	}
	if r := owner.post("/outbox/2/reveal", nil); r.Code != http.StatusNotFound {
		t.Fatalf("reveal after expiry: %d", r.Code)
	}
}

// With real delivery configured, nobody can reveal anything: the page is never a channel.
func TestOutboxRevealNeedsLogDriver(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := outboxFlow(t, a)
	a.h.outbox.RunOnce(context.Background())
	a.h.outbox.Email = recorderDriver{}
	mustNotContain(t, owner.get("/outbox"), "/reveal")
	if r := owner.post("/outbox/3/reveal", nil); r.Code != http.StatusNotFound {
		t.Fatalf("reveal with delivery configured: %d", r.Code)
	}
}

type recorderDriver struct{}

func (recorderDriver) Send(context.Context, delivery.Outgoing) error { return nil }

// Messages that waited while delivery was off and became void meanwhile (an
// invitation cancelled, a reset link voided, a session cancelled) are
// withdrawn, not sent, once delivery is configured; nor can they be revealed.
func TestVoidMessagesWithdrawn(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := outboxFlow(t, a) // 1 verify, 2 reset, 3 invite (Kim, staff 2)
	path := owner.newClient("email", "eloise@example.org", "lang", "fr")
	owner.post(path+"/appointments", formOf("date", "2026-11-26", "time", "09:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	if n, err := a.jobs.SendReminders(a.now()); n != 1 || err != nil {
		t.Fatalf("reminder: %d %v", n, err)
	}
	a.h.outbox.RunOnce(context.Background())
	// The invitation is cancelled and the session too.
	if r := owner.post("/staff/2/cancel", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel invitation: %d", r.Code)
	}
	if r := owner.post("/appointments/1/status", formOf("action", "cancelled")); r.Code >= 400 {
		t.Fatalf("cancel session: %d", r.Code)
	}
	mustNotContain(t, owner.get("/outbox"), `action="/outbox/3/reveal"`)
	sent := &countingDriver{}
	a.h.outbox.Email = sent
	a.h.outbox.RunOnce(context.Background())
	states := map[uint64]store.MessageState{}
	msgs, _ := a.st.ListMessages(0, 10)
	for _, m := range msgs {
		states[m.ID] = m.State
	}
	if states[3] != store.StateWithdrawn || states[4] != store.StateWithdrawn {
		t.Fatalf("states: %v", states)
	}
	if states[1] != store.StateSent || states[2] != store.StateSent || sent.n.Load() != 2 {
		t.Fatalf("the live messages: %v, %d sent", states, sent.n.Load())
	}
	mustContain(t, owner.get("/outbox"), "Withdrawn")
}

// countingDriver counts sends; a lane sends several messages at once.
type countingDriver struct{ n atomic.Int32 }

func (d *countingDriver) Send(context.Context, delivery.Outgoing) error { d.n.Add(1); return nil }

// refusingOnce refuses the first message it is handed, then takes them all.
type refusingOnce struct{ calls atomic.Int32 }

func (d *refusingOnce) Send(context.Context, delivery.Outgoing) error {
	if d.calls.Add(1) == 1 {
		return errors.New("452 4.3.1 insufficient system storage")
	}
	return nil
}

// The Outbox page shows every attempt at a message, with its time and what
// the server answered, in the owner's language.
func TestOutboxShowsEachAttempt(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	if r := owner.post("/staff/invite", formOf("name", "Kim", "email", "kim@example.org", "role", "admin", "lang", "en")); r.Code != http.StatusSeeOther {
		t.Fatalf("invite: %d", r.Code)
	}
	a.h.outbox.Email = &refusingOnce{}
	a.h.outbox.RunOnce(context.Background())
	a.advance(31 * time.Second)
	a.h.outbox.RunOnce(context.Background())
	m, _ := a.st.Message(1)
	if m.State != store.StateSent || len(m.Tries) != 2 {
		t.Fatalf("message: %+v", m)
	}
	page := owner.get("/outbox")
	mustContain(t, page, "2 attempts", `<ol class="tries muted">`,
		"<li>November\u00a025, 2026 at\u00a011:00\u00a0AM: failed — 452 4.3.1 insufficient system storage</li>",
		"<li>November\u00a025, 2026 at\u00a011:00\u00a0AM: sent</li>")
	owner.lang = "fr"
	owner.post("/lang", formOf("lang", "fr"))
	mustContain(t, owner.get("/outbox"), "25\u00a0novembre 2026 à\u00a011:00\u00a0: échec — 452 4.3.1 insufficient system storage", "25\u00a0novembre 2026 à\u00a011:00\u00a0: envoyé")
}
