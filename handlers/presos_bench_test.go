package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foyer/bench/cpu"
	"foyer/store"
)

// benchViewer shares a preso and brings a visitor to its first slide; it
// returns the link path, the visitor and their viewing token.
func benchViewer(b *testing.B) (*testApp, string, *browser, string) {
	a := newTestApp(b)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	_, link := sharePreso(b, a, owner, "anyone", mia)
	visitor := a.browser()
	visitor.post(link+"/open", formOf("who", "0"))
	r := visitor.get(link + "/slides/1")
	m := viewingRe.FindStringSubmatch(r.body)
	if m == nil {
		b.Fatalf("no viewing on the slide page: %d", r.Code)
	}
	return a, link, visitor, m[1]
}

// BenchmarkBeaconIngest posts time-on-slide beacons from many viewers at once
// through the whole middleware stack, onto a real bbolt file (DB.Batch groups
// their writes); it reports sustained beacons per second and the p99 latency.
func BenchmarkBeaconIngest(b *testing.B) {
	a, link, visitor, viewing := benchViewer(b)
	body := url.Values{"v": {viewing}, "slide": {"1"}, "ms": {"1500"}, "_csrf": {visitor.csrf()}}.Encode()
	var cookies []*http.Cookie
	for _, c := range visitor.cookies {
		cookies = append(cookies, c)
	}
	var (
		mu    sync.Mutex
		lat   []time.Duration
		ip    atomic.Int64
		fails atomic.Int64
	)
	b.SetParallelism(16) // many viewers: 16 goroutines per CPU
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			// Each beacon comes from its own address, as from many viewers
			// (beacons are rate-limited per address).
			n := ip.Add(1)
			addr := fmt.Sprintf("10.%d.%d.%d:1234", n>>16&255, n>>8&255, n&255)
			req := httptest.NewRequest(http.MethodPost, link+"/beacon", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = addr
			for _, c := range cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			t0 := time.Now()
			a.e.ServeHTTP(rec, req)
			mine = append(mine, time.Since(t0))
			if rec.Code != http.StatusNoContent {
				fails.Add(1)
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if fails.Load() > 0 {
		b.Fatalf("%d beacons failed", fails.Load())
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkViewerPage renders a slide of a shared preso and reports what a
// phone downloads for it: the HTML, the viewer's stylesheet, script and brand colours.
func BenchmarkViewerPage(b *testing.B) {
	a, link, visitor, _ := benchViewer(b)
	req := pageRequest(visitor.cookies, link+"/slides/1")
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	html := rec.Body.Len()
	weight := html
	for _, name := range []string{"viewer.css", "viewer.js"} {
		as, ok := a.h.assets.ByHashed(strings.TrimPrefix(a.h.assets.Path(name), "/static/"))
		if !ok {
			b.Fatal(name)
		}
		weight += len(as.Data)
	}
	brand := httptest.NewRecorder()
	a.e.ServeHTTP(brand, httptest.NewRequest(http.MethodGet, "/brand.css", nil))
	weight += brand.Body.Len()
	benchRequest(b, a, req, "")
	b.ReportMetric(float64(html), "html-bytes")
	b.ReportMetric(float64(weight), "page-bytes")
}

// BenchmarkPresoLanding renders the share landing (/s/{token}), token lookup included.
func BenchmarkPresoLanding(b *testing.B) {
	a := newTestApp(b)
	owner := a.setUp()
	var contacts []store.Client
	for i := range 3 {
		contacts = append(contacts, a.addClient("Contact", fmt.Sprint(i), a.ownerID()))
	}
	_, link := sharePreso(b, a, owner, "anyone", contacts...)
	req := httptest.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Accept-Language", "fr")
	b.ReportAllocs()
	defer cpu.Report(b)()
	benchRequest(b, a, req, "")
}
