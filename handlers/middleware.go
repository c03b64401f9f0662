package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/locales"
	"foyer/store"
)

// Context keys.
const (
	ctxSession = "session"
	ctxUser    = "user"
	ctxAccount = "account"
	ctxLoc     = "loc"
)

// HTMX request headers.
const (
	hxRequest  = "HX-Request"
	hxBoosted  = "HX-Boosted"
	hxRedirect = "HX-Redirect"
	// hxHistoryRestore comes with HX-Request when htmx rebuilds a page from
	// history it no longer has (Back after a search): it needs the whole page.
	hxHistoryRestore = "HX-History-Restore-Request"
)

// logRequests logs one line per request with the route pattern, never the raw
// path: a path can hold an invite or share token.
func (h *Handler) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		// Typed attributes: a line per request boxes no value.
		h.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
			slog.String("id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status),
			slog.Int64("ms", time.Since(start).Milliseconds()),
			slog.String("ip", c.RealIP()))
		return nil
	}
}

// cspPolicy is every page's Content-Security-Policy; the video room adds its WebSocket to connect-src.
const cspPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// fixedHeaders are the headers every response carries. The keys are in
// canonical form and the values are shared, read-only, by every response:
// setting them costs no allocation. A handler that needs another value
// (Header().Set) replaces the slice, and Add copies it (capacity = length).
var fixedHeaders = map[string][]string{
	"Content-Security-Policy":    {cspPolicy},
	"Referrer-Policy":            {"no-referrer"},
	"X-Content-Type-Options":     {"nosniff"},
	"X-Frame-Options":            {"DENY"},
	"Cross-Origin-Opener-Policy": {"same-origin"},
	"Permissions-Policy":         {"camera=(), microphone=(), geolocation=()"},
}

var hsts = []string{"max-age=31536000; includeSubDomains"}

// indexable are the pages a practice hands out or shows anyone, which a
// search engine may list: the client sign-in and sign-up, the information
// notice, the certificate check. Every other response (staff and portal
// pages, every page of a share link, downloads) asks not to be (noindex).
var indexable = map[string]bool{"/portal": true, "/portal/signup": true, "/privacy": true, "/verify": true}

var noindex = []string{"noindex"}

// securityHeaders sets the headers every response carries; camera and
// microphone stay off everywhere but the video room, which turns them on.
func (h *Handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		for k, v := range fixedHeaders {
			hd[k] = v[:1:1]
		}
		if !indexable[c.Request().URL.Path] {
			hd["X-Robots-Tag"] = noindex[:1:1]
		}
		if h.cfg.Secure() {
			hd["Strict-Transport-Security"] = hsts[:1:1]
		}
		return next(c)
	}
}

// setupGate sends every page to /setup until the owner exists, and hides /setup afterwards.
func (h *Handler) setupGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, setUp := h.currentPractice()
		path := c.Request().URL.Path
		open := path == "/healthz" || path == "/brand.css" || path == "/lang" || path == "/logo" || strings.HasPrefix(path, "/static/")
		switch {
		case !setUp && path != "/setup" && !open:
			return h.redirect(c, "/setup")
		case setUp && path == "/setup":
			return errNotFound
		}
		return next(c)
	}
}

// loadSession finds the session, the signed-in staff member and the language.
func (h *Handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Cacheable responses (static files, brand.css, the logo) must never
		// carry a Set-Cookie, which refreshing a session would add.
		if p := c.Request().URL.Path; strings.HasPrefix(p, "/static/") || p == "/healthz" || p == "/brand.css" || p == "/logo" {
			return next(c)
		}
		sess, err := h.sessions.New(c.Request(), h.sessions.name)
		if err != nil {
			return err
		}
		c.Set(ctxSession, sess)
		var user *store.Staff
		if id := parseID(str(sess.Values[sessUserID])); id != 0 {
			st, err := h.store.Staff(id)
			switch {
			case err == nil && st.Active:
				user = &st
				c.Set(ctxUser, user)
				h.touch(c, sess)
			case err == nil || errors.Is(err, store.ErrNotFound):
				// Deactivated or deleted: the session is over.
				sess.Options.MaxAge = -1
				_ = sess.Save(c.Request(), c.Response())
			default:
				return err
			}
		}
		var acct *store.Account
		if id := parseID(str(sess.Values[sessAccountID])); id != 0 {
			a, err := h.store.Account(id)
			switch {
			case err == nil && !a.Verified:
				// Only a session from before unconfirmed accounts were
				// refused at sign-in can get here: it ends.
				delete(sess.Values, sessAccountID)
				_ = sess.Save(c.Request(), c.Response())
			case err == nil:
				acct = &a
				c.Set(ctxAccount, acct)
				if user == nil {
					h.touch(c, sess)
				}
			case errors.Is(err, store.ErrNotFound):
				delete(sess.Values, sessAccountID)
				_ = sess.Save(c.Request(), c.Response())
			default:
				return err
			}
		}
		lang := h.language(c, user)
		if user == nil && acct != nil && !hasLangCookie(c) && locales.IsSupported(acct.Lang) {
			lang = acct.Lang
		}
		c.Set(ctxLoc, h.catalog.Get(lang))
		return next(c)
	}
}

