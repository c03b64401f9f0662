package certs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"foyer/certs"
	"foyer/certs/certstest"
	"foyer/store"
)

const domain = "portal.foyer.test"

// counting counts the requests made to the ACME server.
type counting struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// foyer is the HTTPS side of a Foyer: plain HTTP on httpPort, HTTPS on httpsPort.
type foyer struct {
	st       *store.Store
	src      *certs.Source
	acme     *counting
	servers  []*http.Server
	httpPort int
}

func startFoyer(t *testing.T, p *certstest.Pebble, dir string, httpPort, httpsPort int, renewBefore time.Duration) *foyer {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &foyer{st: st, acme: &counting{next: p.Client.Transport}, httpPort: httpPort}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	f.src, err = certs.New(certs.Config{Domains: []string{domain}, Directory: p.Directory, Email: "owner@foyer.test",
		HTTPClient: &http.Client{Transport: f.acme}, RenewBefore: renewBefore}, st, log)
	if err != nil {
		t.Fatal(err)
	}
	hh := f.src.HTTPHandler(strconv.Itoa(httpsPort))
	plain := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Logf("HTTP %s %s %s", r.Method, r.Host, r.URL)
		hh.ServeHTTP(w, r)
	})}
	secure := &http.Server{TLSConfig: f.src.TLSConfig(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello over HTTPS"))
	})}
	for _, srv := range []struct {
		s    *http.Server
		port int
	}{{plain, httpPort}, {secure, httpsPort}} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(srv.port))
		if err != nil {
			t.Fatal(err)
		}
		if srv.s == secure {
			go srv.s.ServeTLS(ln, "", "")
		} else {
			go srv.s.Serve(ln)
		}
		f.servers = append(f.servers, srv.s)
	}
	return f
}

func (f *foyer) stop() {
	for _, s := range f.servers {
		s.Close()
	}
	f.st.Close()
}

// visit asks for / over HTTPS as a browser at the domain would, trusting
// Pebble's root alone, and returns the serial of the certificate served.
func visit(t *testing.T, roots *x509.CertPool, httpsPort int) (*big.Int, error) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
		},
	}}
	resp, err := c.Get("https://" + domain + ":" + strconv.Itoa(httpsPort) + "/")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber, nil
}

// cachedSerial is the serial of the certificate the store keeps for the domain.
func cachedSerial(t *testing.T, st *store.Store) *big.Int {
	t.Helper()
	data, err := st.CertCache(domain)
	if err != nil {
		t.Fatalf("no certificate kept in the store: %v", err)
	}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			t.Fatal("no certificate in the kept entry")
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return c.SerialNumber
		}
	}
}

// TestCertificateIssuedKeptAndRenewed runs against Pebble: a first start
// obtains a certificate through HTTP-01 on the plain HTTP port (Pebble's
// TLS-ALPN port leads nowhere) and serves it; a restart, and a copy of the
// data file with its key, serve the kept certificate without a word to the
// ACME server; and a certificate due for renewal is renewed in the
// background while the old one keeps serving.
func TestCertificateIssuedKeptAndRenewed(t *testing.T) {
	httpPort, httpsPort := certstest.FreePort(t), certstest.FreePort(t)
	p := certstest.Start(t, certstest.Options{HTTPPort: httpPort, Validity: time.Hour})
	roots := p.Roots(t)
	dir := t.TempDir()

	f := startFoyer(t, p, dir, httpPort, httpsPort, 0)
	f.src.Prepare(t.Context())
	first, err := visit(t, roots, httpsPort)
	if err != nil {
		t.Fatalf("first visit: %v", err)
	}
	if f.acme.n.Load() == 0 || p.DNSQueries.Load() == 0 {
		t.Fatalf("issued without the ACME server (%d requests) or its DNS (%d)", f.acme.n.Load(), p.DNSQueries.Load())
	}
	if got := cachedSerial(t, f.st); got.Cmp(first) != 0 {
		t.Fatalf("the store keeps %v, the server serves %v", got, first)
	}
	// Plain HTTP leads to the same page over HTTPS.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/clients?q=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://" + domain + ":" + strconv.Itoa(httpsPort) + "/clients?q=1"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Fatalf("plain HTTP: %d to %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	var copyOf []byte
	snap, _, err := f.st.BackupSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	key := f.st.SecretKey()
	f.stop()

	// A restart serves the kept certificate and asks nothing.
	f = startFoyer(t, p, dir, httpPort, httpsPort, 0)
	f.src.Prepare(t.Context())
	if again, err := visit(t, roots, httpsPort); err != nil || again.Cmp(first) != 0 {
		t.Fatalf("after a restart: %v %v, want %v", again, err, first)
	}
	if n := f.acme.n.Load(); n != 0 {
		t.Fatalf("the restart made %d requests to the ACME server", n)
	}
	f.stop()

	// So does a copy of the data file (a restored backup) with its key.
	restored := t.TempDir()
	if copyOf, err = readAll(snap); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, store.FileName), copyOf, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteKeyFile(filepath.Join(restored, store.KeyFileName), key); err != nil {
		t.Fatal(err)
	}
	f = startFoyer(t, p, restored, httpPort, httpsPort, 0)
	f.src.Prepare(t.Context())
	if again, err := visit(t, roots, httpsPort); err != nil || again.Cmp(first) != 0 || f.acme.n.Load() != 0 {
		t.Fatalf("restored copy: %v %v, %d ACME requests", again, err, f.acme.n.Load())
	}
	f.stop()

	// Due for renewal (renew 2 h before expiry, the certificate lasts 1 h):
	// the kept one serves at once, a new one follows.
	f = startFoyer(t, p, dir, httpPort, httpsPort, 2*time.Hour)
	defer f.stop()
	f.src.Prepare(t.Context())
	deadline := time.Now().Add(60 * time.Second)
	for {
		serial, err := visit(t, roots, httpsPort)
		if err != nil {
			t.Fatalf("during renewal: %v", err)
		}
		if serial.Cmp(first) != 0 {
			if got := cachedSerial(t, f.st); got.Cmp(serial) != 0 {
				t.Fatalf("renewed to %v, the store keeps %v", serial, got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no renewal within a minute (%d ACME requests)", f.acme.n.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readAll(f *os.File) ([]byte, error) {
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, fi.Size())
	_, err = f.ReadAt(buf, 0)
	return buf, err
}
