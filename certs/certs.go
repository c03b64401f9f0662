// Package certs gives Foyer its HTTPS certificates: obtained and renewed by
// ACME (Let's Encrypt unless told otherwise) and kept sealed in the data
// file, or read from the files of a practice that has its own.
//
// The ACME client is golang.org/x/crypto/acme/autocert: it is kept by the Go
// team, already in Foyer's module graph, answers both HTTP-01 (on port 80)
// and TLS-ALPN-01 (on 443), and renews in the background; its Cache
// interface is all it takes to keep certificates in the store (Cache below).
package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"foyer/store"
)

// LetsEncrypt is the ACME directory used unless another is given.
const LetsEncrypt = acme.LetsEncryptURL

// Config says where certificates come from.
type Config struct {
	// Domains are the names Foyer answers to; certificates are obtained for them.
	Domains []string
	// Directory is the ACME directory URL (LetsEncrypt when empty).
	Directory string
	// Email is the ACME account's contact, told of expiring certificates; may be empty.
	Email string
	// CertFile and KeyFile are a certificate and key in PEM the practice
	// provides instead of ACME; they are read again when the files change.
	CertFile, KeyFile string
	// HTTPClient talks to the ACME server: nil is the default client, which
	// trusts the system's roots (and SSL_CERT_FILE).
	HTTPClient *http.Client
	// RenewBefore is how long before expiry a certificate is renewed; zero
	// is a third of its lifetime, at most 30 days (autocert's choice).
	RenewBefore time.Duration
}

// Source hands out the certificate for each TLS handshake.
type Source struct {
	domains []string
	acme    *autocert.Manager
	files   *fileCert
	log     *slog.Logger
}

// New prepares the certificates of cfg: ACME with its state kept in st, or
// the given files, read now so a wrong path stops the start.
func New(cfg Config, st *store.Store, log *slog.Logger) (*Source, error) {
	s := &Source{domains: cfg.Domains, log: log}
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		f, err := loadFiles(cfg.CertFile, cfg.KeyFile, time.Now)
		if err != nil {
			return nil, err
		}
		s.files = f
		return s, nil
	}
	if len(cfg.Domains) == 0 {
		return nil, errors.New("certs: no domain to obtain a certificate for")
	}
	dir := cfg.Directory
	if dir == "" {
		dir = LetsEncrypt
	}
	allowed := autocert.HostWhitelist(cfg.Domains...)
	s.acme = &autocert.Manager{
		Prompt: autocert.AcceptTOS,
		Cache:  Cache{st},
		// HTTP-01 requests name the host with its port when it is not 80
		// (autocert checks r.Host as it stands).
		HostPolicy: func(ctx context.Context, host string) error {
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			return allowed(ctx, host)
		},
		Email:       cfg.Email,
		RenewBefore: cfg.RenewBefore,
		Client:      &acme.Client{DirectoryURL: dir, HTTPClient: cfg.HTTPClient, UserAgent: "foyer"},
	}
	return s, nil
}

// GetCertificate returns the certificate for a handshake. A client that
// names no server (one that connects by IP address) gets the first domain's.
// The video relay's TLS listener may use it too.
func (s *Source) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if s.files != nil {
		return s.files.get()
	}
	if hello.ServerName == "" {
		h := *hello
		h.ServerName = s.domains[0]
		hello = &h
	}
	return s.acme.GetCertificate(hello)
}

// TLSConfig is the configuration of the HTTPS listener: TLS 1.2 at least,
// HTTP/2, and the ACME TLS-ALPN-01 challenge when ACME is used.
func (s *Source) TLSConfig() *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if s.acme != nil {
		protos = append(protos, acme.ALPNProto)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: protos, GetCertificate: s.GetCertificate}
}

// HTTPHandler answers plain HTTP: ACME HTTP-01 challenges, and for
// everything else a redirect to the same path over HTTPS, on the host asked
// for when it is one of the domains (else the first), at httpsPort ("" or
// "443" for the default port).
func (s *Source) HTTPHandler(httpsPort string) http.Handler {
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := s.domains[0]
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			r.Host = h
		}
		for _, d := range s.domains {
			if strings.EqualFold(strings.TrimSuffix(r.Host, "."), d) {
				host = d
			}
		}
		if httpsPort != "" && httpsPort != "443" {
			host = net.JoinHostPort(host, httpsPort)
		}
		code := http.StatusMovedPermanently
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			code = http.StatusPermanentRedirect // keeps the method and body
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), code)
	})
	if s.acme == nil {
		return redirect
	}
	return s.acme.HTTPHandler(redirect)
}

