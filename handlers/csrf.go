package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"foyer/auth"
)

// CSRF protection has two layers. The standard library's
// http.CrossOriginProtection refuses unsafe requests a browser marks as
// coming from another site (Sec-Fetch-Site, else Origin). Then every unsafe
// request must carry a token that is an HMAC of what the request is bound
// to: the session's ID when the visitor has a session, or else a random
// value kept in a cookie for that browser (set when a page first needs a
// token, never stored on the server, so an anonymous GET costs no write).
// A token from another session, or a bare cookie value, is refused.
//
// The token travels in the X-CSRF-Token header (htmx adds it to every
// request) or in the _csrf form field. For multipart bodies (uploads) it is
// read from the header or the URL's _csrf parameter, never from the body:
// finding it must not mean reading megabytes first.

const ctxCSRFAnon = "csrf_anon"

func (h *Handler) csrfCookieName() string {
	if h.cfg.Secure() {
		return "__Host-foyer_csrf"
	}
	return "foyer_csrf"
}

// csrfBinding is what the request's token is bound to; with create, a
// browser with neither session nor binding cookie gets a binding cookie.
func (h *Handler) csrfBinding(c echo.Context, create bool) string {
	if sess := currentSession(c); sess != nil && sess.ID != "" {
		return "s:" + sess.ID
	}
	// A session that ended (idle) still names the browser until it is replaced.
	if v, ok := cookieValue(c.Request(), h.sessions.name); ok && len(v) == 43 {
		return "s:" + v
	}
	if v, ok := c.Get(ctxCSRFAnon).(string); ok {
		return "a:" + v
	}
	if v, ok := cookieValue(c.Request(), h.csrfCookieName()); ok && len(v) == 43 {
		return "a:" + v
	}
	if !create {
		return ""
	}
	v := auth.NewToken()
	c.Set(ctxCSRFAnon, v)
	c.SetCookie(&http.Cookie{Name: h.csrfCookieName(), Value: v, Path: "/", HttpOnly: true,
		Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
	return "a:" + v
}

func (h *Handler) csrfFor(binding string) string {
	var b [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(h.store.HashTo(b[:0], "csrf\x00", binding))
}

// csrfToken is the token pages put in their forms and in htmx's headers.
func (h *Handler) csrfToken(c echo.Context) string { return h.csrfFor(h.csrfBinding(c, true)) }

// csrf checks every unsafe request.
func (h *Handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if err := h.crossOrigin.Check(c.Request()); err != nil {
			return httpError(http.StatusForbidden, "error.csrf")
		}
		sent := c.Request().Header.Get("X-CSRF-Token")
		if sent == "" {
			if isMultipart(c.Request()) {
				sent = c.QueryParam("_csrf")
			} else {
				sent = c.FormValue("_csrf")
			}
		}
		binding := h.csrfBinding(c, false)
		if binding == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(h.csrfFor(binding))) != 1 {
			return httpError(http.StatusForbidden, "error.csrf")
		}
		return next(c)
	}
}

func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}
