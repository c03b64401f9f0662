package jobs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"foyer/journal"
	"foyer/privacy"
	"foyer/store"
)

// withPrivacy rebuilds the env's jobs with personal data's, on its clock.
func (e *env) withPrivacy() (*journal.Journal, *privacy.Service) {
	jr := journal.New(e.st, e.clock.now)
	svc := privacy.New(e.st, jr, e.clock.now)
	cfg := e.jobs.cfg
	cfg.Privacy = svc
	e.jobs = New(cfg)
	return jr, svc
}

// TestRetentionOnTheSchedule: the schedule erases a client due under the
// retention rule only once the practice turned automatic erasure on, purges
// the journal past its months, and compacts a file an erasure left marked.
func TestRetentionOnTheSchedule(t *testing.T) {
	e := newEnv(t)
	jr, _ := e.withPrivacy()
	cl := e.client(t, "Gone", "gone@example.org")
	e.appointment(t, cl, e.clock.now().Add(-time.Hour))
	if _, err := e.st.ArchiveClient(cl.ID, true); err != nil {
		t.Fatal(err)
	}
	jr.Record(journal.Entry{StaffID: 1, ClientID: cl.ID, Action: journal.RecordRead})
	e.jobs.Tick() // the schedule starts
	e.clock.advance(10*365*24*time.Hour + 5*24*time.Hour)
	e.jobs.Tick()
	if _, err := e.st.Client(cl.ID); err != nil {
		t.Fatal("erased while automatic erasure was off")
	}
	if _, err := e.st.UpdatePrivacySettings(func(ps *store.PrivacySettings) error { ps.AutoErase = true; return nil }); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(time.Hour)
	e.jobs.Tick()
	if _, err := e.st.Client(cl.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("not erased once on: %v", err)
	}
	if due, err := e.st.CompactDue(); err != nil || due {
		t.Fatalf("left for compaction: %v %v", due, err)
	}
	if !strings.Contains(e.log.String(), "clients erased under the retention rule") {
		t.Fatalf("log: %s", e.log.String())
	}
	// The read ten years ago is past the journal's 12 months; the erasure is not.
	list, _, err := jr.List(store.JournalFilter{})
	if err != nil || len(list) != 1 || list[0].Action != string(journal.Erase) || list[0].StaffID != 0 {
		t.Fatalf("journal after the purge: %+v %v", list, err)
	}
	if r, err := jr.Verify(); err != nil || r.Purged != 1 {
		t.Fatalf("chain: %+v %v", r, err)
	}
}
