package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"foyer/store"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A client that stops reading a long response does not keep the server
// from stopping: shutdown ends within its timeout, and the background jobs
// have returned by then.
func TestShutdownWithinTimeoutDespiteSlowReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})}
	ctx, cancel := context.WithCancel(context.Background())
	var jobDone atomic.Bool
	job := func(ctx context.Context) { <-ctx.Done(); jobDone.Store(true) }
	result := make(chan error, 1)
	go func() { result <- runServer(ctx, quietLog(), srv, ln, time.Second, nil, job) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil {
		t.Fatal(err)
	}
	<-started
	time.Sleep(100 * time.Millisecond) // the handler is now blocked on a full socket
	stopAt := time.Now()
	cancel()
	select {
	case err := <-result:
		if took := time.Since(stopAt); took > 3*time.Second {
			t.Fatalf("stopping took %s with a 1 s timeout", took)
		}
		if err != nil {
			t.Fatalf("runServer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop 10 s after being told to, with a 1 s timeout")
	}
	if !jobDone.Load() {
		t.Fatal("runServer returned before its background jobs")
	}
}

// A connection the server handed over (a video room's WebSocket) is hangUp's
// to close: runServer calls it at the stop and waits for it, and ends as
// soon as it has returned, not at the timeout.
func TestShutdownWaitsForHangUpNotTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hijacked := make(chan net.Conn, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		hijacked <- c
	})}
	ctx, cancel := context.WithCancel(context.Background())
	var saidGoodbye atomic.Bool
	hangUp := func(ctx context.Context) {
		c := <-hijacked
		time.Sleep(200 * time.Millisecond) // the goodbye takes a moment
		io.WriteString(c, "goodbye")
		c.Close()
		saidGoodbye.Store(true)
	}
	result := make(chan error, 1)
	go func() { result <- runServer(ctx, quietLog(), srv, ln, 10*time.Second, hangUp) }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for len(hijacked) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	stopAt := time.Now()
	cancel()
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("runServer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stop waited for the timeout")
	}
	if took := time.Since(stopAt); took > 2*time.Second {
		t.Errorf("the stop took %s with nothing in flight but a goodbye of 200 ms", took)
	}
	if !saidGoodbye.Load() {
		t.Fatal("runServer returned before hangUp")
	}
	if b, _ := io.ReadAll(conn); string(b) != "goodbye" {
		t.Fatalf("the handed-over connection got %q", b)
	}
}

// When serving fails, runServer still stops the background jobs and waits for them.
func TestServeFailureWaitsForJobs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails at once
	var jobDone atomic.Bool
	job := func(ctx context.Context) {
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // a job that takes a moment to finish
		jobDone.Store(true)
	}
	err = runServer(context.Background(), quietLog(), &http.Server{}, ln, 5*time.Second, nil, job)
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("runServer: %v", err)
	}
	if !jobDone.Load() {
		t.Fatal("runServer returned before its background jobs")
	}
}

func TestConfigValidation(t *testing.T) {
	good := config{addr: ":8080", idleTimeout: 30 * time.Minute, lifetime: 12 * time.Hour, shutdownTimeout: 15 * time.Second, logFormat: "text"}
	if err := good.validate(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	for _, tc := range []struct {
		change func(*config)
		names  string
	}{
		{func(c *config) { c.mailFrom = "not an address" }, "FOYER_MAIL_FROM"},
		{func(c *config) { c.idleTimeout = -time.Minute }, "FOYER_IDLE_TIMEOUT"},
		{func(c *config) { c.lifetime = 0 }, "FOYER_SESSION_LIFETIME"},
		{func(c *config) { c.logFormat = "xml" }, "FOYER_LOG_FORMAT"},
		{func(c *config) { c.baseURL = "portal.example.org" }, "FOYER_BASE_URL"},
		{func(c *config) { c.addr = "8080" }, "FOYER_ADDR"},
		{func(c *config) { c.backupURL = "https://s3.example.org/bucket" }, "FOYER_BACKUP_URL"},
		{func(c *config) { c.backupURL, c.backupEvery = "s3://a:b@s3.example.org/bucket", time.Second }, "FOYER_BACKUP_EVERY"},
	} {
		c := good
		tc.change(&c)
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("want an error naming %s, got %v", tc.names, err)
		}
	}
	c := good
	c.mailFrom = "Cabinet Lumière <noreply@example.org>"
	if err := c.validate(); err != nil {
		t.Errorf("a good sender refused: %v", err)
	}
	envErrors = append(envErrors, errors.New("FOYER_IDLE_TIMEOUT=\"soon\" is not a duration"))
	defer func() { envErrors = nil }()
	if err := good.validate(); err == nil || !strings.Contains(err.Error(), "FOYER_IDLE_TIMEOUT") {
		t.Errorf("an unreadable duration: %v", err)
	}
}

