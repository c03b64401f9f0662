// Command foyer is a self-hosted client portal for small practices: one binary, one bbolt file.
//
//	foyer [serve] [flags]   run the server (the default)
//	foyer backup FILE       write an encrypted copy of the data file to FILE while the server is stopped
//	foyer demo              fill a fresh data directory with a sample practice
//	foyer reset-password EMAIL   print a one-time link to choose a new staff password
//	foyer journal verify    check the access journal's chain while the server is stopped
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"foyer/access"
	"foyer/backup"
	"foyer/certificate"
	"foyer/certs"
	"foyer/delivery"
	"foyer/handlers"
	"foyer/jobs"
	"foyer/journal"
	"foyer/locales"
	"foyer/mail"
	"foyer/preso"
	"foyer/privacy"
	"foyer/share"
	"foyer/store"
	"foyer/video"
	"foyer/views"
)

// config is everything the operator can set, by flag or environment variable.
type config struct {
	addr, data, baseURL string
	// domains turns HTTPS on (certificates by ACME), httpsAddr is where it is served.
	domains, httpsAddr       string
	acmeDirectory, acmeEmail string
	// tlsCert and tlsKey are the practice's own certificate: HTTPS with it
	// instead of ACME (for the names of domains, or else its own), and
	// TURN over TLS. cert is what they hold, once loadCertificate read them.
	tlsCert, tlsKey           string
	cert                      *x509.Certificate
	smtpURL, mailFrom         string
	smsURL, smsFrom           string
	idleTimeout, lifetime     time.Duration
	viewingEnd                time.Duration
	trustedProxies, logFormat string
	shutdownTimeout           time.Duration
	secretKey                 string
	iceServers                string
	turnAddr, turnPorts       string
	turnAllowPeers            string
	turnTLSAddr, turnTLSPub   string
	// tsaURL is the timestamp authority (RFC 3161) that stamps signing certificates.
	tsaURL string
	// demoLang is the language of the practice "foyer demo" makes.
	demoLang  string
	maxUpload int64
	// scale is how many made-up clients "foyer demo -scale" adds.
	scale int
	// backupURL is where off-site backups go, every backupEvery.
	backupURL   string
	backupEvery time.Duration
	// restore: where from, which copy, the key, and whether to replace data.
	restoreFrom, restoreAt, keyFile string
	force                           bool
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envErrors holds the environment variables that could not be read; a
// command refuses to start with any (see config.validate).
var envErrors []error

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		envErrors = append(envErrors, fmt.Errorf("%s=%q is not a duration such as 30m or 1h30m", name, v))
	}
	return def
}

// validate refuses settings that cannot work, naming the setting, before
// anything is created.
func (cfg config) validate() error {
	if len(envErrors) > 0 {
		return envErrors[0]
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"FOYER_IDLE_TIMEOUT (-idle-timeout)", cfg.idleTimeout}, {"FOYER_SESSION_LIFETIME (-session-lifetime)", cfg.lifetime},
		{"FOYER_SHUTDOWN_TIMEOUT (-shutdown-timeout)", cfg.shutdownTimeout}} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be a positive duration such as 30m, not %s", d.name, d.v)
		}
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return fmt.Errorf("FOYER_LOG_FORMAT (-log-format) must be text or json, not %q", cfg.logFormat)
	}
	if cfg.mailFrom != "" {
		if _, err := netmail.ParseAddress(cfg.mailFrom); err != nil {
			return fmt.Errorf("FOYER_MAIL_FROM (-mail-from) %q is not an email address such as \"Cabinet <noreply@example.org>\"", cfg.mailFrom)
		}
	}
	if cfg.tsaURL != "" {
		if u, err := url.Parse(cfg.tsaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("FOYER_TSA_URL (-tsa-url) %q must look like https://tsa.example.org/tsr", cfg.tsaURL)
		}
	}
	if err := cfg.validateHTTPS(); err != nil {
		return err
	}
	if cfg.backupURL != "" {
		if _, err := backup.ParseURL(cfg.backupURL); err != nil {
			return err
		}
	}
	if cfg.turnTLSAddr != "" && cfg.turnAddr == "" {
		return errors.New("FOYER_TURN_TLS_ADDR needs the TURN server: set FOYER_TURN_ADDR too")
	}
	if cfg.turnTLSAddr != "" && !cfg.https() && cfg.tlsCert == "" {
		return errors.New("FOYER_TURN_TLS_ADDR needs a certificate: FOYER_DOMAIN (obtained by ACME), or FOYER_TLS_CERT and FOYER_TLS_KEY (-tls-cert, -tls-key)")
	}
	if cfg.backupURL != "" && cfg.backupEvery < time.Minute {
		return fmt.Errorf("FOYER_BACKUP_EVERY (-backup-every) must be a duration of a minute or more, such as 1h, not %s", cfg.backupEvery)
	}
	base, err := cfg.publicURL()
	if err == nil && cfg.https() && base.Scheme != "https" {
		return fmt.Errorf("FOYER_BASE_URL (-base-url) %q must start with https:// when Foyer serves HTTPS", cfg.baseURL)
	}
	return err
}

// https reports whether Foyer serves HTTPS itself: for the names of
// -domain (with -tls-cert's certificate, else one obtained by ACME), or
// with -tls-cert alone for the certificate's names (see ownCertificate).
func (cfg config) https() bool { return len(cfg.domainList()) > 0 }

// ownCertificate reports whether HTTPS is served with the practice's
// certificate for its own names: -tls-cert without -domain. A practice
// that gives its certificate expects HTTPS, not plain HTTP beside it;
// only an explicit http:// -base-url says otherwise, and then the
// certificate serves TURN over TLS alone (see loadCertificate).
func (cfg config) ownCertificate() bool {
	return cfg.cert != nil && strings.TrimSpace(cfg.domains) == "" && !plainBaseURL(cfg.baseURL)
}

