// Package tsatest runs a timestamp authority (RFC 3161) on loopback for
// tests: OpenSSL's own (openssl ts -reply) behind an httptest server, with a
// key and certificate made for the test, so Foyer's client is checked
// against an implementation that is not its own.
package tsatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TSA is a running test authority.
type TSA struct {
	URL string
	// CAFile is its certificate (PEM), for openssl ts -verify.
	CAFile string
	// Requests counts the requests it answered; Down makes it answer 503.
	Requests atomic.Int32
	Down     atomic.Bool
}

// Openssl returns the path of openssl, skipping the test without it (except under CI).
func Openssl(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but openssl is missing (apt-get install openssl)")
		}
		t.Skip("openssl not found (apt-get install openssl)")
	}
	return bin
}

// Start runs a timestamp authority until the test ends.
func Start(t testing.TB) *TSA {
	t.Helper()
	bin := Openssl(t)
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Test TSA", Organization: []string{"Loopback Time"}},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	// The timeStamping usage must be critical (RFC 3161 §2.3), which Go does
	// not write by itself.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certFile := write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyFile := write("tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))
	write("serial", []byte("01\n"))
	conf := write("ts.cnf", fmt.Appendf(nil, `[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = %[1]s
serial = %[1]s/serial
crypto_device = builtin
signer_cert = %[2]s
signer_key = %[3]s
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`, dir, certFile, keyFile))
	tsa := &TSA{CAFile: certFile}
	var mu sync.Mutex // openssl keeps its serial in one file
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tsa.Down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		query, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		q, out := filepath.Join(dir, "q.tsq"), filepath.Join(dir, "r.tsr")
		if err := os.WriteFile(q, query, 0o600); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if msg, err := exec.Command(bin, "ts", "-reply", "-config", conf, "-queryfile", q, "-out", out).CombinedOutput(); err != nil {
			http.Error(w, string(msg), http.StatusInternalServerError)
			return
		}
		reply, err := os.ReadFile(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tsa.Requests.Add(1)
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(reply)
	}))
	t.Cleanup(srv.Close)
	tsa.URL = srv.URL + "/tsr"
	return tsa
}
