package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// inRoom books a video session starting now with a client who has portal
// access, and opens the room's socket for both parties, the client let in:
// the practitioner's and the client's connections, in session.
func inRoom(t *testing.T, srv *server) (pr, cl *websocket.Conn) {
	t.Helper()
	owner := newHTTPUser(t, srv.base)
	owner.post("/setup", "practice_name", "Cabinet Lumière", "default_lang", "fr", "name", "Olive Owner", "email", "owner@example.org", "password", "correct horse battery staple")
	paris, _ := time.LoadLocation("Europe/Paris")
	start := time.Now().In(paris).Truncate(time.Minute)
	loc := owner.post("/clients", "first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org", "lang", "fr", "practitioner", "1")
	owner.post(loc+"/portal", "portal_email", "eloise@example.org", "portal_password", "bienvenue au cabinet")
	owner.post(loc+"/appointments", "date", start.Format("2006-01-02"), "time", start.Format("15:04"), "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1")
	client := newHTTPUser(t, srv.base)
	client.post("/portal", "email", "eloise@example.org", "password", "bienvenue au cabinet")
	slot := strconv.FormatInt(start.Unix(), 10)
	pr = owner.dial("/appointments/1/video/ws?slot=" + slot)
	readUntil(t, pr, "welcome")
	cl = client.dial("/portal/video/1/ws?slot=" + slot)
	readUntil(t, cl, "waiting")
	readUntil(t, pr, "knock")
	write(t, pr, map[string]any{"type": "admit"})
	readUntil(t, cl, "ready")
	readUntil(t, pr, "ready")
	return pr, cl
}

type roomMessage struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// readUntil reads the socket until a message of type typ, and returns it.
func readUntil(t *testing.T, c *websocket.Conn, typ string) roomMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, raw, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", typ, err)
		}
		var m roomMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == typ {
			return m
		}
	}
}

func write(t *testing.T, c *websocket.Conn, m map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(m)
	if err := c.Write(context.Background(), websocket.MessageText, raw); err != nil {
		t.Fatal(err)
	}
}

// TestStopTellsTheVideoRoom: stopping Foyer (SIGTERM) with a session in
// its room tells both browsers "the server is restarting", closes their
// sockets with the close code saying so (1012, service restart), and ends
// as soon as nothing else is in flight, not at the shutdown timeout.
func TestStopTellsTheVideoRoom(t *testing.T) {
	srv := startFoyer(t, "FOYER_SHUTDOWN_TIMEOUT=20s")
	pr, cl := inRoom(t, srv)

	exited := make(chan error, 1)
	stop := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { exited <- srv.cmd.Wait() }()
	for name, c := range map[string]*websocket.Conn{"practitioner": pr, "client": cl} {
		m := readUntil(t, c, "closed")
		if m.Reason != "restarting" {
			t.Errorf("the %s is told %q, not that the server restarts", name, m.Reason)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := c.Read(ctx)
		cancel()
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusServiceRestart {
			t.Errorf("the %s's socket ends with %v, not a close frame with 1012 (service restart)", name, err)
		}
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit 20 s after SIGTERM")
	}
	took := time.Since(stop)
	t.Logf("stopped in %v with a session in the room", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("the stop took %v with a room open; nothing else was in flight", took)
	}
	log, _ := os.ReadFile(srv.log)
	if !strings.Contains(string(log), "stopped") {
		t.Errorf("log:\n%s", log)
	}
}

// TestVideoRoomComesBackAfterARestart: in a session, the server stops
// (SIGTERM) and starts again on the same address. Both browsers say the
// server is restarting and that they will be back, come back by themselves,
// the client is let in again without a second knock, and both see and hear
// each other again.
func TestVideoRoomComesBackAfterARestart(t *testing.T) {
	browser := newMediaBrowser(t)
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	bookVideoSession(staff, "Éloïse", "Durand", "eloise@example.org", "bienvenue au cabinet")
	staff.enterRoom()
	client := newTab(t, browser, srv.base)
	client.do(chromedp.EmulateViewport(390, 844))
	clientToRoom(client, "eloise@example.org", "bienvenue au cabinet")
	client.enterRoom()
	admit(staff, client)
	js[bool](client, `(window.__pcBefore = window.foyerRoom.pc(), true)`)

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	const restarting = "Le serveur redémarre : la connexion reprendra d’elle-même dans un instant."
	client.expectIn("#room-status", restarting)
	staff.expectIn("#room-status", restarting)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	client.screenshot("video-restarting")
	// While it is down, the browsers keep saying so (their retries fail).
	time.Sleep(1500 * time.Millisecond)
	client.expectIn("#room-status", restarting)

	// The same server, started again.
	startFoyerAt(t, srv.data, strings.TrimPrefix(srv.base, "http://"))
	staff.waitFor(30*time.Second, "the practitioner's new connection carries video", `window.foyerRoom.pc() !== null && window.foyerRoom.pc().connectionState === "connected"`)
	client.waitFor(30*time.Second, "the client's new connection carries video", `window.foyerRoom.pc() !== window.__pcBefore && window.foyerRoom.pc() !== null && window.foyerRoom.pc().connectionState === "connected"`)
	deadline := time.Now().Add(20 * time.Second)
	for client.frames() == 0 || staff.frames() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no video 20 s after the restart: client %d frames, practitioner %d", client.frames(), staff.frames())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if js[bool](staff, `!document.getElementById("room-knock").hidden`) {
		t.Error("the practitioner is asked to let the client in again")
	}
	client.screenshot("video-back")
}