// plainBaseURL reports whether -base-url is given and says http://.
func plainBaseURL(raw string) bool { return strings.HasPrefix(strings.ToLower(raw), "http://") }

// listenAddr is where plain HTTP is served: -addr, or by default :8080,
// and :80 when Foyer serves HTTPS (ACME challenges and redirects).
func (cfg config) listenAddr() string {
	switch {
	case cfg.addr != "":
		return cfg.addr
	case cfg.https():
		return ":80"
	}
	return ":8080"
}

// domainList is the names HTTPS is served for, lower-cased: those of
// -domain; with the practice's certificate alone, the host of -base-url
// when it is given, else the certificate's names.
func (cfg config) domainList() []string {
	var out []string
	for _, d := range strings.Split(cfg.domains, ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			out = append(out, d)
		}
	}
	if len(out) > 0 || !cfg.ownCertificate() {
		return out
	}
	if u, err := url.Parse(cfg.baseURL); cfg.baseURL != "" && err == nil && u.Hostname() != "" {
		return []string{strings.ToLower(u.Hostname())}
	}
	return certs.Names(cfg.cert)
}

// loadCertificate reads the practice's certificate (-tls-cert, -tls-key)
// for the commands that serve or write links, before anything is created,
// and refuses a certificate that would not do what it is given for: one
// that does not cover a name Foyer answers to, one that names no host to
// serve, or one that serves nothing at all (plain HTTP, no TURN over TLS).
func (cfg *config) loadCertificate() error {
	if cfg.tlsCert == "" || cfg.tlsKey == "" {
		return nil // validate says they go together
	}
	cert, err := certs.ReadPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return err
	}
	cfg.cert = cert
	covers := func(host string) bool { return cert.VerifyHostname(host) == nil }
	switch {
	case strings.TrimSpace(cfg.domains) != "":
		for _, d := range cfg.domainList() {
			if !covers(d) {
				return fmt.Errorf("FOYER_DOMAIN (-domain) %q is not a name of the certificate in %s (FOYER_TLS_CERT, -tls-cert), which is for %s", d, cfg.tlsCert, certs.Describe(cert))
			}
		}
	case plainBaseURL(cfg.baseURL):
		if cfg.turnTLSAddr == "" {
			return fmt.Errorf("FOYER_TLS_CERT (-tls-cert) is given, but FOYER_BASE_URL (-base-url) %q says Foyer serves plain HTTP, and no TURN over TLS (FOYER_TURN_TLS_ADDR) uses it: to serve HTTPS with this certificate, give a base URL with https:// (or none)", cfg.baseURL)
		}
	default:
		names := cfg.domainList()
		if len(names) == 0 {
			return fmt.Errorf("the certificate in %s (FOYER_TLS_CERT, -tls-cert) names no host to serve HTTPS at (it is for %s): set FOYER_DOMAIN (-domain) or FOYER_BASE_URL (-base-url) to the portal's name", cfg.tlsCert, certs.Describe(cert))
		}
		if cfg.baseURL != "" && !covers(names[0]) {
			return fmt.Errorf("FOYER_BASE_URL (-base-url) %q is not at a name of the certificate in %s (FOYER_TLS_CERT, -tls-cert), which is for %s", cfg.baseURL, cfg.tlsCert, certs.Describe(cert))
		}
	}
	return nil
}

// validateHTTPS refuses HTTPS settings that cannot work. The names of
// -domain must be domain names a certificate authority can certify; the
// names of the practice's own certificate are what it is for, localhost
// included, and loadCertificate checks them against -base-url.
func (cfg config) validateHTTPS() error {
	for _, d := range strings.Split(cfg.domains, ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d == "" {
			continue
		}
		if strings.ContainsAny(d, "/:*@ ") || !strings.Contains(strings.Trim(d, "."), ".") || net.ParseIP(d) != nil {
			return fmt.Errorf("FOYER_DOMAIN (-domain) %q is not a domain name such as portal.example.org (no https://, no port, no wildcard)", d)
		}
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("FOYER_TLS_CERT (-tls-cert) and FOYER_TLS_KEY (-tls-key) go together: give both")
	}
	if !cfg.https() {
		return nil
	}
	if _, _, err := net.SplitHostPort(cfg.httpsAddr); err != nil {
		return fmt.Errorf("FOYER_HTTPS_ADDR (-https-addr) %q is not an address such as :443", cfg.httpsAddr)
	}
	if u, err := url.Parse(cfg.acmeDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("FOYER_ACME_DIRECTORY (-acme-directory) %q is not an https:// URL", cfg.acmeDirectory)
	}
	if cfg.acmeEmail != "" {
		if a, err := netmail.ParseAddress(cfg.acmeEmail); err != nil || a.Name != "" {
			return fmt.Errorf("FOYER_ACME_EMAIL (-acme-email) %q is not an email address such as admin@example.org", cfg.acmeEmail)
		}
	}
	return nil
}

