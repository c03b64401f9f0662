package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestHEADOnEveryGETRoute asks every GET route of the table with HEAD, over
// a real server, as the signed-in owner: the same status and content type
// as GET, and no body.
func TestHEADOnEveryGETRoute(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	css := a.h.assets.Path("app.css")
	param := regexp.MustCompile(`:[a-z]+`)
	ask := func(method, path string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for _, c := range owner.cookies {
			req.AddCookie(c)
		}
		req.Header.Set("Accept-Language", "en")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	checked := 0
	for _, r := range routes {
		if r.method != http.MethodGet {
			continue
		}
		path := param.ReplaceAllString(r.path, "1")
		if r.path == "/static/:name" {
			path = css
		}
		get, _ := ask(http.MethodGet, path)
		head, body := ask(http.MethodHead, path)
		if head.StatusCode == http.StatusMethodNotAllowed || head.StatusCode != get.StatusCode {
			t.Errorf("HEAD %s: %d, GET: %d", path, head.StatusCode, get.StatusCode)
		}
		if head.Header.Get("Content-Type") != get.Header.Get("Content-Type") && head.StatusCode < 400 {
			t.Errorf("HEAD %s: type %q, GET: %q", path, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
		}
		// An error's too: a 404 or 410 kept by a cache would be served again.
		for _, h := range []string{"Cache-Control", "Vary"} {
			if head.Header.Get(h) != get.Header.Get(h) {
				t.Errorf("HEAD %s (%d): %s %q, GET: %q", path, head.StatusCode, h, head.Header.Get(h), get.Header.Get(h))
			}
		}
		if len(body) != 0 {
			t.Errorf("HEAD %s sent a body of %d bytes", path, len(body))
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d GET routes checked", checked)
	}
	// A page: its length too.
	get, body := ask(http.MethodGet, "/healthz")
	head, _ := ask(http.MethodHead, "/healthz")
	if head.StatusCode != http.StatusOK || head.ContentLength != int64(len(body)) || get.ContentLength != int64(len(body)) {
		t.Errorf("HEAD /healthz: %d, length %d, GET's body %d", head.StatusCode, head.ContentLength, len(body))
	}
}

// TestStaticFilesCompressedPagesNot: stylesheets, scripts and the icon go
// out gzip-compressed to a browser that takes it, with Vary; pages, which
// carry a CSRF token, never (BREACH).
func TestStaticFilesCompressedPagesNot(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	b := a.browser()
	for _, name := range []string{"app.css", "htmx.min.js", "favicon.svg"} {
		path := a.h.assets.Path(name)
		plain := b.get(path)
		r := b.get(path, "Accept-Encoding", "br, gzip;q=0.8, deflate")
		if r.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(r.Header().Get("Vary"), "Accept-Encoding") ||
			!strings.Contains(plain.Header().Get("Vary"), "Accept-Encoding") || plain.Header().Get("Content-Encoding") != "" {
			t.Fatalf("%s: %v / %v", name, r.Header(), plain.Header())
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, plain.Body.Bytes()) || r.Body.Len() >= plain.Body.Len() {
			t.Fatalf("%s: %d bytes compressed, %d plain, round trip equal: %v", name, r.Body.Len(), plain.Body.Len(), bytes.Equal(got, plain.Body.Bytes()))
		}
		if r.Header().Get("Content-Type") != plain.Header().Get("Content-Type") {
			t.Fatalf("%s: type %q compressed, %q plain", name, r.Header().Get("Content-Type"), plain.Header().Get("Content-Type"))
		}
	}
	for _, refuse := range []string{"gzip;q=0", "identity", "gzip;q=0, *"} {
		if r := b.get(a.h.assets.Path("app.css"), "Accept-Encoding", refuse); r.Header().Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q got %q", refuse, r.Header().Get("Content-Encoding"))
		}
	}
	if r := b.get(a.h.assets.Path("app.css"), "Accept-Encoding", "*"); r.Header().Get("Content-Encoding") != "gzip" {
		t.Error("Accept-Encoding * got no gzip")
	}
	for _, page := range []string{"/signin", "/portal", "/portal/signup"} {
		r := b.get(page, "Accept-Encoding", "gzip")
		if r.Header().Get("Content-Encoding") != "" || !strings.Contains(r.body, "_csrf") && !strings.Contains(r.body, "X-CSRF-Token") {
			t.Errorf("%s: compressed (%q) or without a token", page, r.Header().Get("Content-Encoding"))
		}
	}
}

func TestFaviconOnEveryPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	icon := a.h.assets.Path("favicon.svg")
	mustContain(t, b.get("/setup"), `<link rel="icon" href="`+icon+`" type="image/svg+xml">`)
	owner := a.setUp()
	for _, page := range []string{"/", "/clients", "/settings", "/settings/backups", "/s/no-such-link"} {
		mustContain(t, owner.get(page), `<link rel="icon" href="`+icon+`"`)
	}
	for _, page := range []string{"/signin", "/portal", "/privacy-not-a-page"} {
		mustContain(t, a.browser().get(page), `<link rel="icon" href="`+icon+`"`)
	}
	r := b.get("/favicon.ico")
	if r.Code != http.StatusMovedPermanently || r.Header().Get("Location") != icon {
		t.Fatalf("/favicon.ico: %d %q", r.Code, r.Header().Get("Location"))
	}
	if r := b.get(icon); r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("the icon: %d %q", r.Code, r.Header().Get("Content-Type"))
	}
	// Crawlers may fetch the pages a practice hands out, and nothing else:
	// every other page says noindex, and share links must not be opened.
	r = b.get("/robots.txt")
	if r.Code != http.StatusOK {
		t.Fatalf("/robots.txt: %d", r.Code)
	}
	allowed := map[string]bool{}
	for _, line := range strings.Split(r.body, "\n") {
		if path, ok := strings.CutPrefix(line, "Allow: "); ok {
			allowed[strings.TrimSuffix(path, "$")] = true
		}
	}
	mustContain(t, r, "User-agent: *\nDisallow: /\n")
	for _, page := range []string{"/portal", "/portal/signup", "/privacy", "/verify", "/s/some-link", "/clients", "/portal/account"} {
		listed := b.get(page).Header().Get("X-Robots-Tag") == ""
		if listed != allowed[page] {
			t.Errorf("%s: may be listed %v, robots.txt allows it %v", page, listed, allowed[page])
		}
	}
}