// A bad FOYER_MAX_UPLOAD stops the start with a message naming it, as every
// other setting does, instead of falling back to the default.
func TestBadMaxUploadRefusesToStart(t *testing.T) {
	defer func() { envErrors = nil }()
	for _, v := range []string{"lots", "0", "-5MiB", "2TiB"} {
		envErrors = nil
		t.Setenv("FOYER_MAX_UPLOAD", v)
		var cfg config
		if err := flags("serve", &cfg).Parse(nil); err != nil {
			t.Fatal(err)
		}
		err := cfg.validate()
		if err == nil || !strings.Contains(err.Error(), "FOYER_MAX_UPLOAD") || !strings.Contains(err.Error(), v) {
			t.Errorf("FOYER_MAX_UPLOAD=%s: %v", v, err)
		}
	}
	envErrors = nil
	t.Setenv("FOYER_MAX_UPLOAD", "200MB")
	var cfg config
	if err := flags("serve", &cfg).Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.maxUpload != 200e6 || len(envErrors) != 0 {
		t.Errorf("FOYER_MAX_UPLOAD=200MB: %d bytes, %v", cfg.maxUpload, envErrors)
	}
}

// Without -base-url, links (and the start log) use the port Foyer listens on.
func TestPublicURLFollowsAddr(t *testing.T) {
	for addr, want := range map[string]string{
		":9090":          "http://localhost:9090",
		"0.0.0.0:7000":   "http://localhost:7000",
		"127.0.0.1:7000": "http://127.0.0.1:7000",
		"[::1]:7000":     "http://[::1]:7000",
	} {
		u, err := config{addr: addr}.publicURL()
		if err != nil || u.String() != want {
			t.Errorf("%s: %v %v, want %s", addr, u, err, want)
		}
	}
	if u, _ := (config{addr: ":9090", baseURL: "https://portal.example.org"}).publicURL(); u.String() != "https://portal.example.org" {
		t.Errorf("-base-url ignored: %s", u)
	}
}