// publicURL is the base URL links are made with: -base-url, or else
// https:// and the first domain when Foyer serves HTTPS, or else this
// machine at the port of -addr.
func (cfg config) publicURL() (*url.URL, error) {
	raw := cfg.baseURL
	if domains := cfg.domainList(); raw == "" && len(domains) > 0 {
		host := domains[0]
		if _, port, err := net.SplitHostPort(cfg.httpsAddr); err == nil && port != "443" {
			host = net.JoinHostPort(host, port)
		}
		raw = "https://" + host
	}
	if raw == "" {
		host, port, err := net.SplitHostPort(cfg.listenAddr())
		if err != nil {
			return nil, fmt.Errorf("FOYER_ADDR (-addr) %q is not an address such as :8080 or 127.0.0.1:8080", cfg.listenAddr())
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		raw = "http://" + net.JoinHostPort(host, port)
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("FOYER_BASE_URL (-base-url) %q must look like https://portal.example.org", raw)
	}
	return base, nil
}

// envSize reads a size in bytes, or with a unit: 50MiB, 200MB, 1GiB.
func envSize(name string, def int64) int64 {
	v, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	n, err := parseSize(v)
	if err != nil {
		envErrors = append(envErrors, fmt.Errorf("%s=%q is not a size such as 50MiB or 200MB", name, v))
		return def
	}
	return n
}

// sizeFlag is a flag holding a size in bytes, set as parseSize reads it.
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

// Set parses a size such as 50MiB.
func (f *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	*f = sizeFlag(n)
	return err
}

// parseSize reads 1234, 50MiB, 50MB, 2GiB, 512KiB (units are case-insensitive).
func parseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	units := []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"b", 1}}
	mult := int64(1)
	low := strings.ToLower(v)
	for _, u := range units {
		if strings.HasSuffix(low, u.suffix) {
			mult, v = u.mult, strings.TrimSpace(v[:len(v)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("bad size %q", v)
	}
	return n * mult, nil
}

// flags declares the flags of every command; each mirrors an environment variable.
func flags(name string, cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", env("FOYER_ADDR", ""), "address to listen on; with HTTPS, for plain HTTP (ACME challenges, redirects) (default :8080, or :80 with -domain or -tls-cert) (FOYER_ADDR)")
	fs.StringVar(&cfg.data, "data", env("FOYER_DATA", "./foyer-data"), "data directory, created on first start (FOYER_DATA)")
	fs.StringVar(&cfg.baseURL, "base-url", env("FOYER_BASE_URL", ""), "public base URL used in links sent by email; by default https:// and the first -domain (or name of -tls-cert's certificate), or http://localhost at the port of -addr (FOYER_BASE_URL)")
	fs.StringVar(&cfg.domains, "domain", env("FOYER_DOMAIN", ""), "serve HTTPS for these names (comma-separated), with certificates obtained and renewed by ACME (FOYER_DOMAIN)")
	fs.StringVar(&cfg.httpsAddr, "https-addr", env("FOYER_HTTPS_ADDR", ":443"), "address HTTPS is served on, with -domain or -tls-cert (FOYER_HTTPS_ADDR)")
	fs.StringVar(&cfg.acmeDirectory, "acme-directory", env("FOYER_ACME_DIRECTORY", certs.LetsEncrypt), "ACME directory certificates are obtained from (FOYER_ACME_DIRECTORY)")
	fs.StringVar(&cfg.acmeEmail, "acme-email", env("FOYER_ACME_EMAIL", ""), "contact email of the ACME account, told of certificate problems (FOYER_ACME_EMAIL)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", env("FOYER_TLS_CERT", ""), "the practice's own certificate file (PEM, with its chain): HTTPS with it instead of ACME, for the names of -domain or else its own, and TURN over TLS; read again when it changes (FOYER_TLS_CERT)")
	fs.StringVar(&cfg.tlsKey, "tls-key", env("FOYER_TLS_KEY", ""), "private key file (PEM) of -tls-cert (FOYER_TLS_KEY)")
	fs.StringVar(&cfg.smtpURL, "smtp-url", env("FOYER_SMTP_URL", ""), "SMTP server, e.g. smtp://user:pass@host:587; empty: emails stay in the outbox and the log (FOYER_SMTP_URL)")
	fs.StringVar(&cfg.mailFrom, "mail-from", env("FOYER_MAIL_FROM", ""), "sender address of emails, e.g. \"Cabinet <noreply@example.org>\" (FOYER_MAIL_FROM)")
	fs.StringVar(&cfg.smsURL, "sms-url", env("FOYER_SMS_URL", ""), "Twilio-compatible SMS API, https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com; empty: texts stay in the outbox and the log (FOYER_SMS_URL)")
	fs.StringVar(&cfg.smsFrom, "sms-from", env("FOYER_SMS_FROM", ""), "sender number or ID of text messages (FOYER_SMS_FROM)")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", envDuration("FOYER_IDLE_TIMEOUT", 30*time.Minute), "sign out after this long without activity (FOYER_IDLE_TIMEOUT)")
	fs.DurationVar(&cfg.viewingEnd, "viewing-report-after", envDuration("FOYER_VIEWING_REPORT_AFTER", 5*time.Minute), "email a preso's owner this long after a viewer's last slide (FOYER_VIEWING_REPORT_AFTER)")
	fs.DurationVar(&cfg.lifetime, "session-lifetime", envDuration("FOYER_SESSION_LIFETIME", 12*time.Hour), "sign out this long after signing in (FOYER_SESSION_LIFETIME)")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxies", env("FOYER_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted (FOYER_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.logFormat, "log-format", env("FOYER_LOG_FORMAT", "text"), "log format: text or json (FOYER_LOG_FORMAT)")
	fs.StringVar(&cfg.secretKey, "secret-key", env("FOYER_SECRET_KEY", ""), "at least 32 characters kept outside the data file, e.g. from openssl rand -base64 32; seals secrets in the data file with it (FOYER_SECRET_KEY)")
	fs.StringVar(&cfg.iceServers, "ice-servers", env("FOYER_ICE_SERVERS", ""), "STUN/TURN servers for video sessions: a JSON array of RTCIceServer, or stun: URLs separated by commas; empty: none (FOYER_ICE_SERVERS)")
	fs.StringVar(&cfg.turnAddr, "turn-addr", env("FOYER_TURN_ADDR", ""), "public host:port of the embedded TURN server for video sessions, e.g. 203.0.113.5:3478; empty: no TURN server (FOYER_TURN_ADDR)")
	fs.StringVar(&cfg.turnPorts, "turn-ports", env("FOYER_TURN_PORTS", "49160-49200"), "UDP port range the TURN server relays on (FOYER_TURN_PORTS)")
	fs.StringVar(&cfg.turnTLSAddr, "turn-tls-addr", env("FOYER_TURN_TLS_ADDR", ""), "address the TURN server also listens on for TURN over TLS, e.g. :5349, or 203.0.113.6:443 (a second address); needs -turn-addr and a certificate; empty: none (FOYER_TURN_TLS_ADDR)")
	fs.StringVar(&cfg.turnTLSPub, "turn-tls-public", env("FOYER_TURN_TLS_PUBLIC", ""), "host:port browsers are given for TURN over TLS when it is not the portal's host at the port of -turn-tls-addr, e.g. turn.example.org:443 (FOYER_TURN_TLS_PUBLIC)")
	fs.StringVar(&cfg.turnAllowPeers, "turn-allow-peers", env("FOYER_TURN_ALLOW_PEERS", ""), "private networks the TURN relay may reach all the same, comma-separated CIDRs such as 192.168.1.0/24; empty: none (FOYER_TURN_ALLOW_PEERS)")
	fs.StringVar(&cfg.backupURL, "backup-url", env("FOYER_BACKUP_URL", ""), "S3-compatible storage for encrypted off-site backups: s3://ACCESS_KEY:SECRET@host/bucket/prefix?region=fr-par (&tls=false on a local network); empty: none (FOYER_BACKUP_URL)")
	fs.DurationVar(&cfg.backupEvery, "backup-every", envDuration("FOYER_BACKUP_EVERY", backup.DefaultEvery), "how often an off-site backup is taken (FOYER_BACKUP_EVERY)")
	fs.StringVar(&cfg.tsaURL, "tsa-url", env("FOYER_TSA_URL", ""), "timestamp authority (RFC 3161) that stamps every signing certificate's seal, e.g. https://tsa.example.org/tsr; empty: none (FOYER_TSA_URL)")
	cfg.maxUpload = envSize("FOYER_MAX_UPLOAD", handlers.DefaultMaxUpload)
	fs.Var((*sizeFlag)(&cfg.maxUpload), "max-upload", "largest file a document share accepts, in bytes or with a unit: 50MiB, 200MB (FOYER_MAX_UPLOAD)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", envDuration("FOYER_SHUTDOWN_TIMEOUT", 15*time.Second), "how long to let requests finish on SIGINT/SIGTERM (FOYER_SHUTDOWN_TIMEOUT)")
	if name == "restore" {
		fs.StringVar(&cfg.restoreFrom, "from", "", "where to restore from: an s3:// URL as -backup-url (its value by default), or a copy on this machine (downloaded from the storage or from Settings, or written by foyer backup), or a directory of copies")
		fs.StringVar(&cfg.restoreAt, "at", "", "restore the newest copy taken at or before this time: 2026-03-02, 2026-03-02T14:00, or RFC 3339 (machine's time zone unless given); default: the newest")
		fs.StringVar(&cfg.keyFile, "key-file", "", "file holding the secret key the copy was made with: a kept secret.key, or the key of the recovery sheet typed into a file (else FOYER_SECRET_KEY)")
		fs.BoolVar(&cfg.force, "force", false, "restore even if the data directory holds a data file (which is kept aside, renamed)")
	}
	if name == "demo" {
		fs.StringVar(&cfg.demoLang, "lang", "fr", "language of the demo practice: fr or en")
		fs.IntVar(&cfg.scale, "scale", 0, "also add this many made-up clients, as many prospects, and their sessions and sent messages (for measuring)")
	}
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Foyer: a self-hosted client portal for small practices.\n\n")
		fmt.Fprintf(out, "Usage:\n  foyer [serve] [flags]   run the server (default)\n  foyer backup [flags] FILE|DIR   write an encrypted copy of the data file (server stopped)\n  foyer backups [flags]   list the off-site backups at -backup-url\n  foyer restore -from URL|FILE|DIR [-at TIME] -data DIR -key-file FILE [-force]   bring back a backup\n  foyer demo [flags]      fill a fresh data directory with a sample practice\n  foyer reset-password [flags] EMAIL   print a one-time link to choose a new staff password (server stopped)\n  foyer journal verify [flags]   check the access journal's chain (server stopped, or on a backup's directory)\n\nFlags (each also read from the environment variable shown):\n")
		fs.PrintDefaults()
	}
	return fs
}

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	// "foyer journal verify -data DIR": the subcommand comes before the flags.
	sub := ""
	if cmd == "journal" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	var cfg config
	fs := flags(cmd, &cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(cfg)
	case "backup":
		if fs.NArg() != 1 {
			fs.Usage()
			os.Exit(2)
		}
		err = backupFile(cfg, fs.Arg(0))
	case "backups":
		err = listBackups(cfg, os.Stdout)
	case "restore":
		err = restore(cfg, os.Stdout)
	case "demo":
		err = demo(cfg, os.Stdout)
	case "reset-password":
		if fs.NArg() != 1 {
			fs.Usage()
			os.Exit(2)
		}
		err = resetPassword(cfg, fs.Arg(0), os.Stdout)
	case "journal":
		if sub != "verify" || fs.NArg() != 0 {
			fs.Usage()
			os.Exit(2)
		}
		err = verifyJournal(cfg, os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "foyer: unknown command %q\n\n", cmd)
		fs.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "foyer:", err)
		os.Exit(1)
	}
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// logBuffer gathers log lines and writes them out at most every flushEvery:
// one write per request line would cost more than serving a public page.
type logBuffer struct {
	mu  sync.Mutex
	buf *bufio.Writer
}

