package store

import (
	"io"
	"sync"
	"testing"
	"time"
)

const bench50MiB = 50 << 20

// BenchmarkBlobUpload50MiB streams 50 MiB into the store in chunks.
func BenchmarkBlobUpload50MiB(b *testing.B) {
	s := openTest(b)
	b.SetBytes(bench50MiB)
	for b.Loop() {
		bl := Blob{Name: "x", CreatedAt: time.Now()}
		if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, bench50MiB), bench50MiB); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.DeleteBlob(bl.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkBlobDownload50MiB reads 50 MiB back, one read transaction per chunk.
func BenchmarkBlobDownload50MiB(b *testing.B) {
	s := openTest(b)
	bl := Blob{Name: "x", CreatedAt: time.Now()}
	if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, bench50MiB), bench50MiB); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bench50MiB)
	for b.Loop() {
		r, err := s.OpenBlob(bl.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallWriteDuringUpload reports the longest wait of a small write
// (a session save) while a 50 MiB upload is written.
func BenchmarkSmallWriteDuringUpload(b *testing.B) {
	s := openTest(b)
	var worst time.Duration
	for b.Loop() {
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			bl := Blob{Name: "x", CreatedAt: time.Now()}
			if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, bench50MiB), bench50MiB); err != nil {
				b.Error(err)
			}
		}()
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
				start := time.Now()
				if err := s.SaveSession("bench-session-id-of-forty-three-characters!!", Session{CreatedAt: start, LastSeen: start}); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(start))
				time.Sleep(5 * time.Millisecond)
			}
		}
		wg.Wait()
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-wait-ms")
}
