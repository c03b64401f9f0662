package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/turn/v4"

	"foyer/delivery"
	"foyer/store"
	"foyer/video"
)

// videoSetup books a video session for a client with a portal account, 20
// minutes after the test clock (10:00 UTC, 11:00 in Paris): it starts at
// 10:20 UTC, its room opens at 10:05 and closes at 11:40 (50 minutes + 30).
func videoSetup(t *testing.T) (a *testApp, owner, client *browser) {
	a = newTestApp(t)
	owner = a.setUp()
	path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet", "lang", "en")
	if r := owner.post(path+"/appointments", formOf("date", "2026-11-25", "time", "11:20", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("book: %d %s", r.Code, abbreviate(r.body))
	}
	return a, owner, client
}

// pass moves the clock by d in steps short of the idle timeout, each browser
// making a request on the way, as people with the page open would.
func (a *testApp) pass(d time.Duration, bs ...*browser) {
	for d > 0 {
		step := min(d, 20*time.Minute)
		a.advance(step)
		d -= step
		for _, b := range bs {
			b.get("/healthz")
			if b.me() != nil {
				b.get("/account")
			} else {
				b.get("/portal/account")
			}
		}
	}
}

func TestVideoJoinWindow(t *testing.T) {
	t.Parallel()
	a, owner, client := videoSetup(t)
	// 10:00 UTC: the room opens at 10:05 UTC, 11:05 in Paris.
	r := client.get("/portal/video/1")
	if r.Code != http.StatusOK {
		t.Fatalf("before: %d", r.Code)
	}
	mustContain(t, r, "The room opens on November\u00a025, 2026 at\u00a011:05\u00a0AM.", "Video session with Olive Owner")
	mustNotContain(t, r, `id="room"`, "room.")
	if pp := r.Header().Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "microphone=()") {
		t.Fatalf("closed room allows the camera: %q", pp)
	}
	mustContain(t, client.get("/portal/account"), "Video room opens at 11:05\u00a0AM")
	mustNotContain(t, client.get("/portal/account"), "Join the video session")
	mustContain(t, owner.get("/"), "Video room opens at 11:05\u00a0AM")
	mustContain(t, owner.get("/appointments/1/video"), "The room opens on")

	a.advance(4*time.Minute + 59*time.Second)
	mustContain(t, client.get("/portal/video/1"), "The room opens on")
	a.advance(time.Second)
	for _, tc := range []struct {
		b    *browser
		path string
	}{{client, "/portal/video/1"}, {owner, "/appointments/1/video"}} {
		r := tc.b.get(tc.path)
		mustContain(t, r, `id="room"`, `data-socket="`+tc.path+`/ws?slot=`, "/static/room.")
		if pp := r.Header().Get("Permissions-Policy"); !strings.Contains(pp, "camera=(self)") || !strings.Contains(pp, "microphone=(self)") {
			t.Errorf("%s: the room does not allow the camera: %q", tc.path, pp)
		}
		csp := r.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "connect-src 'self' ws://localhost:8080") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
	}
	// Every other page keeps the camera and microphone off.
	for _, p := range []string{"/portal/account"} {
		if pp := client.get(p).Header().Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") {
			t.Errorf("%s allows the camera: %q", p, pp)
		}
	}
	if pp := owner.get("/").Header().Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") {
		t.Errorf("the agenda allows the camera: %q", pp)
	}
	mustContain(t, client.get("/portal/account"), `href="/portal/video/1"`, "Join the video session")
	mustContain(t, owner.get("/"), `href="/appointments/1/video"`, "Join the video session")
	mustContain(t, owner.get("/clients/1"), `href="/appointments/1/video"`, "Join the video session")

	// The session started 30 minutes ago: still "next" for the client, who may be late.
	a.pass(45*time.Minute, owner, client)
	mustContain(t, client.get("/portal/account"), "Join the video session")
	// 11:40 UTC: 50 minutes of session and 30 more, the room is closed.
	a.pass(50*time.Minute-time.Second, owner, client)
	mustContain(t, client.get("/portal/video/1"), `id="room"`)
	a.advance(time.Second)
	mustContain(t, client.get("/portal/video/1"), "This session is over: its room closed at 12:40\u00a0PM.")
	mustNotContain(t, client.get("/portal/account"), "Join the video session")

	// The practice setting moves the window.
	owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR",
		"brand_color", "#2f5d62", "currency", "EUR", "video_early", "15", "video_late", "45"))
	mustContain(t, client.get("/portal/video/1"), `id="room"`)
	r = owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR",
		"brand_color", "#2f5d62", "currency", "EUR", "video_early", "90", "video_late", "45"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("90 minutes early: %d", r.Code)
	}
	mustContain(t, r, "Enter a whole number of minutes in the range shown.", `value="90"`)
}

