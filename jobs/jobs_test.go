package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/locales"
	"foyer/mail"
	"foyer/preso"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// clock is the time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a store with the jobs over it, wired as main wires them, and what they logged.
type env struct {
	st      *store.Store
	shares  *share.Engine
	presos  *preso.Service
	jobs    *Jobs
	clock   *clock
	log     *syncBuffer
	woken   int
	reports []uint64
	mu      sync.Mutex
}

// syncBuffer is a log the jobs write from the test's goroutine or Run's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (e *env) Wake() {
	e.mu.Lock()
	e.woken++
	e.mu.Unlock()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.WithMessageCheck(mail.Prepare))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, clock: &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}, log: &syncBuffer{}}
	e.shares = share.New(st, e.clock.now)
	e.shares.OnPurge(store.ShareFiles, func(sh store.Share) error {
		for _, id := range sh.Snapshot {
			if err := st.DeleteBlob(id); err != nil {
				return err
			}
		}
		return nil
	})
	cat, _ := locales.Load()
	templates, err := views.NewMail()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://portal.example.org")
	mailer, err := mail.New(mail.Config{Store: st, Shares: e.shares, Catalog: cat, Templates: templates, BaseURL: base, Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	e.presos = preso.New(st, e.shares, e.clock.now)
	e.jobs = New(Config{Store: st, Shares: e.shares, Presos: e.presos, Mail: mailer, Outbox: e, Log: slog.New(slog.NewTextHandler(e.log, nil)), Now: e.clock.now,
		IdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour, ViewingEnd: 5 * time.Minute,
		ReportViewing: func(v store.Viewing) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.reports = append(e.reports, v.ID)
			return nil
		}})
	return e
}

// client makes a practitioner's client with an email, in French.
func (e *env) client(t *testing.T, first, email string) store.Client {
	t.Helper()
	cl := store.Client{FirstName: first, LastName: "Martin", Email: email, Lang: "fr", PractitionerID: 1}
	if err := e.st.CreateClient(&cl); err != nil {
		t.Fatal(err)
	}
	return cl
}

func (e *env) appointment(t *testing.T, cl store.Client, start time.Time) store.Appointment {
	t.Helper()
	ap := store.Appointment{ClientID: cl.ID, PractitionerID: 1, Start: start, Minutes: 50, Kind: store.KindInPerson,
		Status: store.StatusBooked, Currency: "EUR", CreatedAt: e.clock.now()}
	if err := e.st.CreateAppointment(&ap); err != nil {
		t.Fatal(err)
	}
	return ap
}

