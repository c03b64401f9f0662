package handlers

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"foyer/bench/cpu"
	"foyer/store"
)

// BenchmarkSignInPage renders the sign-in page through the whole middleware stack.
func BenchmarkSignInPage(b *testing.B) {
	a := newTestApp(b)
	a.setUp()
	req := httptest.NewRequest(http.MethodGet, "/signin", nil)
	req.Header.Set("Accept-Language", "fr")
	benchRequest(b, a, req, "")
}

// BenchmarkStaffPage renders the staff list for a signed-in owner (session and user reads included).
func BenchmarkStaffPage(b *testing.B) {
	a := newTestApp(b)
	owner := a.setUp()
	for i := range 30 {
		a.addStaff("Staff "+itoa(uint64(i)), "s"+itoa(uint64(i))+"@example.org", store.RolePractitioner)
	}
	benchRequest(b, a, pageRequest(owner.cookies, "/staff"), "")
}

// seedPeople fills the store with n clients and n prospects, as a busy practice would have.
func seedPeople(b *testing.B, a *testApp, n int) {
	first := []string{"Éloïse", "Marc", "Anne", "Zoé", "Louis", "Chloé", "Hugo", "Léa", "Paul", "Inès"}
	last := []string{"Durand", "Dupont", "Martin", "Bernard", "Petit", "Roux", "Moreau", "Lefèvre", "Garnier", "Faure"}
	for start := 0; start < n; start += 5000 {
		err := a.st.Batch(func(batch *store.Batch) error {
			for i := start; i < min(n, start+5000); i++ {
				c := &store.Client{FirstName: first[i%10], LastName: last[(i/10)%10] + itoa(uint64(i)), Email: "client" + itoa(uint64(i)) + "@example.org",
					Lang: "fr", PractitionerID: 1, Phones: []store.Phone{{Type: store.PhoneMobile, Number: "+336" + pad8(i), Mobile: true}}}
				if err := batch.AddClient(c); err != nil {
					return err
				}
				acct := &store.Account{Email: "prospect" + itoa(uint64(i)) + "@example.org", Verified: i%2 == 0,
					SignUp: store.SignUp{FirstName: first[(i+3)%10], LastName: last[(i/7)%10] + itoa(uint64(i)), Phone: "+337" + pad8(i)}}
				if err := batch.AddAccount(acct); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchScale is how many clients and prospects the list benchmarks seed:
// 10,000 unless FOYER_BENCH_CLIENTS says otherwise (bench/run also measures 100,000).
func benchScale(b *testing.B) int {
	if v := os.Getenv("FOYER_BENCH_CLIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("FOYER_BENCH_CLIENTS=%q is not a count", v)
		}
		return n
	}
	return 10000
}

func pad8(i int) string {
	s := itoa(uint64(i))
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}

// pageRequest is a GET of path by the browser holding cookies.
func pageRequest(cookies map[string]*http.Cookie, path string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

// benchRequest serves req through the whole stack in a loop; each answer
// must be 200 and, when want is set, contain it.
func benchRequest(b *testing.B, a *testApp, req *http.Request, want string) {
	for b.Loop() {
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("%d %s", rec.Code, abbreviate(rec.Body.String()))
		}
	}
}

// benchGet benchmarks an HTMX partial: the request a search box sends.
func benchGet(b *testing.B, a *testApp, cookies map[string]*http.Cookie, path, target string) {
	req := pageRequest(cookies, path)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", target)
	benchRequest(b, a, req, "")
}

// BenchmarkClientSearch is the search-as-you-type partial over 10,000 clients
// (and 10,000 prospects; see benchScale).
func BenchmarkClientSearch(b *testing.B) {
	a := newTestApp(b)
	owner := a.setUp()
	seedPeople(b, a, benchScale(b))
	b.Run("query", func(b *testing.B) { benchGet(b, a, owner.cookies, "/clients?q=dupont", "client-results") })
	b.Run("phone", func(b *testing.B) { benchGet(b, a, owner.cookies, "/clients?q=06+00+00+12", "client-results") })
	b.Run("first-page", func(b *testing.B) { benchGet(b, a, owner.cookies, "/clients", "client-results") })
	b.Run("prospects", func(b *testing.B) { benchGet(b, a, owner.cookies, "/prospects", "prospect-results") })
	b.Run("prospects-query", func(b *testing.B) {
		benchGet(b, a, owner.cookies, "/prospects?q=martin&verified=yes", "prospect-results")
	})
}

// BenchmarkHome renders the owner's start page with 10,000 clients and one
// session each over the next 60 days (about 1,300 in the week shown, 40 listed).
func BenchmarkHome(b *testing.B) {
	a := newTestApp(b)
	owner := a.setUp()
	seedPeople(b, a, 10000)
	step := 60 * 24 * time.Hour / 10000
	err := a.st.Batch(func(batch *store.Batch) error {
		for i := range 10000 {
			ap := &store.Appointment{ClientID: uint64(i + 1), PractitionerID: 1, Start: a.now().Add(time.Duration(i) * step), Minutes: 50, Kind: store.KindInPerson, FeeCents: 8000, Currency: "EUR"}
			if err := batch.AddAppointment(ap); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	benchRequest(b, a, pageRequest(owner.cookies, "/"), "Only the first 40 sessions")
}

// BenchmarkPublicPages serves the public pages an anonymous visitor opens and,
// in the same run, a plain net/http handler writing a fixed page of the same
// size: the ratio between them is what to watch, not the absolute figures.
// A new public page (a share landing) is one more line in pages.
func BenchmarkPublicPages(b *testing.B) {
	a := newTestApp(b)
	owner := a.setUp()
	p, err := a.st.Practice()
	if err != nil {
		b.Fatal(err)
	}
	p.AllowSignup = true
	if err := a.st.SavePractice(p); err != nil {
		b.Fatal(err)
	}
	if err := a.h.reloadPractice(); err != nil {
		b.Fatal(err)
	}
	mia := a.addClient("Mia", "Martin", a.ownerID())
	_, link := sharePreso(b, a, owner, "anyone", mia)
	clientPath := owner.newClient("lang", "fr", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"Compte rendu.pdf", []byte("%PDF-1.4 bench")}); r.Code != http.StatusSeeOther {
		b.Fatalf("share: %d", r.Code)
	}
	pages := []struct{ name, path string }{
		{"portal", "/portal"},
		{"signup", "/portal/signup"},
		{"share-landing", link}, // a preso's link
		{"docs-landing", "/s/" + a.lastShareToken("ana@example.org")},
	}
	for _, pg := range pages {
		req := httptest.NewRequest(http.MethodGet, pg.path, nil)
		req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.8")
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", pg.path, rec.Code)
		}
		plain := plainPage(rec.Body.Len())
		b.Run(pg.name+"/plain", func(b *testing.B) { benchHandler(b, plain, req) })
		b.Run(pg.name+"/foyer", func(b *testing.B) { benchHandler(b, a.e, req) })
	}
}

// plainPage is the fastest a Go server can answer: a fixed page of n bytes.
func plainPage(n int) http.Handler {
	body := []byte(strings.Repeat("x", n))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(body)
	})
}

// benchHandler serves req on every core at once, as a server under load does.
func benchHandler(b *testing.B, h http.Handler, req *http.Request) {
	b.ReportAllocs()
	defer cpu.Report(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