// Prepare obtains (or loads from the store) the certificate of every domain
// now, rather than at the first visitor's handshake, and logs the outcome.
// A failure is logged and left to the next handshake, which tries again.
func (s *Source) Prepare(ctx context.Context) {
	if s.acme == nil {
		leaf := s.files.current().Leaf
		s.log.Info("HTTPS certificate from files", "names", leaf.DNSNames, "not_after", leaf.NotAfter)
		return
	}
	for _, d := range s.domains {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		// A hello as a current browser sends: the certificate browsers get (ECDSA).
		cert, err := s.acme.GetCertificate(&tls.ClientHelloInfo{
			ServerName:        d,
			SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedCurves:   []tls.CurveID{tls.CurveP256},
			CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		})
		if err != nil {
			s.log.Error("no HTTPS certificate yet: the next visit tries again; check that the name points to this machine and that port 80 or 443 reaches Foyer", "domain", d, "err", err)
			continue
		}
		s.log.Info("HTTPS certificate ready", "domain", d, "not_after", cert.Leaf.NotAfter, "took", time.Since(start).Round(time.Millisecond))
	}
}

// Cache keeps autocert's state (account key, certificates) in the store, sealed.
type Cache struct{ St *store.Store }

// Get returns what is kept under name, or autocert.ErrCacheMiss.
func (c Cache) Get(_ context.Context, name string) ([]byte, error) {
	data, err := c.St.CertCache(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	return data, err
}

// Put keeps data under name.
func (c Cache) Put(_ context.Context, name string, data []byte) error {
	return c.St.PutCertCache(name, data)
}

// Delete forgets name.
func (c Cache) Delete(_ context.Context, name string) error { return c.St.DeleteCertCache(name) }

// fileCert is a certificate read from files, read again when they change,
// so a practice renewing its own certificate needs no restart.
type fileCert struct {
	certFile, keyFile string
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

// recheckEvery is how often the files are looked at for a change.
const recheckEvery = time.Minute

// ReadPair reads the practice's certificate and key (-tls-cert, -tls-key)
// as HTTPS uses them, and returns the certificate, or an error naming the
// settings: a wrong path or a key of another certificate stops the start
// before anything is created.
func ReadPair(certFile, keyFile string) (*x509.Certificate, error) {
	f, err := loadFiles(certFile, keyFile, time.Now)
	if err != nil {
		return nil, err
	}
	return f.cert.Leaf, nil
}

// Names are the names of cert a portal can be served at, lower-cased: its
// DNS names but the wildcards (*.example.org names no one host to send
// plain HTTP to).
func Names(cert *x509.Certificate) []string {
	var out []string
	for _, n := range cert.DNSNames {
		if !strings.Contains(n, "*") {
			out = append(out, strings.ToLower(n))
		}
	}
	return out
}

// Describe lists what cert is for, for a message: its DNS names and addresses.
func Describe(cert *x509.Certificate) string {
	names := slices.Clone(cert.DNSNames)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no name"
	}
	return strings.Join(names, ", ")
}

func loadFiles(certFile, keyFile string, now func() time.Time) (*fileCert, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("FOYER_TLS_CERT (-tls-cert) and FOYER_TLS_KEY (-tls-key) go together: give both")
	}
	f := &fileCert{certFile: certFile, keyFile: keyFile, now: now}
	if err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fileCert) load() error {
	cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return fmt.Errorf("the certificate in %s with the key in %s (-tls-cert, -tls-key) cannot be used: %w", f.certFile, f.keyFile, err)
	}
	f.cert, f.modTime, f.checked = &cert, f.lastChange(), f.now()
	return nil
}

// lastChange is the later modification time of the two files.
func (f *fileCert) lastChange() time.Time {
	var t time.Time
	for _, p := range []string{f.certFile, f.keyFile} {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(t) {
			t = fi.ModTime()
		}
	}
	return t
}

func (f *fileCert) get() (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Sub(f.checked) >= recheckEvery {
		f.checked = f.now()
		if !f.lastChange().Equal(f.modTime) {
			// Files half written are read again at the next check; the old pair serves meanwhile.
			_ = f.load()
		}
	}
	return f.cert, nil
}

func (f *fileCert) current() *tls.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cert
}
