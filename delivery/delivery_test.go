package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foyer/delivery/deliverytest"
	"foyer/store"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSMTPDriver(t *testing.T) {
	srv := deliverytest.NewSMTPServer(t, "foyer", "s3cret")
	d, err := ParseSMTPURL(srv.URL(), "Cabinet Lumière <noreply@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	m := Outgoing{To: "zoe@example.org", Subject: "Votre invitation à rejoindre Cabinet Lumière", Text: "Bonjour Zoé,\nvoici le lien.", HTML: "<p>Bonjour Zoé,</p>", Lang: "fr"}
	d.MessageIDHost = "portal.example.org"
	if err := d.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitFor("zoe@example.org", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != m.Subject || !strings.Contains(got.Text, "Bonjour Zoé") || !strings.Contains(got.HTML, "<p>Bonjour Zoé,</p>") {
		t.Fatalf("received %+v", got)
	}
	// The Message-ID names the portal's own domain, and starts with no dot.
	if id := got.Header.Get("Message-Id"); !regexp.MustCompile(`^<[A-Za-z0-9]{16,}@portal\.example\.org>$`).MatchString(id) {
		t.Errorf("Message-ID %q", id)
	}
	if got.From != "noreply@example.org" || got.Header.Get("Content-Language") != "fr" {
		t.Fatalf("envelope from %q, language %q", got.From, got.Header.Get("Content-Language"))
	}

	// Wrong credentials fail instead of sending.
	bad, _ := ParseSMTPURL(strings.Replace(srv.URL(), "s3cret", "wrong", 1), "noreply@example.org")
	if err := bad.Send(context.Background(), m); err == nil {
		t.Fatal("sent with wrong credentials")
	}
	// smtp:// without tls=none insists on STARTTLS: no silent downgrade to plain text.
	strict, _ := ParseSMTPURL(strings.TrimSuffix(srv.URL(), "?tls=none"), "noreply@example.org")
	if err := strict.Send(context.Background(), m); err == nil {
		t.Fatal("sent in the clear although STARTTLS was required")
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, raw := range []string{"", "http://host", "smtp://", "smtp://host:99999", "smtp://host?tls=maybe", "::"} {
		if _, err := ParseSMTPURL(raw, "a@example.org"); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
	if _, err := ParseSMTPURL("smtp://host", ""); err == nil {
		t.Error("no sender accepted")
	}
	for _, raw := range []string{"smtp://u:p@mail.example.org:587", "smtps://mail.example.org", "smtp://localhost:25?tls=opportunistic"} {
		if _, err := ParseSMTPURL(raw, "a@example.org"); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func FuzzParseSMTPURL(f *testing.F) {
	f.Add("smtp://u:p@host:587?tls=none")
	f.Add("smtps://[::1]:465")
	f.Fuzz(func(t *testing.T, raw string) { ParseSMTPURL(raw, "a@example.org") })
}

// fakeTwilio checks each request the way Twilio's Messages API would.
func fakeTwilio(t *testing.T, status int, body string, got *[]map[string]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		user, pass, ok := r.BasicAuth()
		if !ok || user != "AC123" || pass != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":20003,"message":"Authenticate"}`)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("content type %q", ct)
		}
		r.ParseForm()
		*got = append(*got, map[string]string{"To": r.PostForm.Get("To"), "From": r.PostForm.Get("From"), "Body": r.PostForm.Get("Body")})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
}

func TestSMSDriver(t *testing.T) {
	var got []map[string]string
	srv := fakeTwilio(t, http.StatusCreated, `{"sid":"SM1","status":"queued"}`, &got)
	defer srv.Close()
	d, err := ParseSMSURL(strings.Replace(srv.URL, "http://", "http://AC123:tok@", 1), "+33700000000")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Send(context.Background(), Outgoing{To: "+33612345678", Text: "Votre code : 123456"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["To"] != "+33612345678" || got[0]["From"] != "+33700000000" || got[0]["Body"] != "Votre code : 123456" {
		t.Fatalf("provider received %+v", got)
	}
	wrong, _ := ParseSMSURL(strings.Replace(srv.URL, "http://", "http://AC123:nope@", 1), "+33700000000")
	if err := wrong.Send(context.Background(), Outgoing{To: "+33612345678", Text: "x"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad token: %v", err)
	}
	failing := fakeTwilio(t, http.StatusBadRequest, `{"code":21211,"message":"Invalid 'To' Phone Number"}`, &got)
	defer failing.Close()
	f, _ := ParseSMSURL(strings.Replace(failing.URL, "http://", "http://AC123:tok@", 1), "+33700000000")
	if err := f.Send(context.Background(), Outgoing{To: "+1", Text: "x"}); err == nil || !strings.Contains(err.Error(), "21211") {
		t.Fatalf("provider error: %v", err)
	}
	for _, raw := range []string{"ftp://a:b@x", "https://api.example.org", "::"} {
		if _, err := ParseSMSURL(raw, "+33700000000"); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}

type flaky struct{ fails, calls atomic.Int32 }

func (f *flaky) Send(context.Context, Outgoing) error {
	f.calls.Add(1)
	if f.fails.Load() > 0 {
		f.fails.Add(-1)
		return errors.New("connection refused")
	}
	return nil
}

func TestWorkerRetriesAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st, _ := store.Open(dir)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	drv := &flaky{}
	drv.fails.Store(2)
	w := newTestWorker(st, drv, nil, quietLog())
	w.Now = func() time.Time { return now }
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", Kind: "code", CreatedAt: now})
	w.RunOnce(context.Background())
	m, _ := st.Message(1)
	if m.State != store.StateQueued || m.Attempts != 1 || !m.NextAttempt.Equal(now.Add(30*time.Second)) || m.LastError == "" {
		t.Fatalf("after a failure: %+v", m)
	}
	// Not due yet: nothing is attempted.
	if n := w.RunOnce(context.Background()); n != 0 {
		t.Fatalf("attempted %d before the backoff ended", n)
	}
	// A restart loses nothing: a new store and worker pick the message up.
	st.Close()
	st, _ = store.Open(dir)
	defer st.Close()
	w = newTestWorker(st, drv, nil, quietLog())
	now = now.Add(31 * time.Second)
	w.Now = func() time.Time { return now }
	w.RunOnce(context.Background())
	m, _ = st.Message(1)
	if m.Attempts != 2 || !m.NextAttempt.Equal(now.Add(time.Minute)) {
		t.Fatalf("second failure: %+v", m)
	}
	now = now.Add(time.Minute)
	w.RunOnce(context.Background())
	if m, _ = st.Message(1); m.State != store.StateSent || m.Attempts != 3 {
		t.Fatalf("third attempt: %+v", m)
	}
	// An SMS with no driver stays in the outbox, logged.
	st.Enqueue(&store.Message{Channel: store.ChannelSMS, To: "+33612345678", Kind: "code", Secret: "123456", CreatedAt: now})
	w.RunOnce(context.Background())
	if m, _ = st.Message(2); m.State != store.StateLogged {
		t.Fatalf("unconfigured SMS: %+v", m)
	}
	if w.Configured(store.ChannelSMS) || !w.Configured(store.ChannelEmail) {
		t.Fatal("Configured is wrong")
	}
}

func TestWorkerGivesUp(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	defer st.Close()
	now := time.Now()
	drv := &flaky{}
	drv.fails.Store(100)
	w := newTestWorker(st, drv, nil, quietLog())
	w.Now = func() time.Time { return now }
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", Kind: "code", CreatedAt: now, ExpiresAt: now.Add(1000 * time.Hour)})
	for range MaxAttempts + 2 {
		w.RunOnce(context.Background())
		now = now.Add(2 * time.Hour)
	}
	m, _ := st.Message(1)
	if m.State != store.StateFailed || m.Attempts != MaxAttempts || int(drv.calls.Load()) != MaxAttempts {
		t.Fatalf("after giving up: %+v, %d calls", m, drv.calls.Load())
	}
	if Backoff(0) != 30*time.Second || Backoff(20) != time.Hour {
		t.Fatalf("backoff %v %v", Backoff(0), Backoff(20))
	}
}

func TestLogDriverHidesSecrets(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	defer st.Close()
	var buf strings.Builder
	w := newTestWorker(st, nil, nil, slog.New(slog.NewTextHandler(&buf, nil)))
	token := strings.Repeat("Ab1_-", 8) + "xyz"
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", Kind: "code", Secret: token, CreatedAt: time.Now()})
	w.RunOnce(context.Background())
	if strings.Contains(buf.String(), token) || !strings.Contains(buf.String(), "Your code") {
		t.Fatalf("log: %s", buf.String())
	}
	if m, _ := st.Message(1); !m.HasSecret() || m.State != store.StateLogged {
		t.Fatalf("the outbox must keep the waiting message's secret, sealed: %+v", m)
	}
	if got := RedactTokens("https://x/invite/" + token); strings.Contains(got, token) {
		t.Fatalf("RedactTokens: %s", got)
	}
}

// codeRenderer writes every message as "Your code: SECRET", with a
// placeholder when the secret is withheld.
type codeRenderer struct{}

func (codeRenderer) Render(m store.Message, secret string) (Outgoing, error) {
	if secret == "" {
		secret = "[hidden]"
	}
	return Outgoing{To: m.To, Lang: m.Lang, Subject: "Code", Text: "Your code: " + secret}, nil
}

func newTestWorker(st *store.Store, email, sms Driver, log *slog.Logger) *Worker {
	return NewWorker(st, email, sms, codeRenderer{}, log)
}

// recorder records what it sends; a recipient listed in hang blocks until the send is cancelled.
type recorder struct {
	mu   sync.Mutex
	sent []Outgoing
	hang map[string]bool
	got  chan Outgoing
}

func newRecorder(hang ...string) *recorder {
	r := &recorder{hang: map[string]bool{}, got: make(chan Outgoing, 100)}
	for _, h := range hang {
		r.hang[h] = true
	}
	return r
}

func (r *recorder) Send(ctx context.Context, o Outgoing) error {
	if r.hang[o.To] {
		<-ctx.Done()
		return ctx.Err()
	}
	r.mu.Lock()
	r.sent = append(r.sent, o)
	r.mu.Unlock()
	r.got <- o
	return nil
}

func (r *recorder) wait(t *testing.T, to string) Outgoing {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case o := <-r.got:
			if o.To == to {
				return o
			}
		case <-timeout:
			t.Fatalf("nothing sent to %s", to)
		}
	}
}

// A hung SMTP server holds back neither the text messages nor the other emails.
func TestLanesDoNotWaitForEachOther(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	defer st.Close()
	email, sms := newRecorder("hung@example.org"), newRecorder()
	w := newTestWorker(st, email, sms, quietLog())
	w.SendTimeout = time.Hour // the hung message would hold its lane for an hour
	now := time.Now()
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "hung@example.org", Kind: "code", Secret: "1", CreatedAt: now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	time.Sleep(50 * time.Millisecond) // let the email lane take the hung message first
	st.Enqueue(&store.Message{Channel: store.ChannelSMS, To: "+33612345678", Kind: "code", Secret: "424242", CreatedAt: now})
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "b@example.org", Kind: "code", Secret: "777777", CreatedAt: now})
	w.Wake()
	if o := sms.wait(t, "+33612345678"); o.Text != "Your code: 424242" {
		t.Fatalf("SMS: %+v", o)
	}
	email.wait(t, "b@example.org")
	// Shutting down cancels the hung send without counting it against the message.
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if m, _ := st.Message(1); m.State != store.StateQueued || m.Attempts != 0 {
		t.Fatalf("hung message after shutdown: %+v", m)
	}
	if m, _ := st.Message(3); m.State != store.StateSent || m.HasSecret() {
		t.Fatalf("a sent message keeps its secret: %+v", m)
	}
}

// Messages logged while a channel had no delivery go out once it has one, unless expired.
func TestLoggedMessagesSentOnceConfigured(t *testing.T) {
	dir := t.TempDir()
	st, _ := store.Open(dir)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	w := newTestWorker(st, nil, nil, quietLog())
	w.Now = func() time.Time { return now }
	st.Enqueue(&store.Message{Channel: store.ChannelSMS, To: "+33612345678", Kind: "code", Secret: "111111", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)})
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", Kind: "code", Secret: "222222", CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)})
	w.RunOnce(context.Background())
	for id := uint64(1); id <= 2; id++ {
		if m, _ := st.Message(id); m.State != store.StateLogged {
			t.Fatalf("message %d: %+v", id, m)
		}
	}
	st.Close()
	// Restarted an hour later with both channels configured.
	st, _ = store.Open(dir)
	defer st.Close()
	email, sms := newRecorder(), newRecorder()
	w = newTestWorker(st, email, sms, quietLog())
	now = now.Add(time.Hour)
	w.Now = func() time.Time { return now }
	w.RunOnce(context.Background())
	if len(sms.sent) != 0 {
		t.Fatalf("an expired code went out: %+v", sms.sent)
	}
	if m, _ := st.Message(1); m.State != store.StateExpired || m.HasSecret() {
		t.Fatalf("expired SMS: %+v", m)
	}
	if len(email.sent) != 1 || email.sent[0].Text != "Your code: 222222" {
		t.Fatalf("email sent: %+v", email.sent)
	}
	if m, _ := st.Message(2); m.State != store.StateSent {
		t.Fatalf("released email: %+v", m)
	}
}

// sendThenHang sends through the SMTP driver, then hangs as if Foyer were
// killed after the server accepted the message but before it was marked sent.
type sendThenHang struct {
	smtp *SMTP
	sent chan struct{}
}

func (d *sendThenHang) Send(ctx context.Context, o Outgoing) error {
	if err := d.smtp.Send(ctx, o); err != nil {
		return err
	}
	close(d.sent)
	<-ctx.Done()
	return ctx.Err()
}

// A message cut by a crash after the SMTP server took it goes again at the
// next start, at once (not when its claim would have run out), under the
// same Message-ID, so that mail programs show one message; the Outbox keeps
// both attempts.
func TestResentAfterCrashAtOnceWithTheSameMessageID(t *testing.T) {
	srv := deliverytest.NewSMTPServer(t, "", "")
	d, err := ParseSMTPURL(srv.URL(), "noreply@example.org")
	if err != nil {
		t.Fatal(err)
	}
	d.MessageIDHost = "portal.example.org"
	dir := t.TempDir()
	st, _ := store.Open(dir)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if err := st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "zoe@example.org", Kind: "code", Secret: "424242", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	first := &sendThenHang{smtp: d, sent: make(chan struct{})}
	w := newTestWorker(st, first, nil, quietLog())
	w.Now = func() time.Time { return now }
	ctx, kill := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.RunOnce(ctx); close(done) }()
	select {
	case <-first.sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the first attempt never reached the server")
	}
	kill()
	<-done
	if m, _ := st.Message(1); m.State != store.StateQueued || !m.Claimed || len(m.Tries) != 1 || m.Tries[0].Outcome != "" {
		t.Fatalf("after the crash: %+v", m)
	}
	st.Close()

	// The restart, a second later.
	st, _ = store.Open(dir)
	defer st.Close()
	w = newTestWorker(st, d, nil, quietLog())
	now = now.Add(time.Second)
	w.Now = func() time.Time { return now }
	if n := w.RunOnce(context.Background()); n != 1 {
		t.Fatalf("attempted %d at the restart, want the interrupted message at once", n)
	}
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("the server got %d copies, want 2", len(got))
	}
	id := got[0].Header.Get("Message-Id")
	if id == "" || got[1].Header.Get("Message-Id") != id || !strings.HasSuffix(id, "@portal.example.org>") {
		t.Fatalf("Message-IDs %q and %q", id, got[1].Header.Get("Message-Id"))
	}
	m, _ := st.Message(1)
	if m.State != store.StateSent || m.Claimed || m.Attempts != 1 || len(m.Tries) != 2 ||
		m.Tries[0].Outcome != store.TryInterrupted || m.Tries[1].Outcome != store.TrySent || !m.Tries[1].At.Equal(now) {
		t.Fatalf("after the restart: %+v", m)
	}
}

// Message-IDs: the same for every attempt at one outbox message, different
// from one message to another, and one of a message not from the outbox is new each time.
func TestMessageIDFromTheOutboxMessage(t *testing.T) {
	srv := deliverytest.NewSMTPServer(t, "", "")
	d, _ := ParseSMTPURL(srv.URL(), "noreply@example.org")
	created := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	one, two := store.Message{ID: 1, CreatedAt: created}, store.Message{ID: 2, CreatedAt: created}
	again := one // read again from the store: the same message
	if MessageKey(one) != MessageKey(again) || MessageKey(one) == MessageKey(two) ||
		MessageKey(one) == MessageKey(store.Message{ID: 1, CreatedAt: created.Add(time.Nanosecond)}) {
		t.Fatal("MessageKey is not one per outbox message")
	}
	for _, key := range []string{MessageKey(one), MessageKey(one), MessageKey(two), "", ""} {
		if err := d.Send(context.Background(), Outgoing{To: "zoe@example.org", Subject: "Code", Text: "1", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.Messages()
	ids := make([]string, len(got))
	for i, m := range got {
		ids[i] = m.Header.Get("Message-Id")
	}
	if len(ids) != 5 || ids[0] != ids[1] || ids[1] == ids[2] || ids[3] == ids[4] || ids[3] == ids[0] {
		t.Fatalf("Message-IDs %q", ids)
	}
}

// A failed attempt and the next are both kept, with their times and what the server said.
func TestEveryAttemptKept(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	defer st.Close()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	drv := &flaky{}
	drv.fails.Store(1)
	w := newTestWorker(st, drv, nil, quietLog())
	w.Now = func() time.Time { return now }
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", Kind: "code", CreatedAt: now})
	w.RunOnce(context.Background())
	now = now.Add(time.Minute)
	w.RunOnce(context.Background())
	m, _ := st.Message(1)
	if len(m.Tries) != 2 || m.Tries[0].Outcome != store.TryFailed || m.Tries[0].Error != "connection refused" ||
		!m.Tries[0].At.Equal(now.Add(-time.Minute)) || m.Tries[1].Outcome != store.TrySent || m.Claimed {
		t.Fatalf("tries: %+v", m.Tries)
	}
	// A message only logged (no delivery configured) was never attempted.
	st.Enqueue(&store.Message{Channel: store.ChannelSMS, To: "+33612345678", Kind: "code", Secret: "1", CreatedAt: now})
	w.RunOnce(context.Background())
	if m, _ := st.Message(2); m.State != store.StateLogged || len(m.Tries) != 0 || m.Claimed {
		t.Fatalf("logged message: %+v", m)
	}
}