func TestVideoReminderLinksToThePortal(t *testing.T) {
	t.Parallel()
	a, _, _ := videoSetup(t)
	if n, err := a.jobs.SendReminders(a.now()); err != nil || n != 1 {
		t.Fatalf("reminders: %d %v", n, err)
	}
	msgs, _ := a.st.ListMessages(0, 10)
	var m delivery.Outgoing
	for _, x := range msgs {
		if x.Kind == "reminder" {
			m = a.sent(x)
		}
	}
	for _, want := range []string{"video session with Olive Owner", "sign in to your client portal", "15 minutes before", "Sign in to join the session: http://localhost:8080/portal\n"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("reminder lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "/video") || strings.Contains(m.HTML, "/video") {
		t.Fatalf("the reminder links to the room itself:\n%s", m.Text)
	}
}

// socket is one party's WebSocket to a room, over a real HTTP server.
type socket struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialRoom(t *testing.T, srv *httptest.Server, b *browser, path string, header ...string) (*socket, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	var cookies []string
	for _, c := range b.cookies {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	h.Set("Cookie", strings.Join(cookies, "; "))
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+path, &websocket.DialOptions{HTTPHeader: h,
		HTTPClient: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}})
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(1 << 20)
	s := &socket{t: t, conn: conn}
	t.Cleanup(func() { conn.CloseNow() })
	return s, resp, nil
}

// joinRoom dials a room as b and reads its welcome.
func joinRoom(t *testing.T, srv *httptest.Server, b *browser, path string) *socket {
	t.Helper()
	s, _, err := dialRoom(t, srv, b, path)
	if err != nil {
		t.Fatal(err)
	}
	s.expect("welcome")
	return s
}

func (s *socket) send(m any) {
	s.t.Helper()
	raw, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, raw); err != nil {
		s.t.Fatalf("send: %v", err)
	}
}

// read returns the next message, or the close status when the server closed.
func (s *socket) read() (video.Message, websocket.StatusCode) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, raw, err := s.conn.Read(ctx)
	if err != nil {
		if st := websocket.CloseStatus(err); st != -1 {
			return video.Message{}, st
		}
		s.t.Fatalf("read: %v", err)
	}
	var m video.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		s.t.Fatalf("bad message %s", raw)
	}
	return m, -1
}

// expect reads the next message and checks its type.
func (s *socket) expect(typ string) video.Message {
	s.t.Helper()
	m, st := s.read()
	if m.Type != typ {
		s.t.Fatalf("got %+v (close %d), want %s", m, st, typ)
	}
	return m
}

// closed reads until the connection ends and returns its close status.
func (s *socket) closed() websocket.StatusCode {
	s.t.Helper()
	for range 200 {
		if _, st := s.read(); st != -1 {
			return st
		}
	}
	s.t.Fatal("the connection stayed open")
	return -1
}

func slotPath(base string, a *testApp) string {
	ap, _ := a.st.Appointment(1)
	return base + "/ws?slot=" + itoa(uint64(video.Slot(ap)))
}