// flushEvery is how late a log line may reach the terminal or the journal.
const flushEvery = 200 * time.Millisecond

func newLogBuffer(w io.Writer) *logBuffer { return &logBuffer{buf: bufio.NewWriterSize(w, 32<<10)} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Flush writes out what is buffered.
func (l *logBuffer) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.buf.Flush()
}

// run flushes every flushEvery until ctx ends, then once more.
func (l *logBuffer) run(ctx context.Context) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.Flush()
		case <-ctx.Done():
			l.Flush()
			return
		}
	}
}

// lockedError says that another process holds the data directory; it is a store.ErrLocked.
type lockedError string

func (dir lockedError) Error() string {
	return fmt.Sprintf("the data directory %s is in use by another Foyer process; only one may use it at a time", string(dir))
}

func (lockedError) Unwrap() error { return store.ErrLocked }

// minSecretKey is the shortest FOYER_SECRET_KEY accepted.
const minSecretKey = 32

// openStore opens the data directory, turning a held lock or a missing or
// wrong secret key into a clear message. Every message entering its outbox
// is checked against its kind (mail.Prepare).
func openStore(cfg config) (*store.Store, error) {
	if cfg.secretKey != "" && len(cfg.secretKey) < minSecretKey {
		return nil, fmt.Errorf("FOYER_SECRET_KEY is %d characters long; use at least %d, e.g. the output of: openssl rand -base64 32", len(cfg.secretKey), minSecretKey)
	}
	s, err := store.Open(cfg.data, store.WithSecretKey(cfg.secretKey), store.WithMessageCheck(mail.Prepare))
	if errors.Is(err, store.ErrLocked) {
		return nil, lockedError(cfg.data)
	}
	var ke *store.KeyError
	if errors.As(err, &ke) {
		return nil, keyMessage(cfg.data, ke)
	}
	var de *store.DamagedError
	if errors.As(err, &de) {
		return nil, damagedMessage(cfg, de)
	}
	return s, err
}

