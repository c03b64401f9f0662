package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestVideoServerLoad measures the server's CPU for the signalling of many
// open rooms: FOYER_VIDEO_LOAD=20 go test ./e2e -run VideoServerLoad -v.
// Skipped otherwise: it takes a few minutes and measures, it does not check.
func TestVideoServerLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FOYER_VIDEO_LOAD"))
	if n == 0 {
		t.Skip("set FOYER_VIDEO_LOAD to the number of rooms to measure")
	}
	srv := startFoyer(t)
	owner := newHTTPUser(t, srv.base)
	owner.post("/setup", "practice_name", "Cabinet Lumière", "default_lang", "fr", "name", "Olive Owner", "email", "owner@example.org", "password", "correct horse battery staple")
	paris, _ := time.LoadLocation("Europe/Paris")
	start := time.Now().In(paris).Truncate(time.Minute)
	clients := make([]*httpUser, n)
	for i := range n {
		email := fmt.Sprintf("client%d@example.org", i)
		loc := owner.post("/clients", "first_name", "Client", "last_name", strconv.Itoa(i), "email", email, "lang", "fr", "practitioner", "1")
		owner.post(loc+"/portal", "portal_email", email, "portal_password", "a long enough password")
		owner.post(loc+"/appointments", "date", start.Format("2006-01-02"), "time", start.Format("15:04"), "minutes", "50", "kind", "video", "fee", "80", "practitioner", "1")
		clients[i] = newHTTPUser(t, srv.base)
		clients[i].post("/portal", "email", email, "password", "a long enough password")
	}
	slot := strconv.FormatInt(start.Unix(), 10)
	type room struct{ pr, cl *websocket.Conn }
	rooms := make([]room, n)
	for i := range n {
		if i >= 10 {
			time.Sleep(3100 * time.Millisecond) // one practitioner opening many rooms meets the connect limit
		}
		rooms[i].pr = owner.dial(fmt.Sprintf("/appointments/%d/video/ws?slot=%s", i+1, slot))
		rooms[i].cl = clients[i].dial(fmt.Sprintf("/portal/video/%d/ws?slot=%s", i+1, slot))
	}
	// Drain what the server sends, as browsers do.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, r := range rooms {
		for _, c := range []*websocket.Conn{r.pr, r.cl} {
			go func() {
				for {
					if _, _, err := c.Read(ctx); err != nil {
						return
					}
				}
			}()
		}
	}
	send := func(c *websocket.Conn, m map[string]any) {
		raw, _ := json.Marshal(m)
		if err := c.Write(ctx, websocket.MessageText, raw); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	cpu0 := serverCPU(t, srv)
	// A session's signalling: admit, offer, answer, a dozen candidates each way.
	sdp := "v=0\r\n" + strings.Repeat("a=candidate-ish line of a real SDP offer\r\n", 150)
	for _, r := range rooms {
		send(r.pr, map[string]any{"type": "admit"})
	}
	time.Sleep(200 * time.Millisecond)
	for _, r := range rooms {
		send(r.pr, map[string]any{"type": "offer", "sdp": sdp})
		send(r.cl, map[string]any{"type": "answer", "sdp": sdp})
		for k := range 12 {
			c := map[string]any{"candidate": fmt.Sprintf("candidate:%d 1 udp 2122260223 192.0.2.%d 5%04d typ host", k, k, k), "sdpMid": "0", "sdpMLineIndex": 0}
			send(r.pr, map[string]any{"type": "candidate", "candidate": c})
			send(r.cl, map[string]any{"type": "candidate", "candidate": c})
		}
	}
	time.Sleep(2 * time.Second)
	cpu1 := serverCPU(t, srv)
	// Then the rooms sit in session for a minute: a mute now and then, and the server's own checks.
	idle := time.Minute
	deadline := time.Now().Add(idle)
	for time.Now().Before(deadline) {
		for _, r := range rooms {
			send(r.cl, map[string]any{"type": "media", "audio": true, "video": true})
		}
		time.Sleep(10 * time.Second)
	}
	cpu2 := serverCPU(t, srv)
	setup, steady := cpu1-cpu0, cpu2-cpu1
	t.Logf("%d rooms: setup (admit, offer, answer, 24 candidates) %v CPU in all, %v per room; in session %v CPU per room per minute (%.3f%% of one core)",
		n, setup, setup/time.Duration(n), steady/time.Duration(n), 100*float64(steady)/float64(n)/float64(idle))
}

// serverCPU reads the server process's user+system CPU time from /proc.
func serverCPU(t *testing.T, srv *server) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", srv.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// httpUser is a person signed in over plain HTTP, with cookies.
type httpUser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newHTTPUser(t *testing.T, base string) *httpUser {
	jar, _ := cookiejar.New(nil)
	u := &httpUser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := u.c.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = u.c.Get(base + "/portal")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return u
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// token is the CSRF token a page gives this person now: from their account
// page once signed in, else from a page any visitor sees.
func (u *httpUser) token() string {
	u.t.Helper()
	for _, path := range []string{"/account", "/portal/account", "/setup", "/signin"} {
		resp, err := u.c.Get(u.base + path)
		if err != nil {
			u.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := csrfField.FindSubmatch(body); resp.StatusCode == http.StatusOK && m != nil {
			return string(m[1])
		}
	}
	u.t.Fatal("no page gives a CSRF token")
	return ""
}

// post sends a form and returns where it redirects.
func (u *httpUser) post(path string, kv ...string) string {
	u.t.Helper()
	f := url.Values{"_csrf": {u.token()}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	resp, err := u.c.PostForm(u.base+path, f)
	if err != nil {
		u.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		u.t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func (u *httpUser) dial(path string) *websocket.Conn {
	u.t.Helper()
	b, _ := url.Parse(u.base)
	h := http.Header{}
	for _, c := range u.c.Jar.Cookies(b) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(u.base, "http")+path, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		u.t.Fatalf("dial %s: %v", path, err)
	}
	u.t.Cleanup(func() { c.CloseNow() })
	return c
}
