package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
	"github.com/minio/minio-go/v7"

	"foyer/backup/s3test"
	"foyer/mail"
	"foyer/store"
)

// fakeClock is moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// practice is a store with one of everything, documents included.
type practice struct {
	st      *store.Store
	dir     string
	doc     []byte
	blobID  uint64
	ownerID uint64
}

func newPractice(t *testing.T, docSize int) *practice {
	t.Helper()
	p := &practice{dir: t.TempDir()}
	var err error
	if p.st, err = store.Open(p.dir, store.WithMessageCheck(mail.Prepare)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.st.Close() })
	owner := &store.Staff{Email: "owner@example.org", Name: "Olive Owner", Role: store.RoleOwner, Active: true, Lang: "fr"}
	if err := p.st.CreateStaff(owner); err != nil {
		t.Fatal(err)
	}
	p.ownerID = owner.ID
	if err := p.st.SavePractice(store.Practice{Name: "Cabinet Lumière", DefaultLang: "fr", TimeZone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	p.doc = make([]byte, docSize)
	rand.Read(p.doc)
	copy(p.doc, "Compte rendu de séance, très confidentiel. ")
	b := store.Blob{Name: "seance.pdf", CreatedAt: time.Now()}
	if err := p.st.CreateBlob(&b, bytes.NewReader(p.doc), 1<<40); err != nil {
		t.Fatal(err)
	}
	p.blobID = b.ID
	sh := store.Share{Kind: store.ShareFiles, State: store.ShareActive, ExpiresAt: time.Now().Add(time.Hour), Snapshot: []uint64{b.ID}}
	if err := p.st.CreateShare(&sh, "a-share-token-of-the-practice-0123456789", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.st.PutCertCache("portal.example.org", []byte("a certificate and its key")); err != nil {
		t.Fatal(err)
	}
	return p
}

// logBuffer is a log a test can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newBackups(t *testing.T, p *practice, url string, clock *fakeClock) (*Backups, *logBuffer) {
	t.Helper()
	target, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	log := &logBuffer{}
	b, err := New(p.st, target, time.Hour, slog.New(slog.NewTextHandler(log, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.SetClock(clock.Now)
	return b, log
}

// TestBackupAndRestoreRoundTrip: a copy goes up encrypted, its listed size
// checked; it opens with plain age and zstd and the secret key (no Foyer
// code); and foyer's restore brings back every record and file.
func TestBackupAndRestoreRoundTrip(t *testing.T) {
	srv := s3test.Start(t)
	p := newPractice(t, 3<<20)
	clock := newClock(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	b, _ := newBackups(t, p, s3test.URL(srv.Addr, "cabinet/prod"), clock)

	c, err := b.Once(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "foyer-20260302T093000Z.db.zst.age" {
		t.Fatalf("copy named %q", c.Name)
	}
	objects, unfinished := srv.Objects(t)
	if len(objects) != 1 || objects["cabinet/prod/"+c.Name] != c.Size || unfinished != 0 {
		t.Fatalf("the bucket holds %v (%d unfinished), want the copy of %d bytes", objects, unfinished, c.Size)
	}
	status, _ := p.st.BackupStatus()
	if !status.LastSuccess.Equal(clock.Now()) || status.LastSize != c.Size || status.LastName != c.Name || status.Failures != 0 {
		t.Fatalf("status %+v", status)
	}
	want, err := p.st.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	other := newPractice(t, 1000)
	if fp, _ := other.st.Fingerprint(); fp == want {
		t.Fatal("two different stores have the same fingerprint: the comparison below proves nothing")
	}

	// As the storage has it: age, nothing in the clear.
	obj, err := srv.Client(t).GetObject(t.Context(), s3test.Bucket, "cabinet/prod/"+c.Name, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n-> scrypt ")) || bytes.Contains(raw, p.doc[:40]) {
		t.Fatalf("the copy is not an age file with a passphrase: %q", raw[:60])
	}
	// Opened without Foyer's code: age with the key as passphrase, then zstd.
	id, _ := age.NewScryptIdentity(p.st.SecretKey())
	plain, err := age.Decrypt(bytes.NewReader(raw), id)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zstd.NewReader(plain)
	if err != nil {
		t.Fatal(err)
	}
	byHand := filepath.Join(t.TempDir(), "foyer.db")
	f, _ := os.Create(byHand)
	if _, err := io.Copy(f, z); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := store.CheckFile(byHand, p.st.SecretKey()); err != nil {
		t.Fatalf("the copy opened by hand: %v", err)
	}

	// foyer restore: into a fresh directory, with the key.
	remote, _ := NewRemote(b.Target())
	dest := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(t.Context(), remote, time.Time{}, dest, "not the key of this practice, but long enough", false, clock.Now()); err == nil {
		t.Fatal("restored with another key")
	}
	if _, err := os.Stat(filepath.Join(dest, store.FileName)); !os.IsNotExist(err) {
		t.Fatal("a failed restore left a data file")
	}
	got, err := Restore(t.Context(), remote, time.Time{}, dest, store.FormatSecretKey(p.st.SecretKey()), false, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.Copy.Name != c.Name {
		t.Fatalf("restored %q", got.Copy.Name)
	}
	if k, err := store.ReadKeyFile(filepath.Join(dest, store.KeyFileName)); err != nil || k != p.st.SecretKey() {
		t.Fatalf("the key beside the restored file: %q %v", k, err)
	}
	restored, err := store.Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	// The source recorded the backup's success after its snapshot: the one
	// record the copy cannot hold.
	done, _ := p.st.BackupStatus()
	restored.UpdateBackupStatus(func(s *store.BackupStatus) { *s = done })
	if fp, err := restored.Fingerprint(); err != nil || fp != want {
		t.Fatalf("the restored store differs from the one backed up (%v)", err)
	}
	r, err := restored.OpenBlob(p.blobID)
	if err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	r.WriteTo(&doc)
	r.Close()
	if !bytes.Equal(doc.Bytes(), p.doc) {
		t.Fatal("the document came back changed")
	}
	restored.Close()

	// A directory that holds data is refused, unless forced; then the old files are kept aside.
	if _, err := Restore(t.Context(), remote, time.Time{}, dest, p.st.SecretKey(), false, clock.Now()); !errors.Is(err, ErrDataExists) {
		t.Fatalf("restore over data: %v", err)
	}
	again, err := Restore(t.Context(), remote, time.Time{}, dest, p.st.SecretKey(), true, clock.Now().Add(time.Minute))
	if err != nil || len(again.Aside) != 2 {
		t.Fatalf("forced restore: %+v %v", again, err)
	}
	for _, a := range again.Aside {
		if _, err := os.Stat(a); err != nil {
			t.Fatalf("the file set aside is gone: %v", err)
		}
	}
	// Not under a running Foyer, forced or not.
	running, err := store.Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	if _, err := Restore(t.Context(), remote, time.Time{}, dest, p.st.SecretKey(), true, clock.Now()); !errors.Is(err, ErrInUse) {
		t.Fatalf("restore under a running Foyer: %v", err)
	}
}

// TestRetentionPrunes: after each copy, those the retention no longer keeps
// are deleted from the storage (the clock moved by the test).
func TestRetentionPrunes(t *testing.T) {
	srv := s3test.Start(t)
	p := newPractice(t, 1000)
	keep := store.Retention{Hourly: 2, Daily: 3, Monthly: 2}
	if err := p.st.SavePractice(store.Practice{Name: "Cabinet", BackupKeep: &keep}); err != nil {
		t.Fatal(err)
	}
	clock := newClock(time.Date(2026, 1, 30, 22, 10, 0, 0, time.UTC))
	b, _ := newBackups(t, p, s3test.URL(srv.Addr, "r"), clock)
	names := func() []string {
		objects, _ := srv.Objects(t)
		var out []string
		for k := range objects {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(k, "r/foyer-"), "Z.db.zst.age"))
		}
		slices.Sort(out)
		return out
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "20260130T221000"},
		{time.Hour, "20260130T221000 20260130T231000"},
		// 31 January 00:10: the 22:10 copy is neither of the last 2 hours nor the newest of its day.
		{time.Hour, "20260130T231000 20260131T001000"},
		{time.Hour, "20260130T231000 20260131T001000 20260131T011000"},
		// 1 February: the last two hours, the newest of 3 days, of 2 months.
		{24 * time.Hour, "20260130T231000 20260131T011000 20260201T011000"},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if _, err := b.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(names(), " "); got != s.want {
			t.Fatalf("after copy %d: %s, want %s", i+1, got, s.want)
		}
	}
}

// TestUnreachableStorageIsRetried: while the storage cannot be reached a run
// fails (and no copy, not even part of one, is listed), the next one comes
// sooner, the owner is emailed at the second failure in a row, and once the
// storage is back a run succeeds.
func TestUnreachableStorageIsRetried(t *testing.T) {
	srv := s3test.Start(t)
	proxy := s3test.StartProxy(t, srv.Addr)
	p := newPractice(t, 1<<20)
	clock := newClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	b, log := newBackups(t, p, s3test.URL(proxy.Addr, "p"), clock)
	woken := 0
	b.wake = func() { woken++ }

	proxy.Refuse(true)
	if _, err := b.Once(t.Context()); err == nil || Classify(err) != ErrKindUnreachable {
		t.Fatalf("with the storage down: %v (%s)", err, Classify(err))
	}
	if d := b.untilNext(clock.Now()); d != firstRetry {
		t.Fatalf("next try in %v, want %v", d, firstRetry)
	}
	if m := ownerMessages(t, p); len(m) != 0 {
		t.Fatal("the owner was emailed after one failure")
	}
	clock.Advance(firstRetry)
	// The network now drops the connection in the middle of the upload.
	proxy.Refuse(false)
	proxy.CutAfter(300 << 10)
	if _, err := b.Once(t.Context()); err == nil {
		t.Fatal("an upload cut half-way succeeded")
	}
	if objects, _ := srv.Objects(t); len(objects) != 0 {
		t.Fatalf("a cut upload left %v", objects)
	}
	status, _ := p.st.BackupStatus()
	if status.Failures != 2 || !status.Notified || !Failing(status) || !status.FailingSince.Equal(clock.Now().Add(-firstRetry)) {
		t.Fatalf("status after two failures: %+v", status)
	}
	msgs := ownerMessages(t, p)
	if len(msgs) != 1 || msgs[0].To != "owner@example.org" || msgs[0].Lang != "fr" || msgs[0].Args["Kind"] == "" || woken != 1 {
		t.Fatalf("the owner's email: %+v (outbox woken %d times)", msgs, woken)
	}
	if d := b.untilNext(clock.Now()); d != 2*firstRetry {
		t.Fatalf("next try in %v, want %v", d, 2*firstRetry)
	}
	if !strings.Contains(log.String(), "off-site backup failed") || strings.Contains(log.String(), s3test.Secret) {
		t.Fatalf("log: %s", log)
	}
	// A third failure sends no second email.
	proxy.Refuse(true)
	b.Once(t.Context())
	if len(ownerMessages(t, p)) != 1 {
		t.Fatal("a second email for the same failures")
	}

	proxy.Refuse(false)
	proxy.CutAfter(0)
	clock.Advance(4 * firstRetry)
	c, err := b.Once(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	objects, unfinished := srv.Objects(t)
	if len(objects) != 1 || objects["p/"+c.Name] != c.Size || unfinished != 0 {
		t.Fatalf("after the storage came back: %v, %d unfinished", objects, unfinished)
	}
	status, _ = p.st.BackupStatus()
	if status.Failures != 0 || status.Notified || Failing(status) {
		t.Fatalf("status after success: %+v", status)
	}
	if d := b.untilNext(clock.Now()); d != time.Hour {
		t.Fatalf("next copy in %v, want an hour", d)
	}
}

// TestLargeUploadCutLeavesNoCopy: a copy large enough to go up in parts,
// cut after its first part, is not listed; the next run removes what the
// cut upload left and puts a whole copy up.
func TestLargeUploadCutLeavesNoCopy(t *testing.T) {
	srv := s3test.Start(t)
	proxy := s3test.StartProxy(t, srv.Addr)
	p := newPractice(t, 40<<20)
	clock := newClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	b, _ := newBackups(t, p, s3test.URL(proxy.Addr, "big"), clock)
	proxy.CutAfter(partSize + partSize/2)
	if _, err := b.Once(t.Context()); err == nil {
		t.Fatal("a cut upload succeeded")
	}
	objects, unfinished := srv.Objects(t)
	if len(objects) != 0 {
		t.Fatalf("a cut upload is listed: %v", objects)
	}
	t.Logf("the cut left %d unfinished uploads", unfinished)
	proxy.CutAfter(0)
	clock.Advance(firstRetry)
	c, err := b.Once(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	objects, unfinished = srv.Objects(t)
	if len(objects) != 1 || objects["big/"+c.Name] != c.Size || c.Size < 40<<20 || unfinished != 0 {
		t.Fatalf("after the network came back: %v (%d bytes), %d unfinished", objects, c.Size, unfinished)
	}
}

func TestKeep(t *testing.T) {
	// A copy every hour for 400 days.
	end := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	var copies []Copy
	for at := end.Add(-400 * 24 * time.Hour); !at.After(end); at = at.Add(time.Hour) {
		copies = append(copies, Copy{Name: CopyName(at), Time: at})
	}
	keep, drop := Keep(copies, DefaultRetention)
	if len(keep)+len(drop) != len(copies) {
		t.Fatal("copies lost")
	}
	kept := map[time.Time]bool{}
	for _, c := range keep {
		kept[c.Time] = true
	}
	for h := 0; h < 24; h++ {
		if !kept[end.Add(-time.Duration(h)*time.Hour)] {
			t.Errorf("the copy of %d hours ago was dropped", h)
		}
	}
	if kept[end.Add(-24*time.Hour)] {
		t.Error("the copy of 24 hours ago is kept though it is not the newest of its day")
	}
	for d := 1; d < 30; d++ {
		// The newest copy of each of the last 30 days: 23:30 of the days before today.
		day := time.Date(2026, 3, 2-d, 23, 30, 0, 0, time.UTC)
		if !kept[day] {
			t.Errorf("the newest copy of %s was dropped", day.Format("2006-01-02"))
		}
	}
	for m := 1; m < 12; m++ {
		first := time.Date(2026, time.Month(3-m+1), 1, 0, 0, 0, 0, time.UTC)
		if !kept[first.Add(-30*time.Minute)] {
			t.Errorf("the newest copy of the month before %s was dropped", first.Format("2006-01"))
		}
	}
	// 24 hours; 28 more days (today's and yesterday's newest are among the
	// hours); 10 more months (March's newest is the newest of all,
	// February's is one of the 30 days).
	if len(keep) != 24+28+10 {
		t.Errorf("kept %d copies", len(keep))
	}
	// None kept for anything but hours: the newest copy still is.
	if keep, _ := Keep(copies, store.Retention{}); len(keep) != 1 || !keep[0].Time.Equal(end) {
		t.Errorf("nothing to keep kept %v", keep)
	}
	if err := CheckRetention(store.Retention{}); !errors.Is(err, ErrKeepNone) {
		t.Errorf("keeping nothing: %v", err)
	}
	if err := CheckRetention(store.Retention{Hourly: -1, Daily: 3}); !errors.Is(err, ErrKeepRange) {
		t.Errorf("a negative count: %v", err)
	}
	if at, err := Pick(copies, end.Add(-90*time.Minute)); err != nil || !at.Time.Equal(end.Add(-2*time.Hour)) {
		t.Errorf("Pick: %v %v", at, err)
	}
	if _, err := Pick(copies, end.Add(-500*24*time.Hour)); !errors.Is(err, ErrNoCopy) {
		t.Errorf("Pick before the first copy: %v", err)
	}
}

func ownerMessages(t *testing.T, p *practice) []store.Message {
	t.Helper()
	msgs, err := p.st.ListMessages(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind != mail.BackupFailed {
			t.Errorf("unexpected message %s", m.Kind)
		}
	}
	return msgs
}

// TestScheduleAndRun: Tick (called every minute by the jobs schedule) asks
// for the first copy at once, then one an interval after the last, never
// while one is being taken; Trigger (Back up now) asks at any time.
func TestScheduleAndRun(t *testing.T) {
	srv := s3test.Start(t)
	p := newPractice(t, 1000)
	clock := newClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	b, _ := newBackups(t, p, s3test.URL(srv.Addr, "s"), clock)
	ran := make(chan struct{})
	b.ran = func() { ran <- struct{}{} }
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	var names []string
	tick := func(want int) {
		t.Helper()
		if n, err := b.Tick(clock.Now()); n != want || err != nil {
			t.Fatalf("Tick at %s: %d %v, want %d", clock.Now().Format("15:04"), n, err, want)
		}
	}
	next := func() {
		<-ran
		st, _ := p.st.BackupStatus()
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(st.LastName, "foyer-20260302T"), "Z.db.zst.age"))
	}
	tick(1) // the first, at once
	tick(0) // not twice while it runs
	next()
	clock.Advance(59 * time.Minute)
	tick(0)
	clock.Advance(time.Minute)
	tick(1) // an hour after
	next()
	clock.Advance(20 * time.Minute)
	if !b.Trigger() {
		t.Fatal("Back up now refused")
	}
	next() // asked for
	clock.Advance(59 * time.Minute)
	tick(0)
	clock.Advance(time.Minute)
	tick(1) // an hour after the last
	next()
	if got := strings.Join(names, " "); got != "090000 100000 102000 112000" {
		t.Fatalf("copies at %s", got)
	}
}

// TestWrongCredentials: a refused key is a failure of its own kind, in the
// status (Settings) and the log, with the storage's words and no secret.
func TestWrongCredentials(t *testing.T) {
	srv := s3test.Start(t)
	p := newPractice(t, 1000)
	url := strings.Replace(s3test.URL(srv.Addr, "w"), s3test.Secret, "not-the-secret", 1)
	b, log := newBackups(t, p, url, newClock(time.Now()))
	_, err := b.Once(t.Context())
	if Classify(err) != ErrKindCredentials {
		t.Fatalf("wrong secret: %v (%s)", err, Classify(err))
	}
	status, _ := p.st.BackupStatus()
	if status.LastErrorKind != ErrKindCredentials || status.LastErrorDetail == "" || strings.Contains(status.LastErrorDetail, "not-the-secret") {
		t.Fatalf("status: %+v", status)
	}
	if l := log.String(); !strings.Contains(l, "kind=credentials") || strings.Contains(l, "not-the-secret") {
		t.Fatalf("log: %s", l)
	}
	if objects, _ := srv.Objects(t); len(objects) != 0 {
		t.Fatalf("objects: %v", objects)
	}
}

func TestParseURL(t *testing.T) {
	got, err := ParseURL("s3://AKIA:s3cr%2Ft@s3.fr-par.scw.cloud/cabinet/foyer/prod/?region=fr-par")
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Endpoint: "s3.fr-par.scw.cloud", Secure: true, Region: "fr-par", Bucket: "cabinet", Prefix: "foyer/prod", AccessKey: "AKIA", Secret: "s3cr/t"}
	if got != want {
		t.Fatalf("%+v", got)
	}
	if s := got.String(); s != "https://s3.fr-par.scw.cloud/cabinet/foyer/prod" || strings.Contains(s, "s3cr") {
		t.Fatalf("String() = %q", s)
	}
	if got, _ := ParseURL("s3://a:b@192.168.1.2:3900/bucket?tls=false"); got.Secure || got.Prefix != "" || got.Endpoint != "192.168.1.2:3900" {
		t.Fatalf("%+v", got)
	}
	for _, bad := range []string{"https://a:b@host/bucket", "s3://host/bucket", "s3://a@host/bucket", "s3://a:b@host/", "s3://a:b@host/bucket?tls=maybe", "s3://a:b@host/bucket?regoin=x", "s3://a:b@/bucket"} {
		if _, err := ParseURL(bad); err == nil || !strings.Contains(err.Error(), "FOYER_BACKUP_URL") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