// damagedMessage says that the data file is damaged and what to do.
func damagedMessage(cfg config, de *store.DamagedError) error {
	key := filepath.Join(cfg.data, store.KeyFileName)
	if cfg.secretKey != "" {
		key = "FILE (FOYER_SECRET_KEY typed into a file)"
	}
	return fmt.Errorf("the data file %s is damaged (%s), and Foyer cannot use it; nothing was changed. "+
		"Keep it as it is, and restore the newest backup into a new directory: foyer restore -from BACKUP_URL_OR_FILE -data NEW_DIRECTORY -key-file %s, "+
		"then start Foyer with -data NEW_DIRECTORY", de.Path, de.Problem, key)
}

// keyMessage says which secret key the data needs and where to put it.
func keyMessage(data string, ke *store.KeyError) error {
	need := "the key"
	if ke.Need != "" {
		need = "the key " + ke.Need + " (its ID, printed on the recovery sheet)"
	}
	switch {
	case ke.Need == "" && ke.Have == "":
		return fmt.Errorf("the data in %s was sealed with a secret key: set FOYER_SECRET_KEY to the same key as before", data)
	case ke.Have == "":
		return fmt.Errorf("the data in %s is sealed with a secret key kept apart, and %s is missing: put your copy of secret.key there (or type the key of the recovery sheet into that file), or set FOYER_SECRET_KEY to the same key; it needs %s. Nothing was changed", data, ke.File, need)
	case ke.File == "":
		return fmt.Errorf("FOYER_SECRET_KEY (key %s) is not the key the data in %s was sealed with: set the same key as before; it needs %s. Nothing was changed", ke.Have, data, need)
	default:
		return fmt.Errorf("%s holds the key %s, which is not the key the data in %s was sealed with: put the right secret.key there, or set FOYER_SECRET_KEY; it needs %s. Nothing was changed", ke.File, ke.Have, data, need)
	}
}

// opened is what the log says of how the data file opened.
type opened interface {
	WalkedAtOpen() bool
	Upgraded() (store.Upgrade, bool)
}

// logOpened says how the data file opened, when it was not as usual: an
// older schema upgraded (from, to, how long), a file that had to be read
// whole to find its free pages.
func logOpened(log *slog.Logger, st opened, took time.Duration) {
	if up, ok := st.Upgraded(); ok {
		log.Info("the data file was upgraded", "schema_from", up.From, "schema_to", up.To, "took", up.Took.Round(time.Millisecond))
		logJournalHead(log, up.JournalHead)
	}
	if st.WalkedAtOpen() {
		log.Warn("the data file held no list of its free pages, so they were found by reading it whole: it was not closed cleanly last time (a crash, kill -9, a power cut), or it is a backup put in place by hand instead of with foyer restore; a clean stop (SIGTERM or Ctrl-C) writes the list for the next start",
			"took", took.Round(time.Millisecond))
	}
}

// logJournalHead says what the upgrade did to the access journal's head record.
func logJournalHead(log *slog.Logger, h store.JournalHeadUpgrade) {
	switch {
	case h.Signed:
		log.Info("the access journal's head record, which an older Foyer wrote unsigned, is signed from now on: entries removed from its end show in the check; it was signed as it stood",
			"last_entry", h.Seq)
	case h.Refused:
		log.Warn("the access journal's head record is not signed, though this data file's was: it was changed without the key, and entries may have been removed from its end; Journal → Check the chain says where")
	}
}