func TestVideoSignalling(t *testing.T) {
	t.Parallel()
	a, owner, client := videoSetup(t)
	a.advance(10 * time.Minute)
	srv := httptest.NewServer(a.e)
	defer srv.Close()

	pr := joinRoom(t, srv, owner, slotPath("/appointments/1/video", a))
	// The join is recorded just after the welcome is sent: wait for it, so the
	// log's order is the order of arrival, as for the departures below.
	waitForVideoEvent(t, a.st, 1, store.PartyPractitioner, true)
	cl := joinRoom(t, srv, client, slotPath("/portal/video/1", a))
	if m := cl.expect("waiting"); !m.Present {
		t.Fatal("the client is not told the practitioner is there")
	}
	if m := pr.expect("knock"); m.Name != "Éloïse Durand" {
		t.Fatalf("knock: %+v", m)
	}
	pr.send(map[string]any{"type": "admit"})
	cl.expect("admitted")
	cl.expect("ready")
	pr.expect("ready")
	const marker = "a=fingerprint:sha-256 PRIVATE-SDP-MARKER"
	pr.send(map[string]any{"type": "offer", "sdp": "v=0\r\n" + marker + "\r\n", "extra": "dropped by the relay"})
	if m := cl.expect("offer"); !strings.Contains(m.SDP, marker) {
		t.Fatalf("offer: %+v", m)
	}
	cl.send(map[string]any{"type": "answer", "sdp": "v=0\r\nanswer PRIVATE-SDP-MARKER\r\n"})
	pr.expect("answer")
	cl.send(map[string]any{"type": "candidate", "candidate": map[string]any{"candidate": "candidate:2 1 udp 2 198.51.100.9 6000 typ srflx", "sdpMid": "0"}})
	if m := pr.expect("candidate"); !bytes.Contains(m.Candidate, []byte("198.51.100.9")) {
		t.Fatalf("candidate: %s", m.Candidate)
	}
	cl.send(map[string]any{"type": "media", "audio": false, "video": true})
	if m := pr.expect("media"); m.Audio == nil || *m.Audio {
		t.Fatalf("media: %+v", m)
	}
	cl.send(map[string]any{"type": "restart"})
	pr.expect("restart")

	// The client's network drops; back, they need no new admission.
	cl.conn.CloseNow()
	if m := pr.expect("peer-left"); m.Reason != "dropped" {
		t.Fatalf("drop: %+v", m)
	}
	waitForVideoEvent(t, a.st, 1, store.PartyClient, false)
	cl = joinRoom(t, srv, client, slotPath("/portal/video/1", a))
	cl.expect("admitted")
	cl.expect("ready")
	pr.expect("ready")

	// The practitioner marks the session attended from the room, then leaves; the client sees it.
	r := owner.post("/appointments/1/video/attended", nil, "X-Requested-With", "fetch")
	if r.Code != http.StatusNoContent {
		t.Fatalf("attended: %d", r.Code)
	}
	pr.send(map[string]any{"type": "leave"})
	if m := cl.expect("peer-left"); m.Reason != "left" {
		t.Fatalf("leave: %+v", m)
	}
	pr.closed()
	// The server records a departure when its side of the socket ends, which can come
	// after the client has already seen "peer-left": wait for the record before the
	// client leaves, so the log's order is the order things happened in.
	waitForVideoEvent(t, a.st, 1, store.PartyPractitioner, false)
	cl.send(map[string]any{"type": "leave"})
	cl.closed()
	waitForVideoEvent(t, a.st, 1, store.PartyClient, false)

	ap, _ := a.st.Appointment(1)
	if ap.Status != store.StatusAttended {
		t.Fatalf("status %s", ap.Status)
	}
	var got []string
	for _, e := range ap.Video {
		got = append(got, string(e.Party)+map[bool]string{true: "+", false: "-"}[e.Joined])
	}
	if strings.Join(got, " ") != "practitioner+ client+ client- client+ practitioner- client-" {
		t.Fatalf("video log: %v", got)
	}
	mustContain(t, owner.get("/clients/1"), "Éloïse Durand joined at 11:10\u00a0AM", "Olive Owner left at 11:10\u00a0AM")

	// Nothing of the signalling is kept: not the SDP, not a candidate's address.
	var backup bytes.Buffer
	if _, err := a.st.WriteBackup(&backup); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"PRIVATE-SDP-MARKER", "198.51.100.9"} {
		if bytes.Contains(backup.Bytes(), []byte(secret)) {
			t.Errorf("the data file holds %q", secret)
		}
	}
}

