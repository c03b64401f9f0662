package video

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"foyer/store"
)

func next(t *testing.T, p *Peer) Message {
	t.Helper()
	select {
	case raw := <-p.Out():
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	default:
		t.Fatal("no message waiting")
		return Message{}
	}
}

func none(t *testing.T, p *Peer) {
	t.Helper()
	select {
	case raw := <-p.Out():
		t.Fatalf("unexpected message %s", raw)
	default:
	}
}

func TestAdmissionGatesTheRelay(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := NewHub(func() time.Time { return now })
	cl := h.Join(1, 100, store.PartyClient, "Éloïse Durand")
	if m := next(t, cl); m.Type != "waiting" || m.Present {
		t.Fatalf("alone: %+v", m)
	}
	pr := h.Join(1, 100, store.PartyPractitioner, "")
	if m := next(t, cl); m.Type != "waiting" || !m.Present {
		t.Fatalf("practitioner arrived: %+v", m)
	}
	if m := next(t, pr); m.Type != "knock" || m.Name != "Éloïse Durand" {
		t.Fatalf("knock: %+v", m)
	}
	// Before admission nothing passes either way.
	if err := h.Receive(cl, []byte(`{"type":"candidate","candidate":{"candidate":"x"}}`)); err != nil {
		t.Fatal(err)
	}
	none(t, pr)
	// Each party sends only its own half.
	for _, tc := range []struct {
		p   *Peer
		msg string
	}{{cl, `{"type":"admit"}`}, {cl, `{"type":"offer","sdp":"v=0"}`}, {pr, `{"type":"answer","sdp":"v=0"}`}, {pr, `{"type":"restart"}`},
		{cl, `{"type":"candidate","candidate":"text"}`}, {cl, `{"type":"hello"}`}, {cl, `not json`}} {
		if err := h.Receive(tc.p, []byte(tc.msg)); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s from %s: %v", tc.msg, tc.p.party, err)
		}
	}
	if err := h.Receive(pr, []byte(`{"type":"admit"}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, cl); m.Type != "admitted" {
		t.Fatalf("admitted: %+v", m)
	}
	next(t, cl)
	next(t, pr)
	if err := h.Receive(cl, []byte(`{"type":"answer","sdp":"v=0","name":"forged"}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, pr); m.Type != "answer" || m.Name != "" {
		t.Fatalf("relayed: %+v", m)
	}
	if err := h.Receive(cl, []byte(`{"type":"leave"}`)); !errors.Is(err, ErrLeave) {
		t.Fatalf("leave: %v", err)
	}
	h.Leave(cl, "left")
	if m := next(t, pr); m.Type != "peer-left" || m.Reason != "left" {
		t.Fatalf("peer-left: %+v", m)
	}
	h.Leave(pr, "left")
	if open, _ := h.Rooms(); open != 0 {
		t.Fatalf("%d rooms left open", open)
	}
}

func TestRoomOfAnotherSlotIsClosed(t *testing.T) {
	h := NewHub(time.Now)
	old := h.Join(1, 100, store.PartyClient, "A")
	again := h.Join(1, 100, store.PartyClient, "A")
	if old.Reason() != ReasonReplaced {
		t.Fatalf("second tab: %q", old.Reason())
	}
	h.Join(1, 200, store.PartyPractitioner, "")
	if again.Reason() != ReasonMoved {
		t.Fatalf("new slot: %q", again.Reason())
	}
	h.Close(1, ReasonCancelled)
	if open, _ := h.Rooms(); open != 0 {
		t.Fatal("the room stayed open")
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := NewHub(func() time.Time { return now })
	p := h.Join(1, 100, store.PartyPractitioner, "")
	for i := range MessageBurst {
		if err := h.Receive(p, []byte(`{"type":"media"}`)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := h.Receive(p, []byte(`{"type":"media"}`)); !errors.Is(err, ErrRate) {
		t.Fatalf("over the burst: %v", err)
	}
	now = now.Add(time.Second)
	if err := h.Receive(p, []byte(`{"type":"media"}`)); err != nil {
		t.Fatalf("a second later: %v", err)
	}
}

func TestWindow(t *testing.T) {
	w := WindowOf(store.DefaultPractice())
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	a := store.Appointment{Start: start, Minutes: 50, Kind: store.KindVideo, Status: store.StatusBooked}
	for _, tc := range []struct {
		at   time.Time
		want State
	}{
		{start.Add(-15*time.Minute - time.Second), NotYet},
		{start.Add(-15 * time.Minute), Open},
		{start.Add(80*time.Minute - time.Second), Open},
		{start.Add(80 * time.Minute), Over},
	} {
		if got := w.StateAt(a, tc.at); got != tc.want {
			t.Errorf("at %s: %d, want %d", tc.at.Format(time.TimeOnly), got, tc.want)
		}
	}
	a.Status = store.StatusCancelled
	if w.StateAt(a, start) != Cancelled {
		t.Error("a cancelled session's room is open")
	}
	a.Status, a.Kind = store.StatusBooked, store.KindInPerson
	if w.StateAt(a, start) != NotVideo {
		t.Error("an in-person session has a room")
	}
}

func TestParseICEServers(t *testing.T) {
	got, err := ParseICEServers(`[{"urls":"stun:stun.example.org:3478"},{"urls":["turn:turn.example.org"],"username":"u","credential":"p"}]`)
	if err != nil || len(got) != 2 || got[1].URLs[0] != "turn:turn.example.org" || got[1].Credential != "p" {
		t.Fatalf("%+v %v", got, err)
	}
	if got, err := ParseICEServers("stun:a.example.org, stun:b.example.org:3478"); err != nil || len(got) != 2 {
		t.Fatalf("list: %+v %v", got, err)
	}
	for _, bad := range []string{"https://example.org", `[{"urls":"turn:t.example.org"}]`, `[{"urls":3}]`, "[not json"} {
		if _, err := ParseICEServers(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