func serve(cfg config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := cfg.loadCertificate(); err != nil {
		return err
	}
	// The names HTTPS is served for may be the certificate's: its public
	// URL is checked again with them.
	if err := cfg.validate(); err != nil {
		return err
	}
	// Caught from the start: a stop asked while the store opens is done once
	// it is open, through the same shutdown, so the store is closed cleanly
	// (and the next start does not walk the file, see store.Close).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC()
	logs := newLogBuffer(os.Stderr)
	defer logs.Flush()
	log := newLogger(cfg.logFormat, logs)
	logCtx, stopLogs := context.WithCancel(context.Background())
	defer stopLogs()
	go logs.run(logCtx)
	base, err := cfg.publicURL()
	if err != nil {
		return err
	}
	var proxies []*net.IPNet
	for _, cidr := range strings.Split(cfg.trustedProxies, ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return fmt.Errorf("trusted proxy %q is not a CIDR such as 10.0.0.0/8", cidr)
		}
		proxies = append(proxies, n)
	}
	var email, sms delivery.Driver
	if cfg.smtpURL != "" {
		d, err := delivery.ParseSMTPURL(cfg.smtpURL, cfg.mailFrom)
		if err != nil {
			return err
		}
		d.MessageIDHost = base.Hostname()
		email = d
	}
	if cfg.smsURL != "" {
		d, err := delivery.ParseSMSURL(cfg.smsURL, cfg.smsFrom)
		if err != nil {
			return err
		}
		sms = d
	}

	ice, err := video.ParseICEServers(cfg.iceServers)
	if err != nil {
		return err
	}
	opening := time.Now()
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	logOpened(log, st, time.Since(opening))
	sv, err := services(st, base, cfg.tsaURL, log)
	if err != nil {
		return err
	}
	// tlsSrc hands out the certificate, to HTTPS and to TURN over TLS: by
	// ACME (kept in the store) for -domain, or the practice's own files.
	var tlsSrc *certs.Source
	if cfg.https() || cfg.tlsCert != "" {
		if tlsSrc, err = certs.New(certs.Config{Domains: cfg.domainList(), Directory: cfg.acmeDirectory, Email: cfg.acmeEmail,
			CertFile: cfg.tlsCert, KeyFile: cfg.tlsKey}, st, log); err != nil {
			return err
		}
	}
	var turn *video.TURN
	if cfg.turnAddr != "" {
		lo, hi, err := video.ParsePorts(cfg.turnPorts)
		if err != nil {
			return fmt.Errorf("FOYER_TURN_PORTS: %w", err)
		}
		allow, err := video.ParseAllowPeers(cfg.turnAllowPeers)
		if err != nil {
			return err
		}
		tc := video.TURNConfig{Addr: cfg.turnAddr, MinPort: lo, MaxPort: hi, Realm: base.Hostname(), AllowPeers: allow,
			TLSAddr: cfg.turnTLSAddr, TLSPublic: cfg.turnTLSPub}
		if cfg.turnTLSAddr != "" {
			tc.GetCertificate = tlsSrc.GetCertificate // one exists: see validate
		}
		if turn, err = video.StartTURN(tc, time.Now, log); err != nil {
			return err
		}
		defer turn.Close()
	}

	worker := delivery.NewWorker(st, email, sms, sv.Mail, log)
	sv.Outbox = worker
	var backups *backup.Backups
	if cfg.backupURL != "" {
		target, _ := backup.ParseURL(cfg.backupURL) // checked by validate
		if backups, err = backup.New(st, target, cfg.backupEvery, log, worker.Wake); err != nil {
			return err
		}
	}
	h, err := handlers.New(sv, handlers.Config{BaseURL: base, IdleTimeout: cfg.idleTimeout, SessionLifetime: cfg.lifetime, TrustedProxies: proxies,
		ICEServers: ice, TURN: turn, MaxUpload: cfg.maxUpload, Backups: backups}, log, time.Now)
	if err != nil {
		return err
	}
	jc := jobs.Config{Store: st, Shares: sv.Shares, Presos: sv.Presos, Mail: sv.Mail, Outbox: worker, Log: log, Now: time.Now,
		IdleTimeout: cfg.idleTimeout, SessionLifetime: cfg.lifetime, ViewingEnd: cfg.viewingEnd, ReportViewing: h.ReportViewing,
		Privacy: sv.Privacy}
	if backups != nil {
		// The schedule says when a copy is due; backups.Run takes it, so a
		// long upload holds up no other job.
		jc.Backup = backups.Tick
	}
	jc.IssueCertificates = sv.Certificates.IssueDue
	schedule := jobs.New(jc)
	srv := &http.Server{
		Addr:              cfg.listenAddr(),
		Handler:           h.Echo(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Long downloads push their own deadline forward as the client reads
		// (handlers/download.go); every other response is done well before this.
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  120 * time.Second,
	}
	background := []func(context.Context){worker.Run, schedule.Run}
	if backups != nil {
		background = append(background, backups.Run)
		log.Info("off-site backups on", "target", backups.Target().String(), "every", backups.Every())
	}
	var ln net.Listener
	if cfg.https() {
		plain, err := net.Listen("tcp", cfg.listenAddr())
		if err != nil {
			return err
		}
		if ln, err = net.Listen("tcp", cfg.httpsAddr); err != nil {
			plain.Close()
			return err
		}
		ln = tls.NewListener(ln, tlsSrc.TLSConfig())
		_, port, _ := net.SplitHostPort(cfg.httpsAddr)
		background = append(background, serveRedirects(plain, tlsSrc.HTTPHandler(port), log), tlsSrc.Prepare)
		log.Info("Foyer serves HTTPS", "https_addr", ln.Addr().String(), "http_addr", plain.Addr().String(), "domains", cfg.domainList())
	} else if ln, err = net.Listen("tcp", cfg.listenAddr()); err != nil {
		return err
	}

	if cfg.cert != nil && !cfg.https() {
		log.Warn("Foyer serves plain HTTP, as FOYER_BASE_URL says: the certificate of FOYER_TLS_CERT serves TURN over TLS only", "base_url", base.String())
	}
	logDelivery(log, email != nil, sms != nil)
	log.Info("Foyer is listening", "addr", ln.Addr().String(), "url", base.String(), "data", cfg.data)
	if has, err := st.HasStaff(); err == nil && !has {
		log.Info("no practice yet: open " + strings.TrimRight(base.String(), "/") + "/setup in a browser to create it")
	}
	background = append(background, func(ctx context.Context) {
		sv.Journal.Run(ctx, func(err error) { log.Error("unable to write the access journal", "err", err) })
	})
	go releaseStartMemory()
	err = runServer(ctx, log, srv, ln, cfg.shutdownTimeout, h.HangUp, background...)
	// Work requests left for after their answer (a reset email) finishes too.
	h.Wait()
	// What the last requests recorded is written before the store closes.
	if jerr := sv.Journal.Flush(); jerr != nil {
		log.Error("unable to write the access journal", "err", jerr)
	}
	log.Info("stopped")
	return err
}