func TestVideoRefusesOthers(t *testing.T) {
	t.Parallel()
	a, owner, _ := videoSetup(t)
	_, other := a.clientWithPortal(owner, "bob@example.org", "bob's long password", "first_name", "Bob", "last_name", "Roux", "lang", "en")
	a.addStaff("Paul Practitioner", "paul@example.org", store.RolePractitioner)
	paul := a.signIn("paul@example.org", staffPassword)
	a.addStaff("Ada Admin", "ada@example.org", store.RoleAdmin)
	ada := a.signIn("ada@example.org", staffPassword)
	anon := a.browser()
	a.advance(10 * time.Minute)
	srv := httptest.NewServer(a.e)
	defer srv.Close()

	for _, tc := range []struct {
		who  string
		b    *browser
		path string
		code int
	}{
		{"another client", other, "/portal/video/1", http.StatusNotFound},
		{"another practitioner", paul, "/appointments/1/video", http.StatusNotFound},
		{"an admin who is not the practitioner", ada, "/appointments/1/video", http.StatusNotFound},
		{"anonymous on the portal", anon, "/portal/video/1", http.StatusSeeOther},
		{"anonymous on the staff side", anon, "/appointments/1/video", http.StatusSeeOther},
		{"a client on the staff side", other, "/appointments/1/video", http.StatusSeeOther},
		{"staff on the portal side", paul, "/portal/video/1", http.StatusSeeOther},
		{"a missing appointment", other, "/portal/video/99", http.StatusNotFound},
	} {
		if r := tc.b.get(tc.path); r.Code != tc.code {
			t.Errorf("%s: GET %s = %d, want %d", tc.who, tc.path, r.Code, tc.code)
		}
		if _, resp, err := dialRoom(t, srv, tc.b, slotPath(tc.path, a)); err == nil || resp == nil || resp.StatusCode != tc.code {
			t.Errorf("%s: socket %s = %v %v, want %d", tc.who, tc.path, resp, err, tc.code)
		}
		if r := tc.b.post("/appointments/1/video/attended", nil); r.Code != http.StatusNotFound && r.Code != http.StatusSeeOther {
			t.Errorf("%s: attended = %d", tc.who, r.Code)
		}
	}
	if ap, _ := a.st.Appointment(1); ap.Status != store.StatusBooked || len(ap.Video) != 0 {
		t.Fatalf("the refused touched the appointment: %+v", ap)
	}
	// Another site cannot open the room with the owner's cookies.
	if _, resp, err := dialRoom(t, srv, owner, slotPath("/appointments/1/video", a), "Origin", "https://evil.example"); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site socket: %v %v", resp, err)
	}
}

