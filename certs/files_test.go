package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a self-signed certificate for name, with serial, and its key.
func writePair(t *testing.T, dir, name string, serial int64) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
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

// TestOwnCertificateIsReadAgainWhenItChanges: a practice renewing its own
// certificate needs no restart; a half-written pair keeps the old one.
func TestOwnCertificateIsReadAgainWhenItChanges(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, "portal.example.org", 1)
	now := time.Now()
	f, err := loadFiles(certFile, keyFile, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		c, err := f.get()
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.SerialNumber.Int64()
	}
	if serial() != 1 {
		t.Fatal("not the certificate in the files")
	}
	writePair(t, dir, "portal.example.org", 2)
	later := time.Now().Add(time.Second)
	os.Chtimes(certFile, later, later)
	if serial() != 1 {
		t.Fatal("read again before the next check")
	}
	now = now.Add(recheckEvery)
	if serial() != 2 {
		t.Fatal("the new certificate was not read")
	}
	// A key that does not match (written half-way): the old pair serves on.
	os.WriteFile(keyFile, []byte("-----BEGIN EC PRIVATE KEY-----\n"), 0o600)
	later = later.Add(time.Second)
	os.Chtimes(keyFile, later, later)
	now = now.Add(recheckEvery)
	if serial() != 2 {
		t.Fatal("a broken pair replaced the good one")
	}
}

func TestOwnCertificateErrorsNameTheSettings(t *testing.T) {
	dir := t.TempDir()
	certFile, _ := writePair(t, dir, "portal.example.org", 1)
	if _, err := New(Config{CertFile: certFile}, nil, nil); err == nil || !strings.Contains(err.Error(), "FOYER_TLS_KEY") {
		t.Errorf("a certificate without its key: %v", err)
	}
	if _, err := New(Config{CertFile: certFile, KeyFile: filepath.Join(dir, "missing.pem")}, nil, nil); err == nil || !strings.Contains(err.Error(), "-tls-key") {
		t.Errorf("a missing key file: %v", err)
	}
}

func TestPlainHTTPRedirectsToHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, "portal.example.org", 1)
	s, err := New(Config{Domains: []string{"portal.example.org", "www.example.org"}, CertFile: certFile, KeyFile: keyFile}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, host, target, port string
		code                       int
		want                       string
	}{
		{"GET", "portal.example.org", "/s/abc?x=1", "", 301, "https://portal.example.org/s/abc?x=1"},
		{"HEAD", "www.example.org:80", "/", "443", 301, "https://www.example.org/"},
		{"POST", "WWW.example.org", "/signin", "8443", 308, "https://www.example.org:8443/signin"},
		// Another name (an IP address, a forged Host) goes to the first domain.
		{"GET", "203.0.113.9", "/healthz", "", 301, "https://portal.example.org/healthz"},
		{"GET", "evil.example", "/", "", 301, "https://portal.example.org/"},
	} {
		r := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		s.HTTPHandler(tc.port).ServeHTTP(w, r)
		if w.Code != tc.code || w.Header().Get("Location") != tc.want {
			t.Errorf("%s %s%s: %d %q, want %d %q", tc.method, tc.host, tc.target, w.Code, w.Header().Get("Location"), tc.code, tc.want)
		}
	}
	// A client without SNI gets the certificate all the same.
	c, err := s.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || c == nil {
		t.Fatalf("no SNI: %v", err)
	}
}