func (e *env) messages(t *testing.T) []store.Message {
	t.Helper()
	msgs, err := e.st.ListMessages(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// A reminder goes out once, a day before its session, in the client's
// language, and expires when the session starts.
func TestRemindersDue(t *testing.T) {
	e := newEnv(t)
	if err := e.st.CreateStaff(&store.Staff{Email: "olive@example.org", Name: "Olive Owner", Role: store.RoleOwner, Active: true}); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t, "Éloïse", "eloise@example.org")
	soon := e.appointment(t, cl, e.clock.now().Add(25*time.Hour))
	if n, err := e.jobs.SendReminders(e.clock.now()); n != 0 || err != nil {
		t.Fatalf("25 hours before: %d reminders, %v", n, err)
	}
	e.clock.advance(2 * time.Hour)
	if n, err := e.jobs.SendReminders(e.clock.now()); n != 1 || err != nil {
		t.Fatalf("23 hours before: %d reminders, %v", n, err)
	}
	if n, _ := e.jobs.SendReminders(e.clock.now()); n != 0 {
		t.Fatalf("a second reminder: %d", n)
	}
	msgs := e.messages(t)
	if len(msgs) != 1 || msgs[0].Kind != mail.Reminder || msgs[0].To != "eloise@example.org" || msgs[0].Lang != "fr" ||
		!msgs[0].ExpiresAt.Equal(soon.Start) || msgs[0].Args["Practitioner"] != "Olive Owner" {
		t.Fatalf("outbox: %+v", msgs)
	}
	if e.woken != 1 {
		t.Fatalf("the outbox was woken %d times", e.woken)
	}
}

// One appointment whose client cannot be read does not stop the reminders of the others.
func TestOneBadAppointmentDoesNotStopReminders(t *testing.T) {
	e := newEnv(t)
	first := e.client(t, "Éloïse", "eloise@example.org")
	second := e.client(t, "Marc", "marc@example.org")
	e.appointment(t, first, e.clock.now().Add(23*time.Hour))
	e.appointment(t, second, e.clock.now().Add(24*time.Hour-time.Minute))
	e.jobs.readClient = func(id uint64) (store.Client, error) {
		if id == first.ID {
			return store.Client{}, errors.New("store: unable to decode clients record")
		}
		return e.st.Client(id)
	}
	n, err := e.jobs.SendReminders(e.clock.now())
	if n != 1 || err == nil {
		t.Fatalf("reminders: %d, %v; want the second one sent and the first one's error", n, err)
	}
	if msgs := e.messages(t); len(msgs) != 1 || msgs[0].To != "marc@example.org" {
		t.Fatalf("outbox: %+v", msgs)
	}
}

// upload stores a complete file, as the share dialog's upload does.
func (e *env) upload(t *testing.T, name string) store.Blob {
	t.Helper()
	b := store.Blob{Name: name, Type: "text/plain", StaffID: 1, CreatedAt: e.clock.now()}
	if err := e.st.CreateBlob(&b, strings.NewReader("hello"), 1<<20); err != nil {
		t.Fatal(err)
	}
	return b
}

// A share past its expiry is swept: expired, its files purged from the store.
func TestSharePastExpirySweptAndPurged(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t, "Ana", "ana@example.org")
	b := e.upload(t, "bilan.txt")
	if err := e.st.AttachBlobs([]uint64{b.ID}); err != nil {
		t.Fatal(err)
	}
	sh, _, err := e.shares.Create(share.Draft{Kind: store.ShareFiles, ClientID: cl.ID, StaffID: 1, Snapshot: []uint64{b.ID}, Lifetime: 20 * 24 * time.Hour,
		Recipients: []store.ShareRecipient{{ClientID: cl.ID, Name: "Ana Martin", Email: "ana@example.org", Lang: "fr"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(20*24*time.Hour - time.Minute)
	if n, err := e.jobs.ExpireShares(e.clock.now()); n != 0 || err != nil {
		t.Fatalf("a minute before its expiry: %d expired, %v", n, err)
	}
	if _, err := e.st.Blob(b.ID); err != nil {
		t.Fatalf("the file is gone before the expiry: %v", err)
	}
	e.clock.advance(time.Minute)
	if n, err := e.jobs.ExpireShares(e.clock.now()); n != 1 || err != nil {
		t.Fatalf("at its expiry: %d expired, %v", n, err)
	}
	got, _ := e.st.Share(sh.ID)
	if got.State != store.ShareExpired || !got.Purged {
		t.Fatalf("share after the sweep: %s, purged %v", got.State, got.Purged)
	}
	if _, err := e.st.Blob(b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the file is still in the store: %v", err)
	}
	if n, _ := e.jobs.ExpireShares(e.clock.now()); n != 0 {
		t.Fatalf("expired again: %d", n)
	}
}

// An undownloaded share's recipient is reminded once, two days before.
func TestShareReminderOnce(t *testing.T) {
	e := newEnv(t)
	cl := e.client(t, "Ana", "ana@example.org")
	b := e.upload(t, "bilan.txt")
	if _, _, err := e.shares.Create(share.Draft{Kind: store.ShareFiles, ClientID: cl.ID, StaffID: 1, Snapshot: []uint64{b.ID},
		Recipients: []store.ShareRecipient{{ClientID: cl.ID, Name: "Ana Martin", Email: "ana@example.org", Lang: "fr"}}}, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(share.DefaultLifetime - share.ReminderLead - time.Minute)
	if n, _ := e.jobs.RemindShares(e.clock.now()); n != 0 {
		t.Fatalf("reminded %d early", n)
	}
	e.clock.advance(2 * time.Minute)
	for want := 1; want >= 0; want-- {
		if n, err := e.jobs.RemindShares(e.clock.now()); n != want || err != nil {
			t.Fatalf("reminders: %d, %v; want %d", n, err, want)
		}
	}
	if msgs := e.messages(t); len(msgs) != 1 || msgs[0].Kind != mail.ShareReminder || msgs[0].Lang != "fr" {
		t.Fatalf("outbox: %+v", msgs)
	}
}

// Files uploaded for a share never made are removed a day after their
// upload, and the log says so; the files of a share stay.
func TestAbandonedUploadsRemovedAfterADay(t *testing.T) {
	e := newEnv(t)
	abandoned := e.upload(t, "oublié.txt")
	kept := e.upload(t, "partagé.txt")
	if err := e.st.AttachBlobs([]uint64{kept.ID}); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(AbandonedUpload - time.Minute)
	e.jobs.Tick()
	if _, err := e.st.Blob(abandoned.ID); err != nil {
		t.Fatalf("removed before a day: %v", err)
	}
	e.clock.advance(2 * time.Minute)
	e.jobs.Tick()
	if _, err := e.st.Blob(abandoned.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("still there after a day: %v", err)
	}
	if _, err := e.st.Blob(kept.ID); err != nil {
		t.Fatalf("a shared file was removed: %v", err)
	}
	if log := e.log.String(); !strings.Contains(log, `msg="abandoned uploads removed" count=1`) {
		t.Fatalf("the log does not say the upload was removed:\n%s", log)
	}
}

// A preso snapshot left by a crash (saved, its link never made) is removed
// by the schedule after the grace, and the log says so.
func TestUnusedSnapshotsRemoved(t *testing.T) {
	e := newEnv(t)
	p := store.Preso{Title: "Plan", OwnerID: 1, CreatedAt: e.clock.now()}
	p.AddSlide(store.Slide{Kind: store.SlideContent, Title: "One"})
	if err := e.st.CreatePreso(&p, 1); err != nil {
		t.Fatal(err)
	}
	snap, err := e.st.SaveSnapshot(p.ID, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	e.jobs.Tick()
	e.clock.advance(preso.SnapshotGrace)
	e.jobs.Tick()
	if _, err := e.st.Snapshot(snap.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the orphan snapshot after the grace: %v", err)
	}
	if log := e.log.String(); !strings.Contains(log, `msg="preso snapshots no link shows any more removed" count=1`) {
		t.Fatalf("the log does not say the snapshot was removed:\n%s", log)
	}
}

// A viewing is reported once it has been quiet for ViewingEnd, and only once.
func TestEndedViewingsReportedOnce(t *testing.T) {
	e := newEnv(t)
	v := store.Viewing{ShareID: 7, PresoID: 3, SnapshotID: 1, Verification: "none", StartedAt: e.clock.now()}
	if err := e.st.StartViewing(&v, "viewing-token"); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(20 * time.Second)
	if _, err := e.st.RecordBeacon(store.Beacon{Token: "viewing-token", ShareID: 7, SlideID: 1, Millis: 20000, At: e.clock.now()}); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(4 * time.Minute)
	if n, err := e.jobs.ReportViewings(e.clock.now()); n != 0 || err != nil {
		t.Fatalf("4 minutes after its last slide: %d reported, %v", n, err)
	}
	e.clock.advance(2 * time.Minute)
	if n, err := e.jobs.ReportViewings(e.clock.now()); n != 1 || err != nil {
		t.Fatalf("6 minutes after its last slide: %d reported, %v", n, err)
	}
	// The viewer comes back: the numbers grow, no second report.
	if _, err := e.st.RecordBeacon(store.Beacon{Token: "viewing-token", ShareID: 7, SlideID: 2, Millis: 5000, At: e.clock.now()}); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(time.Hour)
	if n, _ := e.jobs.ReportViewings(e.clock.now()); n != 0 {
		t.Fatalf("reported again: %d", n)
	}
	if len(e.reports) != 1 || e.reports[0] != v.ID {
		t.Fatalf("reports: %v", e.reports)
	}
}

// Sessions idle past the timeout or older than their lifetime are purged;
// the schedule purges them only from ten minutes after the start.
func TestSessionsPurged(t *testing.T) {
	e := newEnv(t)
	now := e.clock.now()
	for id, sess := range map[string]store.Session{
		"idle":   {UserID: 1, CreatedAt: now.Add(-time.Hour), LastSeen: now.Add(-31 * time.Minute)},
		"old":    {UserID: 1, CreatedAt: now.Add(-13 * time.Hour), LastSeen: now},
		"active": {UserID: 1, CreatedAt: now.Add(-time.Hour), LastSeen: now},
	} {
		if err := e.st.SaveSession(id, sess); err != nil {
			t.Fatal(err)
		}
	}
	e.jobs.Tick()
	if n, _ := e.st.CountUserSessions(1); n != 3 {
		t.Fatalf("purged at the start: %d sessions left", n)
	}
	e.clock.advance(purgeEvery - time.Second)
	e.jobs.Tick()
	if n, _ := e.st.CountUserSessions(1); n != 3 {
		t.Fatalf("purged before ten minutes: %d sessions left", n)
	}
	e.clock.advance(time.Second)
	e.jobs.Tick()
	if n, _ := e.st.CountUserSessions(1); n != 1 {
		t.Fatalf("after ten minutes: %d sessions left, want the active one", n)
	}
	if _, err := e.st.Session("idle"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the idle session is still there: %v", err)
	}
	if _, err := e.st.Session("old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the session past its lifetime is still there: %v", err)
	}
	if _, err := e.st.Session("active"); err != nil {
		t.Fatalf("the active session was purged: %v", err)
	}
}

// Tick runs what is due and says when the next job is; Run stops with its context.
func TestSchedule(t *testing.T) {
	e := newEnv(t)
	ran := map[string]int{}
	for i := range e.jobs.tasks {
		what, run := e.jobs.tasks[i].what, e.jobs.tasks[i].run
		e.jobs.tasks[i].run = func(now time.Time) (int, error) { ran[what]++; return run(now) }
	}
	start := e.clock.now()
	next := e.jobs.Tick()
	if ran["send reminders"] != 1 || ran["sweep shares"] != 1 || ran["report preso viewings"] != 1 || ran["purge sessions"] != 0 {
		t.Fatalf("at the start: %v", ran)
	}
	if !next.Equal(start.Add(time.Minute)) {
		t.Fatalf("next job %v after the start, want a minute", next.Sub(start))
	}
	e.jobs.Tick()
	if ran["send reminders"] != 1 {
		t.Fatalf("ran again with nothing due: %v", ran)
	}
	e.clock.advance(time.Minute)
	e.jobs.Tick()
	if ran["send reminders"] != 2 || ran["purge sessions"] != 0 {
		t.Fatalf("a minute on: %v", ran)
	}
	e.clock.advance(9 * time.Minute)
	e.jobs.Tick()
	if ran["purge sessions"] != 1 || ran["purge expired links"] != 1 {
		t.Fatalf("ten minutes on: %v", ran)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() { e.jobs.Run(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once its context ended")
	}
}

// The off-site backup is asked for every minute, from the start, only when
// the practice has one.
func TestBackupOnTheSchedule(t *testing.T) {
	e := newEnv(t)
	for _, task := range e.jobs.tasks {
		if task.what == "start an off-site backup" {
			t.Fatal("a backup task without backups")
		}
	}
	var asked []time.Time
	cfg := e.jobs.cfg
	cfg.Backup = func(now time.Time) (int, error) { asked = append(asked, now); return 1, nil }
	j := New(cfg)
	start := e.clock.now()
	j.Tick()
	e.clock.advance(30 * time.Second)
	j.Tick()
	e.clock.advance(30 * time.Second)
	j.Tick()
	if len(asked) != 2 || !asked[0].Equal(start) || !asked[1].Equal(start.Add(time.Minute)) {
		t.Fatalf("asked at %v", asked)
	}
}