func TestVideoCancelledAndMoved(t *testing.T) {
	t.Parallel()
	a, owner, client := videoSetup(t)
	a.advance(10 * time.Minute)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	old := slotPath("/portal/video/1", a)
	cl := joinRoom(t, srv, client, old)
	cl.expect("waiting")
	// Rescheduled: whoever is in the old room is told, and the old room refuses.
	owner.post("/appointments/1", formOf("date", "2026-11-25", "time", "11:25", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	if m := cl.expect("closed"); m.Reason != video.ReasonMoved {
		t.Fatalf("moved: %+v", m)
	}
	cl, _, err := dialRoom(t, srv, client, old)
	if err != nil {
		t.Fatal(err)
	}
	if m := cl.expect("closed"); m.Reason != video.ReasonMoved {
		t.Fatalf("old slot: %+v", m)
	}
	// The new slot's room is open.
	cl = joinRoom(t, srv, client, slotPath("/portal/video/1", a))
	cl.expect("waiting")
	// Cancelled: the room closes, the page says so, the socket refuses.
	owner.post("/appointments/1/status", formOf("action", "cancelled"))
	if m := cl.expect("closed"); m.Reason != video.ReasonCancelled {
		t.Fatalf("cancelled: %+v", m)
	}
	r := client.get("/portal/video/1")
	if r.Code != http.StatusGone {
		t.Fatalf("cancelled page: %d", r.Code)
	}
	mustContain(t, r, "This session was cancelled")
	mustNotContain(t, r, `id="room"`)
	cl, _, err = dialRoom(t, srv, client, slotPath("/portal/video/1", a))
	if err != nil {
		t.Fatal(err)
	}
	if m := cl.expect("closed"); m.Reason != video.ReasonCancelled {
		t.Fatalf("socket of a cancelled session: %+v", m)
	}
	if r := owner.post("/appointments/1/video/attended", nil, "X-Requested-With", "fetch"); r.Code != http.StatusConflict {
		t.Fatalf("attended after cancel: %d", r.Code)
	}
}

func TestVideoMessageLimits(t *testing.T) {
	t.Parallel()
	a, owner, client := videoSetup(t)
	a.advance(10 * time.Minute)
	srv := httptest.NewServer(a.e)
	defer srv.Close()

	// Too big: the connection closes with "message too big".
	cl := joinRoom(t, srv, client, slotPath("/portal/video/1", a))
	cl.send(map[string]any{"type": "candidate", "candidate": map[string]any{"candidate": strings.Repeat("x", video.MaxMessage)}})
	if st := cl.closed(); st != websocket.StatusMessageTooBig {
		t.Fatalf("oversized message: close %d", st)
	}

	// Too many: with the clock still, the burst is all a browser gets.
	pr := joinRoom(t, srv, owner, slotPath("/appointments/1/video", a))
	for range video.MessageBurst {
		pr.send(map[string]any{"type": "media", "audio": true, "video": true})
	}
	pr.send(map[string]any{"type": "media", "audio": true, "video": true})
	if st := pr.closed(); st != websocket.StatusPolicyViolation {
		t.Fatalf("flood: close %d", st)
	}

	// A message a party may not send closes the connection too.
	cl = joinRoom(t, srv, client, slotPath("/portal/video/1", a))
	cl.send(map[string]any{"type": "admit"})
	if st := cl.closed(); st != websocket.StatusPolicyViolation {
		t.Fatalf("client admitting themselves: close %d", st)
	}

	// Opening the connection over and over is limited per person.
	code := 0
	for range 12 {
		_, resp, err := dialRoom(t, srv, client, slotPath("/portal/video/1", a))
		if err != nil && resp != nil {
			code = resp.StatusCode
			break
		}
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("12 connections at once: %d", code)
	}
}

// TestVideoSignedOutElsewhere: a connection ends when its sign-in does.
func TestVideoSignedOutElsewhere(t *testing.T) {
	t.Parallel()
	a, _, client := videoSetup(t)
	a.advance(10 * time.Minute)
	sessID := client.cookies["foyer_session"].Value
	ap, _ := a.st.Appointment(1)
	cl, _ := a.st.Client(1)
	rp := roomParty{appt: ap, client: cl, party: store.PartyClient}
	if r := a.h.roomStillOpen(rp, sessID); r != "" {
		t.Fatalf("open room refused: %s", r)
	}
	// Being in the room counts as activity: 25 minutes more, still signed in.
	a.advance(25 * time.Minute)
	if r := a.h.roomStillOpen(rp, sessID); r != "" {
		t.Fatalf("after 25 minutes: %s", r)
	}
	a.advance(25 * time.Minute)
	if r := a.h.roomStillOpen(rp, sessID); r != "" {
		t.Fatalf("after 50 minutes: %s", r)
	}
	client.post("/portal/signout", nil)
	if r := a.h.roomStillOpen(rp, sessID); r != video.ReasonSignedOut {
		t.Fatalf("signed out: %q", r)
	}
}

// TestVideoLogEscapesOnce: a name with markup shows as typed in the room log,
// escaped once by the template and no more.
func TestVideoLogEscapesOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path, client := a.clientWithPortal(owner, "claire@example.org", "bienvenue au cabinet", "first_name", "Claire <script>alert(1)</script>", "lang", "en")
	owner.post(path+"/appointments", formOf("date", "2026-11-25", "time", "11:20", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	a.advance(10 * time.Minute)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	cl := joinRoom(t, srv, client, slotPath("/portal/video/1", a))
	cl.send(map[string]any{"type": "leave"})
	cl.closed()
	r := owner.get(path)
	mustContain(t, r, "Claire &lt;script&gt;alert(1)&lt;/script&gt; Durand joined at 11:10\u00a0AM")
	mustNotContain(t, r, "&amp;lt;", "<script>alert")
	owner.lang = "fr"
	owner.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: "fr"}
	mustContain(t, owner.get(path), "Claire &lt;script&gt;alert(1)&lt;/script&gt; Durand a rejoint la salle à 11:10")
}

// waitForVideoEvent waits (up to 5 s) until the appointment's video log ends with
// the given party joining or leaving.
func waitForVideoEvent(t *testing.T, st *store.Store, id uint64, party store.VideoParty, joined bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ap, err := st.Appointment(id)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(ap.Video); n > 0 && ap.Video[n-1].Party == party && ap.Video[n-1].Joined == joined {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("video log never ended with %s joined=%v: %+v", party, joined, ap.Video)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVideoOpensOnAnotherDay: a room that opens on a later day names the day
// ("opens on …"), one that opens today only the time ("opens at …").
func TestVideoOpensOnAnotherDay(t *testing.T) {
	t.Parallel()
	_, owner, client := videoSetup(t)
	path := "/clients/1"
	if r := owner.post(path+"/appointments", formOf("date", "2026-12-08", "time", "10:00", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("book: %d %s", r.Code, abbreviate(r.body))
	}
	r := owner.get(path)
	mustContain(t, r, "Video room opens at 11:05\u00a0AM", "Video room opens on December\u00a08, 2026 at\u00a09:45\u00a0AM")
	mustNotContain(t, r, "opens at December")
	mustContain(t, client.get("/portal/account"), "Video room opens at 11:05\u00a0AM")
}

// loopbackTURN starts the embedded TURN server on loopback sockets for a test.
func loopbackTURN(t *testing.T, now func() time.Time) *video.TURN {
	t.Helper()
	for try := 0; ; try++ {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp4", u.LocalAddr().String())
		if err != nil {
			u.Close()
			if try == 20 {
				t.Fatal(err)
			}
			continue
		}
		srv, err := video.StartTURN(video.TURNConfig{Addr: u.LocalAddr().String(), MinPort: 50200, MaxPort: 50300, UDP: u, TCP: l}, now,
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
}

// allocate makes a TURN relay with the credentials of a welcome.
func allocate(t *testing.T, ice video.ICEServer) (net.PacketConn, error) {
	t.Helper()
	addr := strings.TrimPrefix(strings.Split(ice.URLs[0], "?")[0], "turn:")
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Username: ice.Username, Password: ice.Credential,
		Realm: "127.0.0.1", Conn: conn, RTO: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	relay, err := c.Allocate()
	if err == nil {
		t.Cleanup(func() { relay.Close() })
	}
	return relay, err
}

// TestVideoAccessRemovedClosesAtOnce: removing a client's portal access, or
// archiving the client, closes their room connection at once (not at the
// next periodic check), tells the practitioner, and voids their TURN
// credential; the practitioner's stays good.
func TestVideoAccessRemovedClosesAtOnce(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"/clients/1/portal/remove", "/clients/1/archive"} {
		t.Run(how, func(t *testing.T) {
			a := newTestApp(t)
			tr := loopbackTURN(t, a.now)
			a = newTestAppConfig(t, Config{TURN: tr})
			owner := a.setUp()
			path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet", "lang", "en")
			owner.post(path+"/appointments", formOf("date", "2026-11-25", "time", "11:20", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
			a.advance(10 * time.Minute)
			srv := httptest.NewServer(a.e)
			defer srv.Close()

			pr, _, err := dialRoom(t, srv, owner, slotPath("/appointments/1/video", a))
			if err != nil {
				t.Fatal(err)
			}
			prICE := pr.expect("welcome").ICEServers
			cl, _, err := dialRoom(t, srv, client, slotPath("/portal/video/1", a))
			if err != nil {
				t.Fatal(err)
			}
			clICE := cl.expect("welcome").ICEServers
			if len(clICE) != 1 || len(prICE) != 1 {
				t.Fatalf("TURN entries: %+v %+v", clICE, prICE)
			}
			if _, err := allocate(t, clICE[0]); err != nil {
				t.Fatalf("the client's credential before: %v", err)
			}
			cl.expect("waiting")
			pr.expect("knock")
			pr.send(map[string]any{"type": "admit"})
			cl.expect("admitted")
			cl.expect("ready")
			pr.expect("ready")

			start := time.Now()
			if r := owner.post(how, nil); r.Code != http.StatusSeeOther {
				t.Fatalf("%s: %d", how, r.Code)
			}
			if m := cl.expect("closed"); m.Reason != video.ReasonRemoved {
				t.Fatalf("closed: %+v", m)
			}
			if took := time.Since(start); took > time.Second {
				t.Fatalf("the socket closed %v after the access was removed", took)
			}
			cl.closed()
			if m := pr.expect("peer-left"); m.Reason != video.ReasonRemoved {
				t.Fatalf("the practitioner is told: %+v", m)
			}
			if _, err := allocate(t, clICE[0]); err == nil {
				t.Fatal("the removed client's TURN credential still makes a relay")
			}
			if _, err := allocate(t, prICE[0]); err != nil {
				t.Fatalf("the practitioner's credential: %v", err)
			}
		})
	}
}

// TestVideoCancelVoidsTURN: cancelling the appointment voids both parties'
// TURN credentials for its room.
func TestVideoCancelVoidsTURN(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a = newTestAppConfig(t, Config{TURN: loopbackTURN(t, a.now)})
	owner := a.setUp()
	path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet", "lang", "en")
	owner.post(path+"/appointments", formOf("date", "2026-11-25", "time", "11:20", "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1"))
	a.advance(10 * time.Minute)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	cl, _, err := dialRoom(t, srv, client, slotPath("/portal/video/1", a))
	if err != nil {
		t.Fatal(err)
	}
	ice := cl.expect("welcome").ICEServers[0]
	cl.expect("waiting")
	owner.post("/appointments/1/status", formOf("action", "cancelled"))
	if m := cl.expect("closed"); m.Reason != video.ReasonCancelled {
		t.Fatalf("cancelled: %+v", m)
	}
	if _, err := allocate(t, ice); err == nil {
		t.Fatal("a cancelled session's TURN credential still makes a relay")
	}
}

// TestVideoDropsOnTheRecord: a drop and a recovery reported by the browsers
// are kept on the appointment, once each, and the practitioner reads them
// with how long the line was down; nothing is kept before admission.
func TestVideoDropsOnTheRecord(t *testing.T) {
	t.Parallel()
	a, owner, client := videoSetup(t)
	a.advance(10 * time.Minute)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	pr := joinRoom(t, srv, owner, slotPath("/appointments/1/video", a))
	cl := joinRoom(t, srv, client, slotPath("/portal/video/1", a))
	cl.expect("waiting")
	pr.expect("knock")
	pr.send(map[string]any{"type": "admit"})
	cl.expect("admitted")
	cl.expect("ready")
	pr.expect("ready")
	// Each side sends its messages in order: a quality message the other
	// side receives shows the ones before it were handled.
	cl.send(map[string]any{"type": "drop"})
	cl.send(map[string]any{"type": "quality", "quality": "reconnecting"})
	if m := pr.expect("quality"); m.Quality != video.QualityReconnecting {
		t.Fatalf("quality: %+v", m)
	}
	pr.send(map[string]any{"type": "drop"}) // the same drop, seen from the other side
	pr.send(map[string]any{"type": "quality", "quality": "reconnecting"})
	cl.expect("quality")
	a.advance(4 * time.Second)
	pr.send(map[string]any{"type": "recovered"})
	pr.send(map[string]any{"type": "quality", "quality": "good"})
	cl.expect("quality")
	cl.send(map[string]any{"type": "recovered"})
	cl.send(map[string]any{"type": "quality", "quality": "good"})
	pr.expect("quality")
	// Both reports of each are in; only the first of each was kept.
	pr.send(map[string]any{"type": "leave"})
	pr.closed()
	waitForVideoEvent(t, a.st, 1, store.PartyPractitioner, false)
	ap, _ := a.st.Appointment(1)
	var got []string
	for _, e := range ap.Video {
		got = append(got, string(e.Party)+":"+e.Event+map[bool]string{true: "+", false: "-"}[e.Joined])
	}
	if strings.Join(got, " ") != "practitioner:+ client:+ client:drop- practitioner:recovered- practitioner:-" {
		t.Fatalf("video log: %v", got)
	}
	for _, page := range []string{"/clients/1", "/appointments/1/video"} {
		mustContain(t, owner.get(page), "The connection was lost at 11:10\u00a0AM", "The connection came back at 11:10\u00a0AM, after 4 seconds")
	}
}

// TestVideoRoomSaysWhomToCall: when the connection does not come back, the
// client's room names the practice's phone number (Settings), the
// practitioner's the client's, each as a tel: link; a practice without a
// number tells the client to contact it another way.
func TestVideoRoomSaysWhomToCall(t *testing.T) {
	t.Parallel()
	a, owner, client := videoSetup(t)
	a.advance(10 * time.Minute)
	mustContain(t, client.get("/portal/video/1"), "Contact the practice by phone or email.")
	if r := owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR",
		"currency", "EUR", "brand_color", "#2f5d62", "phone", "01 42 00 00 00", "vat_note", "TVA non applicable")); r.Code != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", r.Code, abbreviate(r.body))
	}
	r := client.get("/portal/video/1")
	mustContain(t, r, "Call the practice:", `href="tel:&#43;33142000000"`, "01 42 00 00 00", "you will not need to be let in again")
	mustNotContain(t, r, "Contact the practice by phone or email.")
	owner.post("/clients/1", formOf("first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org", "lang", "en",
		"phone_0", "06 12 34 56 78", "phone_0_type", "mobile", "practitioner", "1"))
	mustContain(t, owner.get("/appointments/1/video"), "Call Éloïse Durand:", `href="tel:&#43;33612345678"`, "go on with the session by phone")
}
