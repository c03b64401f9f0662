package backup

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/backup/s3test"
	"foyer/store"
)

// TestMeasureLargeStore measures what the README and docs/PERFORMANCE.md
// report for a store of FOYER_BACKUP_MEASURE MiB (e.g. 1024) of documents,
// against versitygw on this machine: the time of a backup (snapshot and
// encryption, then upload) and of a restore, the wait of small writes
// (a session saved every 20 ms) during each phase, and the process's memory
// above idle. It is skipped unless FOYER_BACKUP_MEASURE is set.
func TestMeasureLargeStore(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("FOYER_BACKUP_MEASURE"))
	if mib <= 0 {
		t.Skip("set FOYER_BACKUP_MEASURE=1024 to measure a backup and restore of a 1 GiB store")
	}
	// FOYER_BACKUP_MEASURE_S3DIR puts the storage elsewhere than this disk
	// (/dev/shm: as a storage on another machine, whose writes do not
	// compete with the data file's).
	s3dir := t.TempDir()
	if d := os.Getenv("FOYER_BACKUP_MEASURE_S3DIR"); d != "" {
		s3dir = filepath.Join(d, "foyer-measure-"+strconv.Itoa(os.Getpid()))
		t.Cleanup(func() { os.RemoveAll(s3dir) })
	}
	srv := s3test.StartIn(t, s3dir)
	// FOYER_BACKUP_MEASURE_DIR puts the store elsewhere (/dev/shm: what the
	// backup does to writes apart from the disk they share).
	dir := t.TempDir()
	if d := os.Getenv("FOYER_BACKUP_MEASURE_DIR"); d != "" {
		dir = filepath.Join(d, "foyer-measure-data-"+strconv.Itoa(os.Getpid()))
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	chunk := 50 << 20
	for written := 0; written < mib<<20; written += chunk {
		b := store.Blob{Name: fmt.Sprintf("scan-%d.pdf", written/chunk), CreatedAt: time.Now()}
		if err := st.CreateBlob(&b, io.LimitReader(rand.Reader, int64(min(chunk, mib<<20-written))), 1<<40); err != nil {
			t.Fatal(err)
		}
	}
	fi, _ := os.Stat(filepath.Join(dir, store.FileName))
	t.Logf("store of %s built in %v", s3test.Size(fi.Size()), time.Since(start).Round(time.Second))

	target, _ := ParseURL(s3test.URL(srv.Addr, "measure"))
	b, err := New(st, target, time.Hour, discardLog(), nil)
	if err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	debug.FreeOSMemory()
	idleRSS, idleAnon := memory(t)
	t.Logf("idle: RSS %s (anonymous %s)", kib(idleRSS), kib(idleAnon))

	phase := func(name string, work func() error) {
		t.Helper()
		w := startWriter(st)
		peakRSS, peakAnon := watchMemory(t)
		begin := time.Now()
		err := work()
		took := time.Since(begin)
		waits := w.stop()
		rss, anon := peakRSS(), peakAnon()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		slices.Sort(waits)
		t.Logf("%-22s %8v | small writes: %d, median %v, p99 %v, max %v | memory above idle: RSS +%s, anonymous +%s",
			name, took.Round(10*time.Millisecond), len(waits), waits[len(waits)/2].Round(100*time.Microsecond),
			waits[len(waits)*99/100].Round(100*time.Microsecond), waits[len(waits)-1].Round(100*time.Microsecond),
			kib(rss-idleRSS), kib(anon-idleAnon))
	}
	phase("nothing else (idle)", func() error { time.Sleep(5 * time.Second); return nil })
	var enc *os.File
	var size int64
	phase("snapshot and encrypt", func() error {
		var err error
		enc, size, err = Seal(b.st)
		return err
	})
	t.Logf("copy of %s", s3test.Size(size))
	phase("upload", func() error {
		return b.remote.Put(context.Background(), "foyer-20260101T000000Z.db.zst.age", enc, size)
	})
	enc.Close()
	phase("whole backup (Once)", func() error { _, err := b.Once(context.Background()); return err })

	dest := filepath.Join(t.TempDir(), "restored")
	phase("restore", func() error {
		_, err := Restore(context.Background(), b.remote, time.Time{}, dest, st.SecretKey(), false, time.Now())
		return err
	})
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// writer saves a small record every 20 ms and records how long each took.
type writer struct {
	stopc chan struct{}
	done  chan []time.Duration
}

func startWriter(st *store.Store) *writer {
	w := &writer{stopc: make(chan struct{}), done: make(chan []time.Duration, 1)}
	go func() {
		var waits []time.Duration
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-w.stopc:
				w.done <- waits
				return
			case <-tick.C:
			}
			begin := time.Now()
			if err := st.SaveSession(fmt.Sprintf("measure-%d", i%50), store.Session{LastSeen: begin, CreatedAt: begin}); err != nil {
				panic(err)
			}
			waits = append(waits, time.Since(begin))
		}
	}()
	return w
}

func (w *writer) stop() []time.Duration {
	close(w.stopc)
	return <-w.done
}

// memory reads this process's resident set and its anonymous part, in KiB.
func memory(t *testing.T) (rss, anon int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = n
		case "RssAnon:":
			anon = n
		}
	}
	return rss, anon
}

// watchMemory samples memory every 20 ms until asked for the peaks.
func watchMemory(t *testing.T) (peakRSS, peakAnon func() int64) {
	var mu sync.Mutex
	var rss, anon int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, a := memory(t)
			mu.Lock()
			rss, anon = max(rss, r), max(anon, a)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	finish := func() { once.Do(func() { close(stop); <-done }) }
	return func() int64 { finish(); mu.Lock(); defer mu.Unlock(); return rss },
		func() int64 { finish(); mu.Lock(); defer mu.Unlock(); return anon }
}

func kib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/1024) }
