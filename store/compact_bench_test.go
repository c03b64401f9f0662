package store

import (
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkCompact is the pause an erasure costs: how long writes wait (the
// copy) and how long reads wait (the new file put in place), on a store of 10,000
// clients (FOYER_BENCH_CLIENTS) with three sessions and a sent message
// each, and 50 MiB of shared files.
func BenchmarkCompact(b *testing.B) {
	n := 10000
	if v := os.Getenv("FOYER_BENCH_CLIENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	s := openTest(b)
	s.db.NoSync = true
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 5000 {
		err := s.Batch(func(batch *Batch) error {
			for i := start; i < min(n, start+5000); i++ {
				c := &Client{FirstName: "Anne", LastName: "Durand" + strconv.Itoa(i), Email: "a" + strconv.Itoa(i) + "@example.org",
					Notes: "Some notes about the sessions, a few lines long, as practitioners write them.", PractitionerID: 1, CreatedAt: now}
				if err := batch.AddClient(c); err != nil {
					return err
				}
				for k := range 3 {
					if err := batch.AddAppointment(&Appointment{ClientID: c.ID, PractitionerID: 1, Start: now.Add(time.Duration(k) * 24 * time.Hour),
						Minutes: 50, Kind: KindInPerson, FeeCents: 6000, Currency: "EUR", CreatedAt: now}); err != nil {
						return err
					}
				}
				if err := batch.AddMessage(&Message{Channel: ChannelEmail, To: c.Email, Lang: "fr", Kind: "reminder", State: StateSent,
					Args: map[string]string{"FirstName": "Anne"}, CreatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	bl := Blob{Name: "files", CreatedAt: now}
	if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, bench50MiB), bench50MiB); err != nil {
		b.Fatal(err)
	}
	s.db.NoSync = false
	var writes, reads time.Duration
	var size int64
	for b.Loop() {
		st, err := s.Compact()
		if err != nil {
			b.Fatal(err)
		}
		writes += st.WritesPaused
		reads += st.ReadsPaused
		size = st.After
	}
	b.ReportMetric(float64(writes.Milliseconds())/float64(b.N), "writes-paused-ms")
	b.ReportMetric(float64(reads.Microseconds())/1000/float64(b.N), "reads-paused-ms")
	b.ReportMetric(float64(size)/1e6, "file-MB")
	b.ReportMetric(0, "ns/op")
}
