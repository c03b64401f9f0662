package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
