package handlers

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"foyer/backup"
	"foyer/store"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	r := owner.get("/")
	h := r.Header()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe scripts: %q", csp)
	}
	for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain http")
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no request ID")
	}
	// No inline script or style anywhere: the CSP would block them.
	if regexp.MustCompile(`<script>|<script [^s]*>|style="|onclick=|hx-on`).MatchString(r.body) {
		t.Error("page has inline script or style")
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	b := a.browser()
	b.csrf()
	cases := []struct {
		name    string
		token   string
		headers []string
	}{
		{"missing", "", nil},
		{"wrong", strings.Repeat("x", 43), nil},
		{"cross-site", "", []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, tc := range cases {
		f := formOf("email", "pat@example.org", "password", staffPassword)
		f.Set("_csrf", tc.token)
		if tc.name == "cross-site" {
			f.Set("_csrf", b.csrf())
		}
		r := b.post("/signin", f, tc.headers...)
		if r.Code != http.StatusForbidden {
			t.Errorf("%s token: %d, want 403", tc.name, r.Code)
		}
		mustContain(t, r, "This form has expired")
	}
	// The header form, as htmx sends it.
	r := b.post("/signin", formOf("_csrf", "", "email", "pat@example.org", "password", staffPassword), "X-CSRF-Token", b.csrf())
	if r.Code != http.StatusSeeOther {
		t.Errorf("header token: %d", r.Code)
	}
}

func TestHTMXPartials(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	full := owner.get("/staff")
	if !strings.Contains(full.body, "<!doctype html>") || !strings.Contains(full.Header().Get("Vary"), "HX-Request") {
		t.Fatalf("full page: %s", abbreviate(full.body))
	}
	part := owner.get("/staff", "HX-Request", "true")
	if strings.Contains(part.body, "<html") || !strings.Contains(part.body, "Invite a colleague") {
		t.Fatalf("partial: %s", abbreviate(part.body))
	}
	if !strings.Contains(part.Header().Get("Vary"), "HX-Request") {
		t.Error("partial without Vary: HX-Request")
	}
	boosted := owner.get("/staff", "HX-Request", "true", "HX-Boosted", "true")
	if !strings.Contains(boosted.body, "<!doctype html>") {
		t.Error("boosted request did not get the whole page")
	}
	// A form error comes back as 422 with the form, which htmx is configured to swap.
	r := owner.post("/staff/invite", formOf("name", "", "email", "x", "role", "admin", "lang", "en"), "HX-Request", "true")
	if r.Code != http.StatusUnprocessableEntity || strings.Contains(r.body, "<html") {
		t.Fatalf("HTMX form error: %d", r.Code)
	}
	// A redirect after HTMX becomes HX-Redirect.
	r = owner.post("/staff/invite", formOf("name", "Kim", "email", "kim@example.org", "role", "admin", "lang", "en"), "HX-Request", "true")
	if r.Header().Get("HX-Redirect") != "/staff" {
		t.Fatalf("HTMX redirect: %d %v", r.Code, r.Header())
	}
	mustContain(t, owner.get("/"), `"allowEval":false`, `"selfRequestsOnly":true`, `"historyCacheSize":0`, `"allowScriptTags":false`)
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	b := a.browser()
	b.lang = "fr-CA,fr;q=0.9,en;q=0.5"
	mustContain(t, b.get("/signin"), `<html lang="fr">`, "Connexion de l’équipe")
	b.lang = "en-GB"
	mustContain(t, b.get("/signin"), `<html lang="en">`, "Staff sign-in")
	b.lang = "de"
	mustContain(t, b.get("/signin"), `<html lang="fr">`) // the practice default
	// The explicit choice beats the browser.
	r := b.post("/lang", formOf("lang", "en", "next", "/signin"))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
		t.Fatalf("switch: %d %s", r.Code, r.Header().Get("Location"))
	}
	b.lang = "fr"
	mustContain(t, b.get("/signin"), "Staff sign-in")
	// Only local paths are followed.
	for _, next := range []string{"//evil.example", "https://evil.example", "/\\evil.example"} {
		if r := b.post("/lang", formOf("lang", "fr", "next", next)); r.Header().Get("Location") != "/" {
			t.Errorf("next=%q → %q", next, r.Header().Get("Location"))
		}
	}
	if r := b.post("/lang", formOf("lang", "xx")); r.Code != http.StatusBadRequest {
		t.Errorf("unknown language: %d", r.Code)
	}
	// A staff member's switch is saved to their profile.
	owner.post("/lang", formOf("lang", "en", "next", "/"))
	st, _ := a.st.StaffByEmail("owner@example.org")
	if st.Lang != "en" {
		t.Errorf("profile language = %q", st.Lang)
	}
	mustContain(t, owner.get("/"), "Welcome, Olive Owner")
	// Dates follow the language.
	en, fr := a.h.catalog.Get("en"), a.h.catalog.Get("fr")
	d := a.now()
	if got := en.DateTime(d); got != "November\u00a025, 2026 at\u00a010:00\u00a0AM" {
		t.Errorf("en date = %q", got)
	}
	if got := fr.DateTime(d); got != "25\u00a0novembre 2026 à\u00a010:00" {
		t.Errorf("fr date = %q", got)
	}
}

func TestStaticAndHealth(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	page := b.get("/setup")
	css := regexp.MustCompile(`/static/app\.[0-9a-f]{12}\.css`).FindString(page.body)
	if css == "" {
		t.Fatal("no hashed stylesheet link")
	}
	r := b.get(css)
	if r.Code != 200 || !strings.Contains(r.Header().Get("Cache-Control"), "immutable") || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %v", r.Code, r.Header())
	}
	if r := b.get("/static/app.css"); r.Code != http.StatusNotFound {
		t.Errorf("unhashed name served: %d", r.Code)
	}
	if r := b.get("/static/../main.go"); r.Code != http.StatusNotFound {
		t.Errorf("path traversal: %d", r.Code)
	}
	if r := b.get("/healthz"); r.Code != 200 || r.body != "ok\n" {
		t.Errorf("healthz: %d %q", r.Code, r.body)
	}
	brand := b.get("/brand.css?v=2f5d62")
	mustContain(t, brand, "--brand:#2f5d62", "--brand-ink:#ffffff")
	if r := b.get("/nowhere"); r.Code != http.StatusSeeOther {
		t.Errorf("unknown path before setup: %d", r.Code)
	}
	a.setUp()
	r = b.get("/nowhere")
	if r.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d", r.Code)
	}
	mustContain(t, r, "Page not found")
}

func pngBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (b *browser) upload(path, field, filename string, data []byte) *resp {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile(field, filename)
	fw.Write(data)
	mw.Close()
	// As the page's form sends it: the token in the URL, not in the body.
	req := httptest.NewRequest(http.MethodPost, path+"?_csrf="+b.csrf(), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestLogo(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	cases := []struct {
		name   string
		data   []byte
		status int
		want   string
	}{
		{"text", []byte("<script>alert(1)</script>"), 422, "is not a PNG, JPEG or WebP"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 422, "is not a PNG, JPEG or WebP"},
		{"truncated png", pngBytes(t, 10, 10)[:60], 422, "is not a PNG, JPEG or WebP"},
		{"huge", bytes.Repeat([]byte("x"), 1<<20+1), 422, "too large"},
		{"too many pixels", pngBytes(t, 5000, 2), 422, "too large"},
		{"fine", pngBytes(t, 64, 32), 303, ""},
	}
	for _, tc := range cases {
		r := owner.upload("/settings/logo", "logo", "logo.png", tc.data)
		if r.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.Code, tc.status)
		}
		if tc.want != "" {
			mustContain(t, r, tc.want, `value="Cabinet Lumière"`)
		}
	}
	page := owner.get("/")
	logo := regexp.MustCompile(`/logo\?v=\d+`).FindString(page.body)
	if logo == "" {
		t.Fatal("no logo on the page")
	}
	r := a.browser().get(logo)
	if r.Code != 200 || r.Header().Get("Content-Type") != "image/png" || !strings.Contains(r.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("logo: %d %v", r.Code, r.Header())
	}
}

// TestBackupDownload: Settings → Download a backup is a copy in the format
// of the off-site ones, encrypted with the secret key: the file alone holds
// nothing in the clear; foyer restore brings it back with the key.
func TestBackupDownload(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	client := store.Client{FirstName: "Éloïse", LastName: "Confidentielle", Lang: "fr", Notes: "angoisses nocturnes depuis mars"}
	if err := a.st.CreateClient(&client); err != nil {
		t.Fatal(err)
	}
	r := owner.get("/backup")
	hd := r.Header()
	if r.Code != 200 || hd.Get("Content-Disposition") != `attachment; filename=foyer-20261125T100000Z.db.zst.age` ||
		hd.Get("Content-Type") != "application/octet-stream" || hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Cache-Control") != "no-store" {
		t.Fatalf("backup: %d %v", r.Code, hd)
	}
	raw := r.Body.Bytes()
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) {
		t.Fatalf("the backup is not an age file: %q", raw[:min(40, len(raw))])
	}
	for _, clear := range []string{"Confidentielle", "angoisses", "owner@example.org", "Olive Owner", "first_name"} {
		if bytes.Contains(raw, []byte(clear)) {
			t.Fatalf("the downloaded backup holds %q in the clear", clear)
		}
	}
	path := filepath.Join(t.TempDir(), "foyer-20261125T100000Z.db.zst.age")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(t.Context(), backup.FileSource(path), time.Time{}, dest, "not the key of this practice, but long enough", false, time.Now()); err == nil {
		t.Fatal("the backup was restored with another key")
	}
	if _, err := backup.Restore(t.Context(), backup.FileSource(path), time.Time{}, dest, a.st.SecretKey(), false, time.Now()); err != nil {
		t.Fatalf("the backup does not restore: %v", err)
	}
	copyStore, err := store.Open(dest)
	if err != nil {
		t.Fatalf("the restored backup does not open: %v", err)
	}
	defer copyStore.Close()
	if st, err := copyStore.StaffByEmail("owner@example.org"); err != nil || st.Name != "Olive Owner" {
		t.Fatalf("backup lacks the owner: %v %+v", err, st)
	}
	if c, err := copyStore.Client(client.ID); err != nil || c.Notes != client.Notes {
		t.Fatalf("backup lacks the client: %v %+v", err, c)
	}
}

func TestOutboxPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.post("/staff/invite", formOf("name", "Kim", "email", "kim@example.org", "role", "admin", "lang", "en"))
	r := owner.get("/outbox")
	// Times show in the practice time zone (Europe/Paris), not UTC.
	mustContain(t, r, "kim@example.org", "Your invitation to Cabinet Lumière", "Waiting", "delivery is not configured", "November\u00a025, 2026 at\u00a011:00\u00a0AM")
	a.h.outbox.RunOnce(t.Context())
	mustContain(t, owner.get("/outbox"), "Not delivered (delivery not configured)")
}
