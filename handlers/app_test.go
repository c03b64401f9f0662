package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp/totp"

	"foyer/access"
	"foyer/certificate"
	"foyer/delivery"
	"foyer/jobs"
	"foyer/journal"
	"foyer/locales"
	"foyer/mail"
	"foyer/preso"
	"foyer/privacy"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// testApp is the whole echo app on a fresh bbolt file, with a clock the test
// moves, wired as main wires it: the jobs beside it are run by the test.
type testApp struct {
	t    testing.TB
	h    *Handler
	e    *echo.Echo
	st   *store.Store
	jobs *jobs.Jobs
	// journal and privacy are the access journal and the personal-data service the handlers use.
	journal *journal.Journal
	privacy *privacy.Service
	dir     string
	mu      sync.Mutex
	clock   time.Time
	// holdLater: the test keeps what requests leave for after their answer
	// (it replaced h.spawn), so a request does not wait for it.
	holdLater bool
}

func newTestApp(t testing.TB) *testApp {
	t.Helper()
	return newTestAppConfig(t, Config{})
}

// newTestAppConfig is newTestApp with operator settings.
func newTestAppConfig(t testing.TB, cfg Config) *testApp {
	t.Helper()
	return newTestAppTSA(t, cfg, "")
}

// newTestAppTSA is newTestAppConfig with the timestamp authority at tsa.
func newTestAppTSA(t testing.TB, cfg Config, tsa string) *testApp {
	t.Helper()
	return newTestAppIn(t, cfg, tsa, t.TempDir())
}

