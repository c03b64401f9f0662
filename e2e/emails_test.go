package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"foyer/locales"
	"foyer/mail"
	"foyer/mail/mailtest"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// TestEmailsFitAPhone: every kind of email, in both languages, as Chromium
// lays out its HTML part on a phone 320 and 360 CSS pixels wide, does not
// scroll sideways: a link of 80-odd characters with no space in it (an
// invitation, a reset, a share) wraps instead of pushing the page wider.
func TestEmailsFitAPhone(t *testing.T) {
	browser := newBrowser(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := store.Open(t.TempDir(), store.WithMessageCheck(mail.Prepare))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := store.DefaultPractice()
	p.Name, p.TimeZone, p.Address, p.Phone = "Cabinet Lumière", "Europe/Paris", "12 rue des Lilas\n75011 Paris", "01 23 45 67 89"
	if err := st.SavePractice(p); err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	templates, err := views.NewMail()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://portail.cabinet-lumiere.example/")
	mailer, err := mail.New(mail.Config{Store: st, Shares: share.New(st, clock), Catalog: cat, Templates: templates, BaseURL: base, Now: clock})
	if err != nil {
		t.Fatal(err)
	}

	// Every kind that goes by email, the security codes included (sent by
	// email to a client without a mobile).
	var mu sync.Mutex
	emails := map[string]string{}
	for kind, m := range mailtest.Samples(now) {
		m.Channel, m.To = store.ChannelEmail, "zoe@example.org"
		if err := mail.Prepare(&m); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		secret := m.Secret
		if len(secret) > 6 {
			// A link token as rand gives them, with no - or _ where a line may break.
			secret = "q7ZcV3xN0pLr8TgH2wYbK5mJ9sDfA1eUo4iQ6nRtWyB"
		}
		for _, lang := range locales.Supported {
			m.Lang = lang
			out, err := mailer.Render(m, secret)
			if err != nil || out.HTML == "" {
				t.Fatalf("%s in %s: no HTML part (%v)", kind, lang, err)
			}
			emails["/"+kind+"/"+lang] = out.HTML
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		html, ok := emails[r.URL.Path]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	}))
	t.Cleanup(srv.Close)

	paths := make([]string, 0, len(emails))
	for path := range emails {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	tab := &page{t: t, ctx: browser, base: srv.URL}
	for _, width := range []int64{320, 360} {
		tab.do(chromedp.EmulateViewport(width, 740))
		for _, path := range paths {
			tab.do(chromedp.Navigate(srv.URL + path))
			wide, err := chromedp.Run(tab.ctx, chromedp.Evaluate[[]string](`document.documentElement.scrollWidth <= window.innerWidth ? [] :
				[String(document.documentElement.scrollWidth)].concat(Array.from(document.querySelectorAll("body *")).
				filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName.toLowerCase() + " “" + e.textContent.trim().slice(0, 40) + "”").slice(0, 4))`))
			if err != nil {
				t.Fatal(err)
			}
			if len(wide) > 0 {
				kind, lang, _ := strings.Cut(path[1:], "/")
				t.Errorf("the %s email in %s is %s px wide at %d px: %s", kind, lang, wide[0], width, strings.Join(wide[1:], ", "))
			}
			if width == 360 && (strings.HasPrefix(path, "/invite/") || strings.HasPrefix(path, "/share_link/")) {
				tab.saveShots("email-"+strings.ReplaceAll(path[1:], "/", "-"), shotSize{"phone", 360, 740})
			}
		}
	}
}