// HTTPS settings that cannot work stop the start with a message naming them;
// -domain alone gives the addresses and the public URL a server on the
// internet needs.
func TestHTTPSConfig(t *testing.T) {
	good := config{idleTimeout: 30 * time.Minute, lifetime: 12 * time.Hour, shutdownTimeout: 15 * time.Second, logFormat: "text",
		domains: "Portal.example.org, www.example.org", httpsAddr: ":443", acmeDirectory: "https://acme-v02.api.letsencrypt.org/directory"}
	if err := good.validate(); err != nil {
		t.Fatalf("good HTTPS settings refused: %v", err)
	}
	if got := good.domainList(); len(got) != 2 || got[0] != "portal.example.org" {
		t.Errorf("domains %q", got)
	}
	if good.listenAddr() != ":80" || (config{}).listenAddr() != ":8080" {
		t.Errorf("plain HTTP on %q with -domain, %q without", good.listenAddr(), (config{}).listenAddr())
	}
	if u, err := good.publicURL(); err != nil || u.String() != "https://portal.example.org" {
		t.Errorf("public URL %v %v", u, err)
	}
	c := good
	c.httpsAddr = "127.0.0.1:8443"
	if u, _ := c.publicURL(); u.String() != "https://portal.example.org:8443" {
		t.Errorf("public URL on another port: %v", u)
	}
	for _, tc := range []struct {
		change func(*config)
		names  string
	}{
		{func(c *config) { c.domains = "https://portal.example.org" }, "FOYER_DOMAIN"},
		{func(c *config) { c.domains = "portal.example.org:443" }, "FOYER_DOMAIN"},
		{func(c *config) { c.domains = "*.example.org" }, "FOYER_DOMAIN"},
		{func(c *config) { c.domains = "localhost" }, "FOYER_DOMAIN"},
		{func(c *config) { c.domains = "203.0.113.5" }, "FOYER_DOMAIN"},
		{func(c *config) { c.tlsCert = "cert.pem" }, "FOYER_TLS_KEY"},
		{func(c *config) { c.httpsAddr = "443" }, "FOYER_HTTPS_ADDR"},
		{func(c *config) { c.acmeDirectory = "http://acme.example.org/dir" }, "FOYER_ACME_DIRECTORY"},
		{func(c *config) { c.acmeEmail = "not an address" }, "FOYER_ACME_EMAIL"},
		{func(c *config) { c.baseURL = "http://portal.example.org" }, "https://"},
		{func(c *config) { c.domains, c.turnTLSAddr = "", ":5349" }, "FOYER_TURN_ADDR"},
		{func(c *config) { c.domains, c.turnAddr, c.turnTLSAddr = "", "203.0.113.5:3478", ":5349" }, "needs a certificate"},
	} {
		c := good
		tc.change(&c)
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("want an error naming %s, got %v", tc.names, err)
		}
	}
}

// The warning names the channels that lack delivery, and only those.
func TestDeliveryWarning(t *testing.T) {
	for _, tc := range []struct {
		email, sms bool
		want       string
	}{{true, false, "not_configured=sms"}, {false, true, "not_configured=email"}, {false, false, "not_configured=email,sms"}, {true, true, ""}} {
		var buf strings.Builder
		logDelivery(slog.New(slog.NewTextHandler(&buf, nil)), tc.email, tc.sms)
		if (tc.want == "") != (buf.Len() == 0) || !strings.Contains(buf.String(), tc.want) {
			t.Errorf("email %v sms %v: %q", tc.email, tc.sms, buf.String())
		}
	}
}

// -at reads a day (up to its end), a time of day, or RFC 3339.
func TestParseAt(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for in, want := range map[string]time.Time{
		"":                          {},
		"2026-03-02":                time.Date(2026, 3, 2, 23, 59, 59, 999999999, paris),
		"2026-03-02T14:00":          time.Date(2026, 3, 2, 14, 0, 0, 0, paris),
		"2026-03-02 14:00":          time.Date(2026, 3, 2, 14, 0, 0, 0, paris),
		"2026-03-02T14:00:30":       time.Date(2026, 3, 2, 14, 0, 30, 0, paris),
		"2026-03-02T14:00:00+00:00": time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC),
	} {
		got, err := parseAt(in, paris)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseAt(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "02/03/2026", "2026-13-01"} {
		if _, err := parseAt(bad, paris); err == nil || !strings.Contains(err.Error(), "-at") {
			t.Errorf("parseAt(%q): %v", bad, err)
		}
	}
}

// Every environment variable a flag reads is in the README's configuration table.
func TestReadmeListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cfg config
	fs := flags("serve", &cfg)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		m := regexp.MustCompile(`\((FOYER_[A-Z_]+)\)`).FindStringSubmatch(f.Usage)
		if m == nil {
			t.Errorf("-%s names no environment variable", f.Name)
			return
		}
		n++
		row := ""
		for _, line := range strings.Split(string(readme), "\n") {
			if strings.HasPrefix(line, "| `-") && strings.Contains(strings.SplitN(line, "|", 3)[1], "`-"+f.Name+"`") {
				row = line
			}
		}
		if row == "" || !strings.Contains(row, "`"+m[1]+"`") {
			t.Errorf("the README's table lacks -%s (%s)", f.Name, m[1])
		}
	})
	if n < 20 {
		t.Fatalf("only %d flags", n)
	}
}

