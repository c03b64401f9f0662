package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
	m := store.Message{To: "zoe@example.org", Subject: "Votre invitation à rejoindre Cabinet Lumière", Text: "Bonjour Zoé,\nvoici le lien.", HTML: "<p>Bonjour Zoé,</p>", Lang: "fr"}
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
	if err := d.Send(context.Background(), store.Message{Channel: store.ChannelSMS, To: "+33612345678", Text: "Votre code : 123456"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["To"] != "+33612345678" || got[0]["From"] != "+33700000000" || got[0]["Body"] != "Votre code : 123456" {
		t.Fatalf("provider received %+v", got)
	}
	wrong, _ := ParseSMSURL(strings.Replace(srv.URL, "http://", "http://AC123:nope@", 1), "+33700000000")
	if err := wrong.Send(context.Background(), store.Message{To: "+33612345678", Text: "x"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad token: %v", err)
	}
	failing := fakeTwilio(t, http.StatusBadRequest, `{"code":21211,"message":"Invalid 'To' Phone Number"}`, &got)
	defer failing.Close()
	f, _ := ParseSMSURL(strings.Replace(failing.URL, "http://", "http://AC123:tok@", 1), "+33700000000")
	if err := f.Send(context.Background(), store.Message{To: "+1", Text: "x"}); err == nil || !strings.Contains(err.Error(), "21211") {
		t.Fatalf("provider error: %v", err)
	}
	for _, raw := range []string{"ftp://a:b@x", "https://api.example.org", "::"} {
		if _, err := ParseSMSURL(raw, "+33700000000"); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}

type flaky struct{ fails, calls atomic.Int32 }

func (f *flaky) Send(context.Context, store.Message) error {
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
	w := NewWorker(st, drv, nil, quietLog())
	w.Now = func() time.Time { return now }
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", CreatedAt: now})
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
	w = NewWorker(st, drv, nil, quietLog())
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
	st.Enqueue(&store.Message{Channel: store.ChannelSMS, To: "+33612345678", Text: "code", CreatedAt: now})
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
	w := NewWorker(st, drv, nil, quietLog())
	w.Now = func() time.Time { return now }
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", CreatedAt: now})
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

func TestLogDriverHidesTokens(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	defer st.Close()
	var buf strings.Builder
	w := NewWorker(st, nil, nil, slog.New(slog.NewTextHandler(&buf, nil)))
	token := strings.Repeat("Ab1_-", 8) + "xyz"
	st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "a@example.org", Subject: "Invitation", Text: "Open https://foyer.example/invite/" + token, CreatedAt: time.Now()})
	w.RunOnce(context.Background())
	if strings.Contains(buf.String(), token) || !strings.Contains(buf.String(), "Invitation") {
		t.Fatalf("log: %s", buf.String())
	}
	if m, _ := st.Message(1); !strings.Contains(m.Text, token) || m.State != store.StateLogged {
		t.Fatalf("the outbox must keep the whole message: %+v", m)
	}
}
