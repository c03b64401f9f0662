package handlers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/store"
)

// The token is an HMAC of the session: another session's token, the old
// double-submit cookie value, or the token from before signing in are refused.
func TestCSRFTokenBoundToSession(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	pat := a.signIn("pat@example.org", staffPassword)
	other := a.signIn("pat@example.org", staffPassword)
	if pat.csrf() == other.csrf() {
		t.Fatal("two sessions have the same token")
	}
	form := func(token string) *resp {
		return pat.post("/account", formOf("_csrf", token, "name", "Pat", "email", "pat@example.org", "lang", "en"))
	}
	if r := form(other.csrf()); r.Code != http.StatusForbidden {
		t.Fatalf("another session's token: %d", r.Code)
	}
	anon := a.browser()
	anon.csrf()
	pat.cookies["foyer_csrf"] = anon.cookies["foyer_csrf"]
	if r := form(anon.cookies["foyer_csrf"].Value); r.Code != http.StatusForbidden {
		t.Fatalf("a bare cookie value as token: %d", r.Code)
	}
	if r := form(pat.csrf()); r.Code == http.StatusForbidden {
		t.Fatalf("the session's own token refused: %d", r.Code)
	}
	// The page's own token is the session's.
	if !strings.Contains(pat.get("/account").body, `value="`+pat.csrf()+`"`) {
		t.Fatal("the page does not carry the session's token")
	}
	// Signing in changes the session, and with it the token.
	v := a.browser()
	before := v.csrf()
	v.post("/signin", formOf("email", "pat@example.org", "password", staffPassword))
	if v.csrf() == before {
		t.Fatal("the token did not change at sign-in")
	}
	if r := v.post("/signout", formOf("_csrf", before)); r.Code != http.StatusForbidden {
		t.Fatalf("the token from before signing in still works: %d", r.Code)
	}
}

// An anonymous page gives a token without creating a session.
func TestAnonymousPageCreatesNoSession(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	b := a.browser()
	r := b.get("/signin")
	if !strings.Contains(r.body, b.csrf()) {
		t.Fatal("the sign-in page lacks the browser's token")
	}
	for _, c := range r.Result().Cookies() {
		if strings.Contains(c.Name, "session") {
			t.Fatalf("an anonymous GET set %s", c.Name)
		}
	}
}

// countingReader records whether anything read the body.
type countingReader struct {
	r    io.Reader
	read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

// An upload's token comes from the header or the URL: a token inside a
// multipart body is never looked for, so the body is not read before the check.
func TestCSRFNotReadFromMultipartBody(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("_csrf", owner.csrf())
	fw, _ := mw.CreateFormFile("logo", "logo.png")
	fw.Write(bytes.Repeat([]byte{0}, 1<<20))
	mw.Close()
	cr := &countingReader{r: bytes.NewReader(body.Bytes())}
	req := httptest.NewRequest(http.MethodPost, "/settings/logo", cr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := owner.do(req); r.Code != http.StatusForbidden {
		t.Fatalf("token in the multipart body: %d", r.Code)
	}
	if cr.read != 0 {
		t.Fatalf("the CSRF check read %d bytes of the upload", cr.read)
	}
	// In the header, as a script sends it, the upload goes through.
	req = httptest.NewRequest(http.MethodPost, "/settings/logo", bytes.NewReader(body.Bytes()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", owner.csrf())
	if r := owner.do(req); r.Code == http.StatusForbidden {
		t.Fatalf("token in the header: %d", r.Code)
	}
	// The settings page's form puts it in its URL.
	if !strings.Contains(owner.get("/settings").body, `action="/settings/logo?_csrf=`+owner.csrf()+`"`) {
		t.Fatal("the logo form does not carry its token in its URL")
	}
}

// http.CrossOriginProtection: a request from another origin is refused even
// with a valid token, by Sec-Fetch-Site or, from older browsers, by Origin.
func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		b := a.browser()
		r := b.post("/signin", formOf("email", "pat@example.org", "password", staffPassword), h...)
		if r.Code != http.StatusForbidden {
			t.Errorf("%s: %s: %d, want 403", h[0], h[1], r.Code)
		}
	}
	b := a.browser()
	if r := b.post("/signin", formOf("email", "pat@example.org", "password", staffPassword), "Origin", "http://localhost:8080"); r.Code != http.StatusSeeOther {
		t.Errorf("same origin (the base URL): %d", r.Code)
	}
}

// Bodies are limited per route: 3 MB by default, more where a route says so.
func TestBodyLimitPerRoute(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	big := strings.Repeat("x", defaultBodyLimit+1)
	r := owner.post("/account", formOf("name", big))
	if r.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("4 MB form: %d", r.Code)
	}
	a.e.POST("/test-upload", func(c echo.Context) error {
		n, err := io.Copy(io.Discard, c.Request().Body)
		if err != nil {
			return echo.ErrStatusRequestEntityTooLarge
		}
		return c.String(http.StatusOK, "got "+itoa(uint64(n)))
	})
	bodyLimits["POST /test-upload"] = 8 << 20
	t.Cleanup(func() { delete(bodyLimits, "POST /test-upload") })
	for _, tc := range []struct {
		size int
		want int
	}{{6 << 20, 200}, {9 << 20, 413}} {
		req := httptest.NewRequest(http.MethodPost, "/test-upload", bytes.NewReader(make([]byte, tc.size)))
		req.Header.Set("X-CSRF-Token", owner.csrf())
		if r := owner.do(req); r.Code != tc.want {
			t.Errorf("%d bytes: %d, want %d", tc.size, r.Code, tc.want)
		}
	}
}

// trickle sends its data a piece at a time, like a phone on a slow network.
type trickle struct {
	left  int
	piece int
	pause time.Duration
}

func (t *trickle) Read(p []byte) (int, error) {
	if t.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(t.pause)
	n := min(len(p), t.piece, t.left)
	t.left -= n
	return n, nil
}

// An upload route reads under a deadline that moves with the data: a slow
// upload outlasts the server's ReadTimeout, a stalled one does not.
func TestSlowUploadOutlastsReadTimeout(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	a.h.stallTimeout = 500 * time.Millisecond
	a.e.POST("/test-upload", func(c echo.Context) error {
		n, err := io.Copy(io.Discard, c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, "got "+itoa(uint64(n)))
	})
	bodyLimits["POST /test-upload"] = 50 << 20
	t.Cleanup(func() { delete(bodyLimits, "POST /test-upload") })
	srv := httptest.NewUnstartedServer(a.e)
	srv.Config.ReadTimeout = time.Second
	srv.Start()
	defer srv.Close()
	send := func(body io.Reader) (string, error) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/test-upload", body)
		req.Header.Set("X-CSRF-Token", owner.csrf())
		for _, c := range owner.cookies {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), nil
	}
	// 2.5 s of steady sending, with a 1 s ReadTimeout.
	got, err := send(&trickle{left: 25 << 10, piece: 1 << 10, pause: 100 * time.Millisecond})
	if err != nil || got != "got 25600" {
		t.Fatalf("slow upload: %q %v", got, err)
	}
	// A client that stops sending for longer than the stall timeout is cut off.
	got, _ = send(io.MultiReader(strings.NewReader("abc"), &trickle{left: 1, piece: 1, pause: 2 * time.Second}))
	if got == "got 4" {
		t.Fatal("a stalled upload was waited for")
	}
}