// fakeOpened is a data file as logOpened sees it.
type fakeOpened struct {
	walked bool
	up     store.Upgrade
}

func (f fakeOpened) WalkedAtOpen() bool              { return f.walked }
func (f fakeOpened) Upgraded() (store.Upgrade, bool) { return f.up, f.up.To != 0 }

// The log says when the data file was upgraded: from which schema to which,
// and how long it took; an ordinary open says nothing.
func TestLogOpenedSaysTheUpgrade(t *testing.T) {
	var buf strings.Builder
	logOpened(slog.New(slog.NewTextHandler(&buf, nil)), fakeOpened{up: store.Upgrade{From: 10, To: 11, Took: 1234567 * time.Microsecond}}, time.Second)
	if want := `msg="the data file was upgraded" schema_from=10 schema_to=11 took=1.235s`; !strings.Contains(buf.String(), want) {
		t.Fatalf("log %q lacks %q", buf.String(), want)
	}
	// The upgrade to schema 14 signs the journal's head, or finds it unsigned in a file set back.
	buf.Reset()
	logOpened(slog.New(slog.NewTextHandler(&buf, nil)), fakeOpened{up: store.Upgrade{From: 13, To: 14, JournalHead: store.JournalHeadUpgrade{Signed: true, Seq: 4711}}}, time.Second)
	if want := `is signed from now on: entries removed from its end show in the check; it was signed as it stood" last_entry=4711`; !strings.Contains(buf.String(), want) {
		t.Fatalf("log %q lacks %q", buf.String(), want)
	}
	buf.Reset()
	logOpened(slog.New(slog.NewTextHandler(&buf, nil)), fakeOpened{up: store.Upgrade{From: 13, To: 14, JournalHead: store.JournalHeadUpgrade{Refused: true}}}, time.Second)
	if want := `level=WARN msg="the access journal's head record is not signed, though this data file's was`; !strings.Contains(buf.String(), want) {
		t.Fatalf("log %q lacks %q", buf.String(), want)
	}
	buf.Reset()
	logOpened(slog.New(slog.NewTextHandler(&buf, nil)), fakeOpened{}, time.Second)
	if buf.Len() != 0 {
		t.Fatalf("an ordinary open logged %q", buf.String())
	}
}

