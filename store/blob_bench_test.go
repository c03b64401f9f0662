package store

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"foyer/bench/cpu"
)

const bench50MiB = 50 << 20

// BenchmarkBlobUpload50MiB streams 50 MiB into the store in chunks.
func BenchmarkBlobUpload50MiB(b *testing.B) {
	s := openTest(b)
	b.SetBytes(bench50MiB)
	var used time.Duration
	for b.Loop() {
		bl := Blob{Name: "x", CreatedAt: time.Now()}
		start := cpu.Process()
		if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, bench50MiB), bench50MiB); err != nil {
			b.Fatal(err)
		}
		used += cpu.Process() - start
		b.StopTimer()
		if err := s.DeleteBlob(bl.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportCPUOf(b, used, bench50MiB)
}

// reportCPUOf reports the CPU time per operation, and the throughput it
// gives: on a shared machine it moves less with the other work than wall time.
func reportCPUOf(b *testing.B, used time.Duration, bytes int64) {
	if b.N == 0 || used <= 0 {
		return
	}
	perOp := float64(used.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	b.ReportMetric(float64(bytes)/perOp*1e3, "cpu-MB/s")
}

// reportCPUThroughput is reportCPU with the throughput by CPU time.
func reportCPUThroughput(b *testing.B, bytes int64) func() {
	start := cpu.Process()
	return func() { reportCPUOf(b, cpu.Process()-start, bytes) }
}

// BenchmarkBlobDownload50MiB reads 50 MiB back, one read transaction per chunk.
func BenchmarkBlobDownload50MiB(b *testing.B) {
	s := openTest(b)
	bl := Blob{Name: "x", CreatedAt: time.Now()}
	if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, bench50MiB), bench50MiB); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bench50MiB)
	defer reportCPUThroughput(b, bench50MiB)()
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
// (a session save) while a 50 MiB upload is written, and, as a yardstick, the
// longest wait of the same writes with no upload running: on a disk shared
// with other work the fsync of any commit can take that long.
func BenchmarkSmallWriteDuringUpload(b *testing.B) {
	s := openTest(b)
	var alone time.Duration
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		start := time.Now()
		if err := s.SaveSession("bench-session-id-of-forty-three-characters!!", Session{CreatedAt: start, LastSeen: start}); err != nil {
			b.Fatal(err)
		}
		alone = max(alone, time.Since(start))
	}
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
	b.ReportMetric(float64(alone.Microseconds())/1000, "max-wait-alone-ms")
}

// discardWriter is a ResponseWriter that throws the body away.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkServeBlob50MiB serves a stored 50 MiB file the way a download does
// (http.ServeContent over a BlobReader); compare with BenchmarkServeFile50MiB.
func BenchmarkServeBlob50MiB(b *testing.B) {
	s := openTest(b)
	bl := Blob{Name: "x", CreatedAt: time.Now()}
	if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, bench50MiB), bench50MiB); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.SetBytes(bench50MiB)
	defer reportCPUThroughput(b, bench50MiB)()
	for b.Loop() {
		r, err := s.OpenBlob(bl.ID)
		if err != nil {
			b.Fatal(err)
		}
		http.ServeContent(&discardWriter{h: http.Header{}}, req, "", bl.CreatedAt, r)
	}
}

// BenchmarkServeFile50MiB is http.ServeContent of the same bytes from a plain file.
func BenchmarkServeFile50MiB(b *testing.B) {
	path := filepath.Join(b.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(zeros{}, bench50MiB)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.SetBytes(bench50MiB)
	defer reportCPUThroughput(b, bench50MiB)()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		http.ServeContent(&discardWriter{h: http.Header{}}, req, "", time.Now(), f)
		f.Close()
	}
}
