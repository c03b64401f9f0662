package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"foyer/access"
	"foyer/store"
)

// BenchmarkClientRecordJournal is the client record page over 10,000
// clients (benchScale), with the access journal recording each view (Record,
// and Run writing the buffer out every second beside the requests, as main
// runs it) and without it. A loaded machine drifts by more than the
// journal costs, so each iteration is a pair of blocks served one after the
// other, blockViews views without the journal then blockViews with it, and
// the latencies of all "off" and all "on" blocks are compared. It reports
// their median and p99, and the bytes the journal's pages grew by per
// 10,000 views.
//
//	go test ./handlers -run '^$' -bench ClientRecordJournal -benchtime 10x
func BenchmarkClientRecordJournal(b *testing.B) {
	a := newTestApp(b)
	owner := a.setUp()
	n := benchScale(b)
	seedPeople(b, a, n)
	// A client in the middle of the store, whatever its size.
	id, blockViews := uint64(n/2+1), 2000
	for i := range 3 {
		if err := a.st.CreateAppointment(&store.Appointment{ClientID: id, PractitionerID: 1, Start: a.now().Add(time.Duration(i-1) * 7 * 24 * time.Hour),
			Minutes: 50, Kind: store.KindInPerson, FeeCents: 6000, Currency: "EUR"}); err != nil {
			b.Fatal(err)
		}
	}
	jr := a.journal
	// The record page's reads are journaled by the access policy: without
	// the journal is a policy that tells no one.
	with, without := access.New(a.st, jr.AccessLog(), a.now), access.New(a.st, nil, a.now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { jr.Run(ctx, func(err error) { b.Error(err) }); close(done) }()
	defer func() { cancel(); <-done }()
	before, err := a.st.JournalSize()
	if err != nil {
		b.Fatal(err)
	}
	req := pageRequest(owner.cookies, "/clients/"+strconv.FormatUint(id, 10))
	var off, on []time.Duration
	serve := func(into *[]time.Duration) {
		for range blockViews {
			start := time.Now()
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, req)
			*into = append(*into, time.Since(start))
			if rec.Code != http.StatusOK {
				b.Fatalf("%d", rec.Code)
			}
		}
	}
	for b.Loop() {
		a.h.access = without
		serve(&off)
		a.h.access = with
		serve(&on)
		// What the block recorded is written before the next "off" block,
		// so that no write of the journal lands in one.
		b.StopTimer()
		if err := jr.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	pct := func(d []time.Duration, p int) float64 {
		slices.Sort(d)
		return float64(d[len(d)*p/100].Microseconds())
	}
	b.ReportMetric(pct(off, 50), "off-p50-µs")
	b.ReportMetric(pct(on, 50), "on-p50-µs")
	b.ReportMetric(pct(off, 99), "off-p99-µs")
	b.ReportMetric(pct(on, 99), "on-p99-µs")
	after, err := a.st.JournalSize()
	if err != nil {
		b.Fatal(err)
	}
	// One entry a view: the lists the page shows join it (a flush falling
	// between them can split one in two).
	if got := after.Entries - before.Entries; got < len(on) || got > len(on)+len(on)/50 {
		b.Fatalf("%d views journaled as %d entries", len(on), got)
	}
	b.ReportMetric(float64(after.Bytes-before.Bytes)/float64(len(on))*10000/1e6, "MB/10k-views")
	b.ReportMetric(0, "ns/op")
}