// touch records activity at most once a minute, to keep the idle timeout
// honest without a write on every request; with a short idle timeout, as
// often as a quarter of it, so an active user is never taken for idle.
func (h *Handler) touch(c echo.Context, sess *sessions.Session) {
	every := min(time.Minute, h.cfg.IdleTimeout/4)
	seen, err := strconv.ParseInt(str(sess.Values[sessSeen]), 10, 64)
	if err == nil && h.now().Sub(time.Unix(0, seen)) > every {
		_ = sess.Save(c.Request(), c.Response())
	}
}

func hasLangCookie(c echo.Context) bool {
	v, ok := cookieValue(c.Request(), "foyer_lang")
	return ok && locales.IsSupported(v)
}

// language is the visitor's choice (cookie, then profile), else the browser's, else the practice's.
func (h *Handler) language(c echo.Context, user *store.Staff) string {
	if v, ok := cookieValue(c.Request(), "foyer_lang"); ok && locales.IsSupported(v) {
		return v
	}
	if user != nil && locales.IsSupported(user.Lang) {
		return user.Lang
	}
	if l := locales.Match(c.Request().Header.Get("Accept-Language")); l != "" {
		return l
	}
	p, _ := h.currentPractice()
	return p.DefaultLang
}

// audience is who may use a route.
type audience int

const (
	public audience = iota
	anyStaff
	adminOnly
	ownerOnly
	// portalAccount is any signed-in portal account, linked or not (it is verified: an unconfirmed one cannot sign in).
	portalAccount
	// portalClient is a verified portal account linked to a client record.
	portalClient
	// enrolling is any staff member, even one who must still turn on
	// two-step verification: the pages that turn it on.
	enrolling
)

// guard enforces a route's access level in one place.
func (h *Handler) guard(level audience, next echo.HandlerFunc) echo.HandlerFunc {
	if level == public {
		return next
	}
	if level == portalAccount || level == portalClient {
		return func(c echo.Context) error {
			acct := currentAccount(c)
			if acct == nil {
				return h.redirect(c, "/portal")
			}
			if level == portalClient && (!acct.Verified || acct.ClientID == 0) {
				return h.redirect(c, "/portal/account")
			}
			return next(c)
		}
	}
	return func(c echo.Context) error {
		user := currentUser(c)
		if user == nil {
			return h.redirect(c, "/signin")
		}
		p, _ := h.currentPractice()
		if p.Require2FA && !user.TOTPEnabled && level != enrolling {
			return h.redirect(c, "/account/2fa")
		}
		switch level {
		case adminOnly:
			if !access.IsAdmin(user.Role) {
				return errForbidden
			}
		case ownerOnly:
			if !access.IsOwner(user.Role) {
				return errForbidden
			}
		}
		return next(c)
	}
}

func currentUser(c echo.Context) *store.Staff {
	u, _ := c.Get(ctxUser).(*store.Staff)
	return u
}

func currentAccount(c echo.Context) *store.Account {
	a, _ := c.Get(ctxAccount).(*store.Account)
	return a
}

// staffViewer is the signed-in staff member as package access sees them.
func staffViewer(c echo.Context) access.Viewer {
	u := currentUser(c)
	if u == nil {
		return access.Viewer{}
	}
	return access.Staff(*u, c.RealIP())
}

// portalViewer is the signed-in portal account as package access sees it.
func portalViewer(c echo.Context) access.Viewer {
	a := currentAccount(c)
	if a == nil {
		return access.Viewer{}
	}
	return access.Portal(*a, c.RealIP())
}

// opOf is what a request does with the data it loads: a GET or HEAD reads,
// any other method changes.
func opOf(c echo.Context) access.Op {
	if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
		return access.Read
	}
	return access.Change
}

func currentSession(c echo.Context) *sessions.Session {
	s, _ := c.Get(ctxSession).(*sessions.Session)
	return s
}

func str(v any) string { s, _ := v.(string); return s }

// parseID reads an ID kept in a session, 0 when there is none (without the
// error value strconv would allocate for the empty string of every visitor).
func parseID(s string) uint64 {
	if s == "" {
		return 0
	}
	id, _ := strconv.ParseUint(s, 10, 64)
	return id
}

func isHTMX(c echo.Context) bool {
	hd := c.Request().Header
	return hd.Get(hxRequest) == "true" && hd.Get(hxBoosted) != "true" && hd.Get(hxHistoryRestore) != "true"
}

// redirect sends the browser elsewhere: a 303, or HX-Redirect for HTMX requests
// (a 303 would be followed by the XHR and swapped into the page).
func (h *Handler) redirect(c echo.Context, to string) error {
	if isHTMX(c) {
		c.Response().Header().Set(hxRedirect, to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