// services builds what the handlers, the delivery worker and the jobs share:
// the share engine, the table of messages and the signing certificates
// (stamped by the timestamp authority at tsa, if any), over one catalog of
// messages.
func services(st *store.Store, base *url.URL, tsa string, log *slog.Logger) (handlers.Services, error) {
	cat, err := locales.Load()
	if err != nil {
		return handlers.Services{}, err
	}
	templates, err := views.NewMail()
	if err != nil {
		return handlers.Services{}, err
	}
	shares, presos := newShareEngine(st, time.Now)
	mailer, err := mail.New(mail.Config{Store: st, Shares: shares, Catalog: cat, Templates: templates, BaseURL: base, Now: time.Now})
	if err != nil {
		return handlers.Services{}, err
	}
	certs := certificate.New(certificate.Config{Store: st, Presos: presos, Catalog: cat, BaseURL: base, TSA: tsa, Log: log, Now: time.Now})
	// Who may see a client is decided by the access policy, which tells the
	// journal of every use it allows.
	jr := journal.New(st, time.Now)
	return handlers.Services{Store: st, Mail: mailer, Shares: shares, Presos: presos, Certificates: certs, Catalog: cat,
		Access: access.New(st, jr.AccessLog(), time.Now), Journal: jr, Privacy: privacy.New(st, jr, time.Now)}, nil
}

// newShareEngine is the share engine with each kind of share: who may open
// its links (a document share's recipient unless the client record is
// archived; a preso's contacts still on it and not archived), and what it
// holds, which its purge removes from the store (a document share's files,
// a preso share's snapshot: a signature keeps its snapshot's SHA-256, which
// is what the certificate states). It returns the presos over it too.
func newShareEngine(st *store.Store, now func() time.Time) (*share.Engine, *preso.Service) {
	e := share.New(st, now)
	p := preso.New(st, e, now)
	e.OnAudience(store.SharePreso, p.Audience) // documents: share.FilesAudience, from share.New
	e.OnPurge(store.ShareFiles, purgeEach(st.DeleteBlob))
	e.OnPurge(store.SharePreso, p.Purge)
	return e, p
}

// purgeEach is a share.Purger removing each item of a share's snapshot with del.
func purgeEach(del func(id uint64) error) share.Purger {
	return func(sh store.Share) error {
		for _, id := range sh.Snapshot {
			if err := del(id); err != nil {
				return err
			}
		}
		return nil
	}
}

// serveRedirects serves plain HTTP on ln (ACME challenges and redirects to
// HTTPS) until ctx ends. Its answers are short: they have a second to finish.
func serveRedirects(ln net.Listener, handler http.Handler, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 30 * time.Second}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		select {
		case err := <-done:
			log.Error("plain HTTP (ACME challenges, redirects to HTTPS) stopped", "err", err)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}
	}
}

// logDelivery says which channels have no delivery configured.
func logDelivery(log *slog.Logger, email, sms bool) {
	var missing []string
	if !email {
		missing = append(missing, "email")
	}
	if !sms {
		missing = append(missing, "sms")
	}
	if len(missing) > 0 {
		log.Warn("delivery not configured: these messages stay in the outbox and are printed here", "not_configured", strings.Join(missing, ","))
	}
}

// runServer serves on ln until ctx ends or serving fails, running the
// background jobs beside it, and stops within timeout whatever clients do:
// requests in flight may finish until the deadline, then their connections
// are closed. The connections the server handed over (WebSockets), which it
// neither tracks nor waits for, are hangUp's to close (nil: none), while the
// requests finish; the stop ends as soon as both are done. It returns once
// the background jobs (told to stop) have returned, or timeout after it
// stopped serving if one will not.
func runServer(ctx context.Context, log *slog.Logger, srv *http.Server, ln net.Listener, timeout time.Duration, hangUp func(context.Context), jobs ...func(context.Context)) error {
	jobCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	var bg sync.WaitGroup
	for _, job := range jobs {
		bg.Go(func() { job(jobCtx) })
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
		log.Error("the server stopped serving", "err", serveErr)
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight", "timeout", timeout)
	}
	deadline := time.Now().Add(timeout)
	stopJobs()
	sctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	hungUp := make(chan struct{})
	go func() {
		defer close(hungUp)
		if hangUp != nil {
			hangUp(sctx)
		}
	}()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the deadline were cut", "err", err)
		_ = srv.Close()
	}
	<-hungUp
	done := make(chan struct{})
	go func() { bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		log.Warn("background work still running at the deadline was left behind")
	}
	return serveErr
}