// newTestAppIn is newTestAppTSA with the data file in dir.
func newTestAppIn(t testing.TB, cfg Config, tsa, dir string) *testApp {
	t.Helper()
	a := &testApp{t: t, dir: dir, clock: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(dir, store.WithMessageCheck(mail.Prepare), store.WithClock(a.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a.st = st
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	templates, err := views.NewMail()
	if err != nil {
		t.Fatal(err)
	}
	shares := share.New(st, a.now)
	presos := preso.New(st, shares, a.now)
	shares.OnAudience(store.SharePreso, presos.Audience)
	shares.OnPurge(store.ShareFiles, purgeEach(st.DeleteBlob))
	shares.OnPurge(store.SharePreso, presos.Purge)
	base := cfg.BaseURL
	if base == nil {
		base, _ = url.Parse("http://localhost:8080")
	}
	mailer, err := mail.New(mail.Config{Store: st, Shares: shares, Catalog: cat, Templates: templates, BaseURL: base, Now: a.now})
	if err != nil {
		t.Fatal(err)
	}
	worker := delivery.NewWorker(st, nil, nil, mailer, log)
	worker.Now = a.now
	certs := certificate.New(certificate.Config{Store: st, Presos: presos, Catalog: cat, BaseURL: base, TSA: tsa, Log: log, Now: a.now})
	jr := journal.New(st, a.now)
	priv := privacy.New(st, jr, a.now)
	h, err := New(Services{Store: st, Outbox: worker, Mail: mailer, Shares: shares, Presos: presos, Certificates: certs, Catalog: cat,
		Access: access.New(st, jr.AccessLog(), a.now), Journal: jr, Privacy: priv}, cfg, log, a.now)
	if err != nil {
		t.Fatal(err)
	}
	a.h, a.e, a.journal, a.privacy = h, h.Echo(), jr, priv
	a.jobs = jobs.New(jobs.Config{Store: st, Shares: shares, Presos: presos, Mail: mailer, Outbox: worker, Log: log, Now: a.now,
		IdleTimeout: cfg.IdleTimeout, SessionLifetime: cfg.SessionLifetime, ReportViewing: h.ReportViewing, IssueCertificates: certs.IssueDue, Privacy: priv})
	return a
}

// purgeEach is main's share purger: each item of a share's snapshot removed with del.
func purgeEach(del func(id uint64) error) share.Purger {
	return func(sh store.Share) error {
		for _, id := range sh.Snapshot {
			if err := del(id); err != nil {
				return err
			}
		}
		return nil
	}
}

// sweepShares runs the jobs of shares: expiry and purge, reminders, idle
// sessions, abandoned uploads.
func (a *testApp) sweepShares() {
	a.t.Helper()
	now := a.now()
	for _, job := range []func(time.Time) (int, error){a.jobs.ExpireShares, a.jobs.RemindShares, a.jobs.PurgeShareSessions, a.jobs.RemoveAbandonedUploads} {
		if _, err := job(now); err != nil {
			a.t.Fatal(err)
		}
	}
}

func (a *testApp) now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.clock
}

func (a *testApp) advance(d time.Duration) {
	a.mu.Lock()
	a.clock = a.clock.Add(d)
	a.mu.Unlock()
}

// browser keeps cookies like a browser would, and knows its CSRF token.
type browser struct {
	app     *testApp
	cookies map[string]*http.Cookie
	ip      string
	lang    string
}

func (a *testApp) browser() *browser {
	return &browser{app: a, cookies: map[string]*http.Cookie{}, ip: "192.0.2.10:1234", lang: "en"}
}

type resp struct {
	*httptest.ResponseRecorder
	body string
}

func (b *browser) do(req *http.Request) *resp {
	b.app.t.Helper()
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	req.RemoteAddr = b.ip
	if b.lang != "" && req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	rec := httptest.NewRecorder()
	b.app.e.ServeHTTP(rec, req)
	// What a request leaves to do after its answer is done before the test
	// looks at the store, as it would be by the time a person reads the page.
	if !b.app.holdLater {
		b.app.h.Wait()
	}
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	r := &resp{ResponseRecorder: rec, body: rec.Body.String()}
	// A message rendered without the arguments it names shows them so.
	if strings.Contains(r.body, "<no value>") || strings.Contains(r.body, "&lt;no value&gt;") {
		b.app.t.Errorf("%s %s: a message lacks its arguments: %s", req.Method, req.URL.Path, abbreviate(r.body))
	}
	// A server error is a bug, but for 507: a full disk, said as such.
	if rec.Code >= 500 && rec.Code != http.StatusInsufficientStorage {
		b.app.t.Errorf("%s %s: status %d", req.Method, req.URL.Path, rec.Code)
	}
	return r
}

func (b *browser) get(path string, headers ...string) *resp {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// csrf returns the token a page would give this browser, fetching a page
// first if the browser has neither session nor CSRF cookie yet.
func (b *browser) csrf() string {
	for _, name := range []string{"foyer_session", "__Host-foyer_session"} {
		if c, ok := b.cookies[name]; ok && len(c.Value) == 43 {
			return b.app.h.csrfFor("s:" + c.Value)
		}
	}
	for _, name := range []string{"foyer_csrf", "__Host-foyer_csrf"} {
		if c, ok := b.cookies[name]; ok && len(c.Value) == 43 {
			return b.app.h.csrfFor("a:" + c.Value)
		}
	}
	for _, page := range []string{"/signin", "/setup"} {
		b.get(page)
		if _, ok := b.cookies["foyer_csrf"]; ok {
			break
		}
		if _, ok := b.cookies["__Host-foyer_csrf"]; ok {
			break
		}
	}
	return b.csrfNoFetch()
}

func (b *browser) csrfNoFetch() string {
	for _, name := range []string{"foyer_csrf", "__Host-foyer_csrf"} {
		if c, ok := b.cookies[name]; ok {
			return b.app.h.csrfFor("a:" + c.Value)
		}
	}
	b.app.t.Fatal("no CSRF cookie after visiting a page")
	return ""
}

// post sends a form with the CSRF token, as the page's form would.
func (b *browser) post(path string, form url.Values, headers ...string) *resp {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.csrf())
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func formOf(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

const ownerPassword = "correct horse battery staple"

// setUp creates the practice and returns the owner's browser, signed in.
func (a *testApp) setUp() *browser {
	a.t.Helper()
	b := a.browser()
	r := b.post("/setup", formOf("practice_name", "Cabinet Lumière", "default_lang", "fr", "name", "Olive Owner", "email", "owner@example.org", "password", ownerPassword))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/" {
		a.t.Fatalf("setup: %d %s", r.Code, r.body)
	}
	return b
}

// addStaff creates an active staff member directly in the store.
func (a *testApp) addStaff(name, email string, role store.Role) store.Staff {
	a.t.Helper()
	st := &store.Staff{Name: name, Email: email, Role: role, Active: true, Lang: "en", PasswordHash: testHash}
	if err := a.st.CreateStaff(st); err != nil {
		a.t.Fatal(err)
	}
	return *st
}

// testHash is the hash of staffPassword, computed once: argon2id is slow on purpose.
const staffPassword = "a long enough staff password"

var testHash = func() string { return authHash(staffPassword) }()

// signIn signs a new browser in with email and password (no 2FA).
func (a *testApp) signIn(email, password string) *browser {
	a.t.Helper()
	b := a.browser()
	r := b.post("/signin", formOf("email", email, "password", password))
	if r.Code != http.StatusSeeOther {
		a.t.Fatalf("sign in %s: %d %s", email, r.Code, r.body)
	}
	return b
}

func mustContain(t testing.TB, r *resp, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Errorf("response (%d) lacks %q:\n%s", r.Code, w, abbreviate(r.body))
		}
	}
}

func mustNotContain(t testing.TB, r *resp, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(r.body, w) {
			t.Errorf("response (%d) has %q", r.Code, w)
		}
	}
}

func abbreviate(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

var secretRe = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)

// enrol2FA turns on TOTP for the signed-in browser and returns the secret and recovery codes.
func (b *browser) enrol2FA() (secret string, codes []string) {
	secret, codes, _ = b.enrol2FAPage()
	return secret, codes
}

// enrol2FAPage is enrol2FA, with the page that shows the recovery codes.
func (b *browser) enrol2FAPage() (secret string, codes []string, page *resp) {
	t := b.app.t
	t.Helper()
	r := b.get("/account/2fa")
	m := secretRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret on the enrol page: %s", abbreviate(r.body))
	}
	secret = strings.ReplaceAll(m[1], " ", "")
	code, _ := totp.GenerateCode(secret, b.app.now())
	r = b.post("/account/2fa", formOf("code", code))
	if r.Code != http.StatusOK {
		t.Fatalf("enrol: %d %s", r.Code, abbreviate(r.body))
	}
	codes = regexp.MustCompile(`<code>([a-z2-7]{5}-[a-z2-7]{5})</code>`).FindAllString(r.body, -1)
	for i, c := range codes {
		codes[i] = strings.TrimSuffix(strings.TrimPrefix(c, "<code>"), "</code>")
	}
	return secret, codes, r
}
