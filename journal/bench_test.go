package journal

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkRecord is what a request pays to journal an access: a lock and
// an append to the buffer (emptied, untimed, before it would be written).
func BenchmarkRecord(b *testing.B) {
	j, _, _ := newJournal(b, b.TempDir())
	e := Entry{StaffID: 3, ClientID: 5000, Action: RecordRead, Addr: "192.0.2.10", At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	n := 0
	for b.Loop() {
		j.Record(e)
		if n++; n == maxPending-1 {
			b.StopTimer()
			j.mu.Lock()
			j.pending, n = j.pending[:0], 0
			j.mu.Unlock()
			b.StartTimer()
		}
	}
}

// BenchmarkFlush is what the writer pays per entry, in batches of a
// second's worth of a busy practice (1,000 entries): encoding, the MAC and
// the chain, the bbolt puts, and the batch's commit and fsync. The entries
// concern a few clients (staff opening records) or all different ones (a
// scan of every record, the worst case for the per-client index).
func BenchmarkFlush(b *testing.B) {
	for _, clients := range []int{20, 10000} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			j, _, _ := newJournal(b, b.TempDir())
			e := Entry{StaffID: 3, Action: RecordRead, Addr: "192.0.2.10", At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
			const batch = 1000
			for b.Loop() {
				b.StopTimer()
				for i := range batch {
					e.ClientID = uint64(i%clients + 1)
					j.Record(e)
				}
				b.StartTimer()
				if err := j.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/entry")
		})
	}
}
