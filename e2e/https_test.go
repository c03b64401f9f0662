package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"foyer/certs/certstest"
)

// startHTTPS starts the binary with -domain against Pebble, trusting
// Pebble's API through SSL_CERT_FILE as an operator's machine trusts Let's
// Encrypt, and returns how long it took from the start of the process to
// the first 200 over HTTPS.
func startHTTPS(t *testing.T, p *certstest.Pebble, roots *x509.CertPool, data string, httpPort, httpsPort int) (*exec.Cmd, time.Duration) {
	t.Helper()
	bin := foyerBinary(t)
	logf, err := os.Create(filepath.Join(t.TempDir(), "foyer.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "FOYER_DATA="+data, "FOYER_DOMAIN=portal.foyer.test", "FOYER_BASE_URL=",
		"FOYER_ADDR=127.0.0.1:"+strconv.Itoa(httpPort), "FOYER_HTTPS_ADDR=127.0.0.1:"+strconv.Itoa(httpsPort),
		"FOYER_ACME_DIRECTORY="+p.Directory, "FOYER_ACME_EMAIL=owner@foyer.test", "SSL_CERT_FILE="+p.CAFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			out, _ := os.ReadFile(logf.Name())
			t.Logf("foyer log:\n%s", out)
		}
	})
	c := httpsClient(roots, httpsPort)
	for {
		resp, err := c.Get("https://portal.foyer.test:" + strconv.Itoa(httpsPort) + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, time.Since(start)
			}
		}
		if time.Since(start) > 60*time.Second {
			t.Fatalf("no HTTPS 200 within a minute: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpsClient reaches portal.foyer.test on loopback and trusts roots alone.
func httpsClient(roots *x509.CertPool, httpsPort int) *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
			},
		},
	}
}

// TestHTTPSFromAFreshStart: with -domain alone (and an ACME directory),
// the binary obtains a certificate from a real ACME server (Pebble), serves
// its pages over HTTPS with Secure cookies and HSTS, and sends plain HTTP
// there; after a restart it serves the kept certificate at once. It
// reports the time from a fresh start to the first HTTPS 200.
func TestHTTPSFromAFreshStart(t *testing.T) {
	foyerBinary(t) // built before the clock starts
	httpPort, httpsPort := certstest.FreePort(t), certstest.FreePort(t)
	p := certstest.Start(t, certstest.Options{HTTPPort: httpPort, TLSPort: httpsPort})
	roots := p.Roots(t)
	data := filepath.Join(t.TempDir(), "data")

	cmd, took := startHTTPS(t, p, roots, data, httpPort, httpsPort)
	t.Logf("fresh start to the first HTTPS 200: %v", took.Round(time.Millisecond))
	c := httpsClient(roots, httpsPort)
	resp, err := c.Get("https://portal.foyer.test:" + strconv.Itoa(httpsPort) + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("/setup over HTTPS: %d %v", resp.StatusCode, resp.Header)
	}
	for _, ck := range resp.Cookies() {
		if !ck.Secure {
			t.Errorf("cookie %s is not Secure over HTTPS", ck.Name)
		}
	}
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = plain.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://portal.foyer.test:" + strconv.Itoa(httpsPort) + "/setup"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Fatalf("plain HTTP: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	_, again := startHTTPS(t, p, roots, data, httpPort, httpsPort)
	t.Logf("restart to the first HTTPS 200 (certificate kept in the data file): %v", again.Round(time.Millisecond))
}

// TestHTTPSWithThePracticeCertificate: FOYER_TLS_CERT and FOYER_TLS_KEY
// without FOYER_DOMAIN were ignored: Foyer served plain HTTP (sign-ins and
// health data in the clear, cookies without Secure) to a practice that
// believed it served HTTPS. Now the binary serves HTTPS with that
// certificate for its name, with HSTS and Secure cookies, and sends plain
// HTTP there; a certificate file that is not there stops the start before
// the data directory exists.
func TestHTTPSWithThePracticeCertificate(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "portal.foyer.test"}, DNSNames: []string{"portal.foyer.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)

	httpPort, httpsPort := certstest.FreePort(t), certstest.FreePort(t)
	env := func(data, cert string) []string {
		return []string{"FOYER_DATA=" + data, "FOYER_TLS_CERT=" + cert, "FOYER_TLS_KEY=" + keyFile, "FOYER_BASE_URL=", "FOYER_DOMAIN=",
			"FOYER_ADDR=127.0.0.1:" + strconv.Itoa(httpPort), "FOYER_HTTPS_ADDR=127.0.0.1:" + strconv.Itoa(httpsPort)}
	}
	// A certificate that is not there: refused, nothing created.
	data := filepath.Join(t.TempDir(), "data")
	out, err := runEnv(t, env(data, filepath.Join(dir, "nope.pem")), "serve")
	if err == nil || !strings.Contains(out, "-tls-cert") {
		t.Fatalf("a missing certificate: %v %s", err, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("the refused start created %s", data)
	}

	cmd := exec.Command(foyerBinary(t), "serve")
	cmd.Env = append(os.Environ(), env(data, certFile)...)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "foyer.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("foyer log:\n%s", b)
		}
	})
	c := httpsClient(roots, httpsPort)
	base := "https://portal.foyer.test:" + strconv.Itoa(httpsPort)
	var resp *http.Response
	for start := time.Now(); ; {
		if resp, err = c.Get(base + "/setup"); err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no HTTPS with the practice's certificate: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") || len(resp.Cookies()) == 0 {
		t.Fatalf("/setup over HTTPS: %d %v", resp.StatusCode, resp.Header)
	}
	for _, ck := range resp.Cookies() {
		if !ck.Secure {
			t.Errorf("cookie %s is not Secure over HTTPS", ck.Name)
		}
	}
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = plain.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/portal")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != base+"/portal" {
		t.Fatalf("plain HTTP: %d %q, want a redirect to %s/portal", resp.StatusCode, resp.Header.Get("Location"), base)
	}
}