// backupFile writes a copy of the data file, encrypted with the secret key
// as the off-site copies are (backup.Seal), to dest, or into dest when it
// is a directory (named as those copies are), while no server holds it.
func backupFile(cfg config, dest string) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	// A mistyped -data must not create an empty store and "back it up".
	if _, err := os.Stat(filepath.Join(cfg.data, store.FileName)); err != nil {
		return fmt.Errorf("no Foyer data in %s (no %s there): pass the data directory with -data", cfg.data, store.FileName)
	}
	st, err := openStore(cfg)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("a Foyer server is running on %s: stop it first, or use Settings → Download a backup", cfg.data)
	} else if err != nil {
		return err
	}
	defer st.Close()
	at := time.Now()
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		dest = filepath.Join(dest, backup.CopyName(at))
	}
	enc, n, err := backup.Seal(st)
	if err != nil {
		return err
	}
	defer enc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".foyer-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, enc); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return err
	}
	fmt.Printf("Backed up to %s (%s, encrypted with the secret key %s). To restore it, with Foyer stopped: foyer restore -from %s -data DIRECTORY -key-file secret.key\n",
		dest, humanSize(n), st.KeyID(), dest)
	fmt.Println(keyReminder(st))
	return nil
}

// keyReminder says that a copy of the data needs the secret key, and where it is.
func keyReminder(st *store.Store) string {
	where := "FOYER_SECRET_KEY, as given to this command"
	if f := st.KeyFile(); f != "" {
		where = f
	}
	return fmt.Sprintf("A restore needs the secret key %s as well: it is in %s (and on the recovery sheet, Settings → Secret key). Keep it apart from the backups.", st.KeyID(), where)
}

// resetPassword prints a one-time link (valid one hour) with which the staff
// member with this email chooses a new password: the way back in for an
// owner locked out of everything. It needs the data directory, so only
// someone on the server can use it. Two-step verification, if on, is still
// asked at sign-in.
func resetPassword(cfg config, email string, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	// The link is at the address the server answers: with the practice's
	// certificate alone, one of its names.
	if err := cfg.loadCertificate(); err != nil {
		return err
	}
	base, err := cfg.publicURL()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cfg.data, store.FileName)); err != nil {
		return fmt.Errorf("no Foyer data in %s: pass the data directory with -data", cfg.data)
	}
	st, err := openStore(cfg)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("a Foyer server is running on %s: stop it first, run this command, then start it again", cfg.data)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	sv, err := services(st, base, "", newLogger(cfg.logFormat, os.Stderr))
	if err != nil {
		return err
	}
	h, err := handlers.New(sv, handlers.Config{BaseURL: base}, newLogger(cfg.logFormat, os.Stderr), time.Now)
	if err != nil {
		return err
	}
	link, exp, err := h.StaffResetLink(email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no active staff account has the email %q", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Open this link within the hour (until %s) to choose a new password for %s; it works once:\n\n  %s\n",
		exp.Local().Format("15:04"), email, link)
	return nil
}

// verifyJournal checks the access journal's chain of the data directory (the
// server stopped, or a backup copied into a directory of its own) and says
// where it breaks, if it does.
func verifyJournal(cfg config, out io.Writer) error {
	if _, err := os.Stat(filepath.Join(cfg.data, store.FileName)); err != nil {
		return fmt.Errorf("no Foyer data in %s: pass the data directory with -data", cfg.data)
	}
	st, err := openStore(cfg)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("a Foyer server is running on %s: stop it first, or check the chain from the Journal page (Check the chain), or restore a backup into a directory of its own (foyer restore -from FILE -data DIR) and check that", cfg.data)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if up, ok := st.Upgraded(); ok && up.JournalHead.Signed {
		fmt.Fprintf(out, "This data file was written by an older Foyer: the journal's head record (entry %d) is signed from now on, as it stood.\n", up.JournalHead.Seq)
	}
	r, err := journal.Verify(st)
	var broken *journal.BrokenError
	if errors.As(err, &broken) {
		return fmt.Errorf("the access journal is broken at entry %d: %s", broken.Seq, problemText(broken.Problem))
	}
	if err != nil {
		return err
	}
	if r.Entries == 0 {
		fmt.Fprintf(out, "The access journal is intact: it holds no entry (%d older ones were purged).\n", r.Purged)
		return nil
	}
	if r.Entries == 1 {
		fmt.Fprintf(out, "The access journal is intact: 1 entry, number %d", r.First)
	} else {
		fmt.Fprintf(out, "The access journal is intact: %d entries, from %d to %d", r.Entries, r.First, r.Last)
	}
	if r.Purged > 0 {
		fmt.Fprintf(out, "; %d older ones were purged by the retention rule, and the anchor that stands for them is intact", r.Purged)
	}
	fmt.Fprintln(out, ".")
	return nil
}

// problemText says what a broken chain's problem means.
func problemText(p journal.Problem) string {
	switch p {
	case journal.Altered:
		return "its content was changed after it was written"
	case journal.Missing:
		return "an entry is missing before it, or it was moved"
	case journal.Unlinked:
		return "it does not follow from the entry before it"
	case journal.AnchorAltered:
		return "the record of purged entries was changed"
	case journal.Truncated:
		return "entries after it were removed"
	case journal.HeadAltered:
		return "the signed record of the journal's last entry is missing or was changed without the key: entries from this number on may have been removed"
	case journal.HeadWasAltered:
		return "when this entry was written, the signed record of the journal's last entry was missing or had been changed without the key: entries just before it may have been removed"
	}
	return string(p)
}
