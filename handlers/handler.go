// Package handlers is Foyer's HTTP layer: every route, its middleware and its
// handlers. Echo stays inside this package (and main.go).
package handlers

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"foyer/access"
	"foyer/backup"
	"foyer/certificate"
	"foyer/delivery"
	"foyer/journal"
	"foyer/locales"
	"foyer/mail"
	"foyer/preso"
	"foyer/privacy"
	"foyer/share"
	"foyer/static"
	"foyer/store"
	"foyer/video"
	"foyer/views"
)

// Config is what the operator sets.
type Config struct {
	// BaseURL is the public address used in links sent by email.
	BaseURL *url.URL
	// IdleTimeout ends a session after this long without a request.
	IdleTimeout time.Duration
	// SessionLifetime ends a session this long after sign-in, whatever happens.
	SessionLifetime time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// ICEServers are the STUN/TURN servers browsers use for video sessions.
	ICEServers []video.ICEServer
	// TURN is the embedded TURN server, nil unless FOYER_TURN_ADDR is set.
	TURN *video.TURN
	// MaxUpload is the largest file a document share accepts (DefaultMaxUpload when 0).
	MaxUpload int64
	// Backups takes the off-site backups; nil when none are set up.
	Backups *backup.Backups
}

// Services are the parts of Foyer main builds and the handlers use.
type Services struct {
	Store *store.Store
	// Outbox is the delivery worker, nil for a command that sends nothing.
	Outbox *delivery.Worker
	// Mail writes messages (the Outbox page, previews) and composes share messages.
	Mail *mail.Mailer
	// Shares runs share links: presos are its "preso" kind, documents its "files" kind.
	Shares *share.Engine
	// Presos holds the rules of presos, shared through Shares.
	Presos *preso.Service
	// Certificates issues and checks signing certificates.
	Certificates *certificate.Service
	Catalog      *locales.Catalog
	// Access decides who may see a client's data, and tells its journal;
	// nil is a policy that tells no one.
	Access *access.Policy
	// Journal is the access journal; Privacy erases, exports and applies
	// the retention rule, journaling into it.
	Journal *journal.Journal
	Privacy *privacy.Service
}

// Secure reports whether Foyer is served over https (Secure cookies, HSTS).
func (c Config) Secure() bool { return c.BaseURL != nil && c.BaseURL.Scheme == "https" }

// Handler holds what every handler needs.
type Handler struct {
	store    *store.Store
	views    *views.Engine
	catalog  *locales.Catalog
	assets   *static.Assets
	sessions *SessionStore
	outbox   *delivery.Worker
	mail     *mail.Mailer
	// shares runs share links (package share): presos are its "preso" kind, documents its "files" kind.
	shares *share.Engine
	// presos holds the rules of presos (package preso).
	presos *preso.Service
	// certs issues and checks signing certificates (package certificate).
	certs *certificate.Service
	// access decides who may see a client's data: every loader of a client's data asks it.
	access *access.Policy
	// journal records who read or changed what (see journal.go).
	journal *journal.Journal
	privacy *privacy.Service
	cfg     Config
	log     *slog.Logger
	// now is the clock; tests move it instead of sleeping.
	now func() time.Time

	// shared keeps public pages rendered once per language (see shared.go).
	shared sharedPages

	limits *limits
	// crossOrigin refuses unsafe requests from other sites (see csrf.go).
	crossOrigin *http.CrossOriginProtection
	// stallTimeout cuts a long response whose client stops reading (see serveDownload).
	stallTimeout time.Duration
	// rooms are the open video rooms; sockets counts their WebSockets, which
	// the HTTP server does not wait for (see HangUp).
	rooms   *video.Hub
	sockets sync.WaitGroup

	// spawn runs work that must happen after the answer (tests replace it);
	// bg counts that work so Wait can let it finish.
	spawn func(func())
	bg    sync.WaitGroup

	// sleep waits d or until ctx ends (the sign-in delay); tests replace it.
	sleep func(ctx context.Context, d time.Duration)

	// pdfSlots holds a token per PDF being drawn (see writePDF).
	pdfSlots chan struct{}

	// practice caches the settings every page reads; refreshed on save.
	mu       sync.RWMutex
	practice store.Practice
	location *time.Location
	setUp    bool
}

// New builds the handler over the services main built and parses every page
// template: one that does not parse stops the start (the messages and the
// emails are parsed at start too, by locales.Load and views.NewMail).
func New(sv Services, cfg Config, log *slog.Logger, now func() time.Time) (*Handler, error) {
	if sv.Store == nil || sv.Mail == nil || sv.Shares == nil || sv.Presos == nil || sv.Certificates == nil || sv.Catalog == nil || sv.Journal == nil || sv.Privacy == nil {
		return nil, errors.New("handlers: a service is missing")
	}
	s := sv.Store
	assets := static.Load()
	eng, err := views.New(template.FuncMap{"asset": assets.Path, "dict": dict, "inc": func(i int) int { return i + 1 }, "add": func(a, b int) int { return a + b }, "mul": func(a, b int) int { return a * b }, "hasPrefix": strings.HasPrefix, "slideImage": slideImageURL})
	if err != nil {
		return nil, err
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.BaseURL == nil {
		cfg.BaseURL, _ = url.Parse("http://localhost:8080")
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	h := &Handler{store: s, views: eng, catalog: sv.Catalog, assets: assets, outbox: sv.Outbox, mail: sv.Mail, shares: sv.Shares, presos: sv.Presos, certs: sv.Certificates, journal: sv.Journal, privacy: sv.Privacy, cfg: cfg, log: log, now: now, limits: newLimits(now), stallTimeout: defaultStallTimeout, rooms: video.NewHub(now, cfg.TURN)}
	h.spawn = func(fn func()) { go fn() }
	h.sleep = func(ctx context.Context, d time.Duration) {
		if d <= 0 {
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	h.access = sv.Access
	if h.access == nil {
		h.access = access.New(s, nil, now)
	}
	h.pdfSlots = make(chan struct{}, max(1, runtime.NumCPU()))
	h.sessions = newSessionStore(s, cfg, now)
	h.crossOrigin = http.NewCrossOriginProtection()
	// Behind a proxy that rewrites Host, the public address is still this site.
	_ = h.crossOrigin.AddTrustedOrigin(cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host)
	if err := h.reloadPractice(); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Handler) reloadPractice() error {
	p, err := h.store.Practice()
	if err != nil {
		return err
	}
	has, err := h.store.HasStaff()
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	h.mu.Lock()
	h.practice, h.location, h.setUp = p, loc, has
	h.mu.Unlock()
	h.shared.reset()
	return nil
}

func (h *Handler) currentPractice() (store.Practice, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.practice, h.setUp
}

// zone is the practice time zone.
func (h *Handler) zone() *time.Location {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.location
}

// link makes an absolute URL under the public base URL.
func (h *Handler) link(path string) string {
	return strings.TrimRight(h.cfg.BaseURL.String(), "/") + path
}

// dict builds a map for passing several values to a template.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

// later runs fn after the response, off the request path: its time must not
// show in the answer (a look-up that finds an account, then writes, takes
// longer than one that finds nothing). Errors are logged.
func (h *Handler) later(what string, fn func() error) {
	h.bg.Add(1)
	h.spawn(func() {
		defer h.bg.Done()
		if err := fn(); err != nil {
			h.log.Error("background work failed", "what", what, "err", err)
		}
	})
}

// Wait waits for the work requests left to do after their answer.
func (h *Handler) Wait() { h.bg.Wait() }