// writeCertPair writes a self-signed certificate for names (DNS names, or
// IP addresses) and its key into dir.
func writeCertPair(t *testing.T, dir string, names ...string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestOwnCertificateServesHTTPS: -tls-cert and -tls-key without -domain
// were ignored, and Foyer served plain HTTP to a practice that believed it
// served HTTPS. Now they serve HTTPS for the certificate's names (or
// -base-url's), as -domain does; a certificate that cannot do what it is
// given for stops the start, naming the setting, before anything exists.
func TestOwnCertificateServesHTTPS(t *testing.T) {
	good := config{idleTimeout: 30 * time.Minute, lifetime: 12 * time.Hour, shutdownTimeout: 15 * time.Second, logFormat: "text",
		httpsAddr: ":443", acmeDirectory: "https://acme-v02.api.letsencrypt.org/directory"}
	load := func(c config) (config, error) {
		if err := c.validate(); err != nil {
			return c, err
		}
		if err := c.loadCertificate(); err != nil {
			return c, err
		}
		return c, c.validate()
	}
	certFile, keyFile := writeCertPair(t, t.TempDir(), "Portal.example.org", "www.example.org")
	c := good
	c.tlsCert, c.tlsKey = certFile, keyFile
	c, err := load(c)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.publicURL()
	if !c.https() || c.listenAddr() != ":80" || err != nil || u.String() != "https://portal.example.org" || strings.Join(c.domainList(), " ") != "portal.example.org www.example.org" {
		t.Fatalf("-tls-cert alone: https %v, plain HTTP on %q, public URL %v %v, names %v", c.https(), c.listenAddr(), u, err, c.domainList())
	}
	// -base-url picks which of the certificate's names.
	c = good
	c.tlsCert, c.tlsKey, c.baseURL = certFile, keyFile, "https://www.example.org"
	if c, err = load(c); err != nil || !c.https() || strings.Join(c.domainList(), " ") != "www.example.org" {
		t.Fatalf("-tls-cert with -base-url: %v %v", c.domainList(), err)
	}
	// A wildcard certificate: the name comes from -base-url.
	wildCert, wildKey := writeCertPair(t, t.TempDir(), "*.example.org")
	c = good
	c.tlsCert, c.tlsKey, c.baseURL = wildCert, wildKey, "https://portal.example.org:8443"
	if c, err = load(c); err != nil || strings.Join(c.domainList(), " ") != "portal.example.org" {
		t.Fatalf("a wildcard certificate with -base-url: %v %v", c.domainList(), err)
	}
	// A certificate for localhost (a practice trying HTTPS on its own
	// machine): its name is what it is for, not a -domain to certify.
	localCert, localKey := writeCertPair(t, t.TempDir(), "localhost")
	c = good
	c.tlsCert, c.tlsKey = localCert, localKey
	if c, err = load(c); err != nil || !c.https() || strings.Join(c.domainList(), " ") != "localhost" {
		t.Fatalf("a certificate for localhost: https %v, names %v, %v", c.https(), c.domainList(), err)
	}
	// Plain HTTP said outright, for TURN over TLS alone (behind a front that does HTTPS).
	c = good
	c.tlsCert, c.tlsKey, c.baseURL, c.turnAddr, c.turnTLSAddr = certFile, keyFile, "http://127.0.0.1:8080", "203.0.113.5:3478", ":5349"
	if c, err = load(c); err != nil || c.https() {
		t.Fatalf("certificate for TURN over TLS only: https %v, %v", c.https(), err)
	}

	missing := filepath.Join(t.TempDir(), "nope.pem")
	for _, tc := range []struct {
		change func(*config)
		names  []string
	}{
		{func(c *config) { c.tlsCert = missing }, []string{"-tls-cert", missing}},
		{func(c *config) { c.tlsKey = wildKey }, []string{"-tls-key"}},
		{func(c *config) { c.domains = "portal.example.org,other.example.net" }, []string{"FOYER_DOMAIN", "other.example.net", "www.example.org"}},
		{func(c *config) { c.baseURL = "https://other.example.net" }, []string{"FOYER_BASE_URL", "other.example.net"}},
		{func(c *config) { c.baseURL = "http://portal.example.org" }, []string{"FOYER_BASE_URL", "plain HTTP"}},
		{func(c *config) { c.tlsCert, c.tlsKey = wildCert, wildKey }, []string{"FOYER_TLS_CERT", "*.example.org", "FOYER_DOMAIN"}},
	} {
		c := good
		c.tlsCert, c.tlsKey = certFile, keyFile
		tc.change(&c)
		_, err := load(c)
		for _, n := range tc.names {
			if err == nil || !strings.Contains(err.Error(), n) {
				t.Errorf("want an error naming %s, got %v", n, err)
			}
		}
	}

	// Checked before the data directory, its foyer.db and secret.key exist.
	data := filepath.Join(t.TempDir(), "data")
	c = good
	c.data, c.addr, c.httpsAddr, c.tlsCert, c.tlsKey = data, "127.0.0.1:0", "127.0.0.1:0", missing, keyFile
	if err := serve(c); err == nil || !strings.Contains(err.Error(), "-tls-cert") {
		t.Fatalf("serve with a missing certificate: %v", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("a start refused for its certificate created %s", data)
	}
}
