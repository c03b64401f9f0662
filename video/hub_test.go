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
	h := NewHub(func() time.Time { return now }, nil)
	cl := h.Join(1, 100, store.PartyClient, "client-1", "Éloïse Durand")
	if m := next(t, cl); m.Type != "waiting" || m.Present {
		t.Fatalf("alone: %+v", m)
	}
	pr := h.Join(1, 100, store.PartyPractitioner, "staff-1", "")
	if m := next(t, cl); m.Type != "waiting" || !m.Present {
		t.Fatalf("practitioner arrived: %+v", m)
	}
	if m := next(t, pr); m.Type != "knock" || m.Name != "Éloïse Durand" {
		t.Fatalf("knock: %+v", m)
	}
	// Before admission nothing passes either way.
	if _, err := h.Receive(cl, []byte(`{"type":"candidate","candidate":{"candidate":"x"}}`)); err != nil {
		t.Fatal(err)
	}
	none(t, pr)
	// Each party sends only its own half.
	for _, tc := range []struct {
		p   *Peer
		msg string
	}{{cl, `{"type":"admit"}`}, {cl, `{"type":"offer","sdp":"v=0"}`}, {pr, `{"type":"answer","sdp":"v=0"}`}, {pr, `{"type":"restart"}`},
		{cl, `{"type":"candidate","candidate":"text"}`}, {cl, `{"type":"hello"}`}, {cl, `not json`}} {
		if _, err := h.Receive(tc.p, []byte(tc.msg)); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s from %s: %v", tc.msg, tc.p.party, err)
		}
	}
	if _, err := h.Receive(pr, []byte(`{"type":"admit"}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, cl); m.Type != "admitted" {
		t.Fatalf("admitted: %+v", m)
	}
	next(t, cl)
	next(t, pr)
	if _, err := h.Receive(cl, []byte(`{"type":"answer","sdp":"v=0","name":"forged"}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, pr); m.Type != "answer" || m.Name != "" {
		t.Fatalf("relayed: %+v", m)
	}
	if _, err := h.Receive(cl, []byte(`{"type":"leave"}`)); !errors.Is(err, ErrLeave) {
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
	h := NewHub(time.Now, nil)
	old := h.Join(1, 100, store.PartyClient, "client-1", "A")
	again := h.Join(1, 100, store.PartyClient, "client-1", "A")
	if old.Reason() != ReasonReplaced {
		t.Fatalf("second tab: %q", old.Reason())
	}
	h.Join(1, 200, store.PartyPractitioner, "staff-1", "")
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
	h := NewHub(func() time.Time { return now }, nil)
	p := h.Join(1, 100, store.PartyPractitioner, "staff-1", "")
	for i := range MessageBurst {
		if _, err := h.Receive(p, []byte(`{"type":"media"}`)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if _, err := h.Receive(p, []byte(`{"type":"media"}`)); !errors.Is(err, ErrRate) {
		t.Fatalf("over the burst: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := h.Receive(p, []byte(`{"type":"media"}`)); err != nil {
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

// admittedRoom puts a practitioner and an admitted client in room 1 and
// drains what they were told.
func admittedRoom(t *testing.T, h *Hub) (pr, cl *Peer) {
	t.Helper()
	pr = h.Join(1, 100, store.PartyPractitioner, "staff-1", "")
	cl = h.Join(1, 100, store.PartyClient, "client-1", "Éloïse Durand")
	if _, err := h.Receive(pr, []byte(`{"type":"admit"}`)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Peer{pr, cl} {
		for len(p.Out()) > 0 {
			<-p.Out()
		}
	}
	return pr, cl
}

// TestDropsAreRecordedOnce: both browsers see the same drop; the room records
// the first report of a drop and of the recovery, nothing before admission,
// and at most maxDrops drops.
func TestDropsAreRecordedOnce(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := NewHub(func() time.Time { return now }, nil)
	alone := h.Join(2, 100, store.PartyClient, "client-2", "Bruno Roux")
	if rec, err := h.Receive(alone, []byte(`{"type":"drop"}`)); rec != nil || err != nil {
		t.Fatalf("a drop before any session: %+v %v", rec, err)
	}
	pr, cl := admittedRoom(t, h)
	rec, err := h.Receive(cl, []byte(`{"type":"drop"}`))
	if err != nil || rec == nil || rec.Event != store.VideoDrop || rec.Party != store.PartyClient || !rec.At.Equal(now) {
		t.Fatalf("first drop: %+v %v", rec, err)
	}
	if rec, _ := h.Receive(pr, []byte(`{"type":"drop"}`)); rec != nil {
		t.Fatalf("the same drop seen by the other side: %+v", rec)
	}
	now = now.Add(4 * time.Second)
	if rec, _ := h.Receive(pr, []byte(`{"type":"recovered"}`)); rec == nil || rec.Event != store.VideoRecovered {
		t.Fatalf("recovery: %+v", rec)
	}
	if rec, _ := h.Receive(cl, []byte(`{"type":"recovered"}`)); rec != nil {
		t.Fatalf("the same recovery twice: %+v", rec)
	}
	none(t, pr)
	none(t, cl)
	recorded := 1
	for range 3 * maxDrops {
		now = now.Add(time.Second)
		if rec, _ := h.Receive(cl, []byte(`{"type":"drop"}`)); rec != nil {
			recorded++
		}
		h.Receive(cl, []byte(`{"type":"recovered"}`))
	}
	if recorded != maxDrops {
		t.Fatalf("%d drops recorded, want at most %d", recorded, maxDrops)
	}
}

// TestQualityAndShareAreRelayed: each side's connection quality reaches the
// other; only the practitioner allows screen sharing, and a client who comes
// back is told again.
func TestQualityAndShareAreRelayed(t *testing.T) {
	h := NewHub(time.Now, nil)
	pr, cl := admittedRoom(t, h)
	if _, err := h.Receive(cl, []byte(`{"type":"quality","quality":"poor"}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, pr); m.Type != "quality" || m.Quality != QualityPoor {
		t.Fatalf("quality: %+v", m)
	}
	for _, bad := range []string{`{"type":"quality","quality":"<b>"}`, `{"type":"share","allowed":true}`} {
		if _, err := h.Receive(cl, []byte(bad)); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s from the client: %v", bad, err)
		}
	}
	if _, err := h.Receive(pr, []byte(`{"type":"share","allowed":true}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, cl); m.Type != "share" || m.Allowed == nil || !*m.Allowed {
		t.Fatalf("share: %+v", m)
	}
	if _, err := h.Receive(cl, []byte(`{"type":"media","audio":true,"video":false,"screen":true,"audio_only":true}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, pr); m.Screen == nil || !*m.Screen || m.AudioOnly == nil || !*m.AudioOnly || *m.Video {
		t.Fatalf("media: %+v", m)
	}
	again := h.Join(1, 100, store.PartyClient, "client-1", "Éloïse Durand")
	if m := next(t, again); m.Type != "admitted" {
		t.Fatalf("back: %+v", m)
	}
	if m := next(t, again); m.Type != "share" || !*m.Allowed {
		t.Fatalf("back, sharing still allowed: %+v", m)
	}
}

// TestEndPerson: a person whose access is removed leaves every room at once,
// the other party is told, and others stay.
func TestEndPerson(t *testing.T) {
	h := NewHub(time.Now, nil)
	pr, cl := admittedRoom(t, h)
	other := h.Join(2, 100, store.PartyClient, "client-2", "Bruno Roux")
	h.EndPerson(ClientPerson(1), ReasonRemoved)
	select {
	case <-cl.Done():
	default:
		t.Fatal("the removed client is still in the room")
	}
	if cl.Reason() != ReasonRemoved {
		t.Fatalf("reason %q", cl.Reason())
	}
	if m := next(t, pr); m.Type != "peer-left" || m.Reason != ReasonRemoved {
		t.Fatalf("the practitioner is told: %+v", m)
	}
	for _, p := range []*Peer{pr, other} {
		select {
		case <-p.Done():
			t.Fatalf("%s was put out too", p.person)
		default:
		}
	}
	if open, full := h.Rooms(); open != 2 || full != 0 {
		t.Fatalf("rooms %d open, %d full", open, full)
	}
}

// TestShutdownEndsEveryRoom: a stop ends both parties of every room with
// "restarting" (not "peer-left": nobody left), and a join racing the stop is
// ended the same way, in no room.
func TestShutdownEndsEveryRoom(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := NewHub(func() time.Time { return now }, nil)
	var peers []*Peer
	for id := uint64(1); id <= 2; id++ {
		cl := h.Join(id, 100, store.PartyClient, ClientPerson(id), "Client")
		pr := h.Join(id, 100, store.PartyPractitioner, StaffPerson(1), "")
		if _, err := h.Receive(pr, []byte(`{"type":"admit"}`)); err != nil {
			t.Fatal(err)
		}
		peers = append(peers, cl, pr)
	}
	h.Shutdown(ReasonRestarting)
	for _, p := range peers {
		select {
		case <-p.Done():
		default:
			t.Fatalf("%s of room %d still open after Shutdown", p.party, p.room.id)
		}
		if p.Reason() != ReasonRestarting {
			t.Errorf("%s ended for %q", p.party, p.Reason())
		}
		for len(p.Out()) > 0 {
			if m := next(t, p); m.Type == "peer-left" {
				t.Errorf("%s told the other left: %+v", p.party, m)
			}
		}
	}
	if open, _ := h.Rooms(); open != 0 {
		t.Fatalf("%d rooms open after Shutdown", open)
	}
	late := h.Join(1, 100, store.PartyClient, ClientPerson(1), "Client")
	select {
	case <-late.Done():
	default:
		t.Fatal("a join after Shutdown is open")
	}
	if late.Reason() != ReasonRestarting {
		t.Errorf("a join after Shutdown ended for %q", late.Reason())
	}
	if open, _ := h.Rooms(); open != 0 {
		t.Fatalf("a join after Shutdown opened a room")
	}
}
