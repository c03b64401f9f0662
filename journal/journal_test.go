package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"foyer/store"
)

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newJournal(t testing.TB, dir string) (*Journal, *store.Store, *clock) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	return New(st, c.now), st, c
}

// record adds n entries, each with a detail naming it, a minute apart.
func record(j *Journal, c *clock, from, n int) {
	for i := from; i < from+n; i++ {
		j.Record(Entry{StaffID: 1, ClientID: uint64(i%3 + 1), Action: RecordRead, Detail: fmt.Sprintf("entry-%04d", i), Addr: "192.0.2.7"})
		c.add(time.Minute)
	}
}

func TestRecordedEntriesAreChainedAndListed(t *testing.T) {
	j, _, c := newJournal(t, t.TempDir())
	record(j, c, 1, 10)
	// Nothing is written until the buffer is flushed; a listing flushes first.
	list, more, err := j.List(store.JournalFilter{Limit: 4})
	if err != nil || more != true || len(list) != 4 {
		t.Fatalf("list: %d entries, more %v, %v", len(list), more, err)
	}
	if list[0].Detail != "entry-0010" || list[0].Seq != 10 || list[3].Seq != 7 {
		t.Fatalf("newest first expected, got %q #%d … #%d", list[0].Detail, list[0].Seq, list[3].Seq)
	}
	next, _, err := j.List(store.JournalFilter{Limit: 4, Before: list[3].Seq})
	if err != nil || len(next) != 4 || next[0].Seq != 6 {
		t.Fatalf("next page: %+v %v", next, err)
	}
	byClient, _, err := j.List(store.JournalFilter{ClientID: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range byClient {
		if e.ClientID != 2 {
			t.Fatalf("client filter let through %+v", e)
		}
	}
	if len(byClient) != 4 { // entries 1, 4, 7, 10
		t.Fatalf("client 2 has %d entries, want 4", len(byClient))
	}
	// Dates: From ≤ At < To.
	from := time.Date(2026, 3, 2, 9, 3, 0, 0, time.UTC)
	ranged, _, err := j.List(store.JournalFilter{From: from, To: from.Add(3 * time.Minute)})
	if err != nil || len(ranged) != 3 || ranged[0].Detail != "entry-0006" || ranged[2].Detail != "entry-0004" {
		t.Fatalf("date range: %+v %v", ranged, err)
	}
	r, err := j.Verify()
	if err != nil || r.Entries != 10 || r.First != 1 || r.Last != 10 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	// Each entry holds the MAC of the one before.
	if !bytes.Equal(list[0].Prev, list[1].MAC) {
		t.Fatal("entry 10 does not chain to entry 9")
	}
}

// TestAlteredEntryIsNamed: an entry changed in a copy of the data file (one
// byte of its JSON, as anyone with the file could) breaks the chain at that
// entry, and Verify names it.
func TestAlteredEntryIsNamed(t *testing.T) {
	dir := t.TempDir()
	j, st, c := newJournal(t, dir)
	record(j, c, 1, 30)
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	copyDir := t.TempDir()
	// Entry 17 said 192.0.2.7; the copy says 192.0.2.8.
	at := bytes.Index(raw, []byte(`"detail":"entry-0017"`))
	if at < 0 {
		t.Fatal("entry 17 not found in the file")
	}
	addr := bytes.Index(raw[at:], []byte("192.0.2.7"))
	altered := bytes.Clone(raw)
	altered[at+addr+len("192.0.2.7")-1] = '8'
	if err := os.WriteFile(filepath.Join(copyDir, store.FileName), altered, 0o600); err != nil {
		t.Fatal(err)
	}
	// The copy opens with the practice's secret key, kept beside the file.
	key, err := os.ReadFile(filepath.Join(dir, store.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, store.KeyFileName), key, 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := store.Open(copyDir)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	_, err = Verify(cp)
	var broken *BrokenError
	if !errors.As(err, &broken) || broken.Seq != 17 || broken.Problem != Altered {
		t.Fatalf("verify of the altered copy: %v", err)
	}
	// The original is intact.
	orig, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if r, err := Verify(orig); err != nil || r.Entries != 30 {
		t.Fatalf("original: %+v %v", r, err)
	}
}

// TestForgedEntryIsNamed: an entry MAC'd under another file's key
// (a forged one, or one moved between practices) does not verify.
func TestForgedEntryIsNamed(t *testing.T) {
	j, st, c := newJournal(t, t.TempDir())
	record(j, c, 1, 3)
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	// Signed with a key that is not this file's: the chain links, the MAC does not.
	forger := &Journal{st: st, now: c.now, key: []byte("not the file's key"), kick: make(chan struct{}, 1)}
	forger.Record(Entry{StaffID: 9, Action: BackupDownload})
	if err := forger.Flush(); err != nil {
		t.Fatal(err)
	}
	_, err := j.Verify()
	var broken *BrokenError
	if !errors.As(err, &broken) || broken.Seq != 4 || broken.Problem != Altered {
		t.Fatalf("verify: %v", err)
	}
}

// TestPurgeKeepsTheChainCheckable: the retention purge removes the oldest
// entries and leaves a signed anchor; the rest still verifies, new entries
// chain on, and a changed anchor is caught.
func TestPurgeKeepsTheChainCheckable(t *testing.T) {
	j, st, c := newJournal(t, t.TempDir())
	record(j, c, 1, 50)
	c.add(40 * 24 * time.Hour)
	record(j, c, 51, 5)
	// Keep one month: the first 50 entries are older.
	n, err := j.Purge(c.now(), 1)
	if err != nil || n != 50 {
		t.Fatalf("purged %d: %v", n, err)
	}
	r, err := j.Verify()
	if err != nil || r.Entries != 5 || r.First != 51 || r.Purged != 50 {
		t.Fatalf("after the purge: %+v %v", r, err)
	}
	record(j, c, 56, 2)
	if r, err := j.Verify(); err != nil || r.Last != 57 {
		t.Fatalf("after more entries: %+v %v", r, err)
	}
	// Purge everything: the anchor stands for the next entry.
	c.add(60 * 24 * time.Hour)
	if n, err := j.Purge(c.now(), 1); err != nil || n != 7 {
		t.Fatalf("second purge: %d %v", n, err)
	}
	if r, err := j.Verify(); err != nil || r.Entries != 0 || r.Purged != 57 {
		t.Fatalf("empty after purge: %+v %v", r, err)
	}
	record(j, c, 58, 1)
	if r, err := j.Verify(); err != nil || r.First != 58 {
		t.Fatalf("after a new entry: %+v %v", r, err)
	}
	// An anchor moved forward to hide entries is refused.
	_, anchor, err := st.JournalHead()
	if err != nil || anchor == nil {
		t.Fatalf("no anchor: %v", err)
	}
	forger := &Journal{st: st, now: c.now, key: []byte("another key"), kick: make(chan struct{}, 1)}
	c.add(24 * time.Hour)
	if _, err := st.PurgeJournal(c.now(), c.now(), 10, forger.mac); err != nil {
		t.Fatal(err)
	}
	var broken *BrokenError
	if _, err := j.Verify(); !errors.As(err, &broken) || broken.Problem != AnchorAltered {
		t.Fatalf("a forged anchor: %v", err)
	}
}

// TestConcurrentRecordsAreAllKept: entries recorded from many requests at
// once are all written, each chained.
func TestConcurrentRecordsAreAllKept(t *testing.T) {
	j, _, _ := newJournal(t, t.TempDir())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				j.Record(Entry{StaffID: uint64(g + 1), ClientID: uint64(i + 1), Action: RecordRead})
				if i%50 == 0 {
					if err := j.Flush(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	r, err := j.Verify()
	if err != nil || r.Entries != 1600 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	staff3, _, err := j.List(store.JournalFilter{StaffID: 3, Limit: 1000})
	if err != nil || len(staff3) != 200 {
		t.Fatalf("staff 3: %d entries, %v", len(staff3), err)
	}
}

// TestRunWritesOnStop: Run writes what is left in the buffer when it stops.
func TestRunWritesOnStop(t *testing.T) {
	dir := t.TempDir()
	j, st, c := newJournal(t, dir)
	ctx, cancel := contextWithCancel()
	done := make(chan struct{})
	go func() { j.Run(ctx, func(err error) { t.Error(err) }); close(done) }()
	record(j, c, 1, 3)
	cancel()
	<-done
	recs, err := st.JournalRecords(0, 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("written at stop: %d %v", len(recs), err)
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
