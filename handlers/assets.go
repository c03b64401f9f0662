package handlers

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/locales"
	"foyer/store"
)

// healthz answers 200 when the store answers a read.
func (h *Handler) healthz(c echo.Context) error {
	if err := h.store.Ping(); err != nil {
		h.log.Error("health check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "store unavailable\n")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, "ok\n")
}

// staticFile serves an embedded file by its content-hashed name, cacheable forever.
func (h *Handler) staticFile(c echo.Context) error {
	a, ok := h.assets.ByHashed(c.Param("name"))
	if !ok {
		return errNotFound
	}
	return h.serveAsset(c, a)
}

// brandCSS turns the practice colour into CSS variables: the colour, a text
// colour readable on it, and a shade of it readable as link text on white.
func (h *Handler) brandCSS(c echo.Context) error {
	p, _ := h.currentPractice()
	r, g, b := parseHex(p.BrandColor)
	ink := "#ffffff"
	if contrast(luminance(r, g, b), 1) < 4.5 {
		ink = "#111111"
	}
	// Darken until links in the brand colour reach 4.5:1 on white.
	tr, tg, tb := r, g, b
	for i := 0; i < 20 && contrast(luminance(tr, tg, tb), 1) < 4.5; i++ {
		tr, tg, tb = tr*0.85, tg*0.85, tb*0.85
	}
	css := fmt.Sprintf(":root{--brand:%s;--brand-ink:%s;--brand-text:%s}\n", hexOf(r, g, b), ink, hexOf(tr, tg, tb))
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

func parseHex(s string) (r, g, b float64) {
	if len(s) != 7 {
		return 0x2f, 0x5d, 0x62
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 0x2f, 0x5d, 0x62
	}
	return float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)
}

func hexOf(r, g, b float64) string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(r)), int(math.Round(g)), int(math.Round(b)))
}

// luminance is the WCAG relative luminance of an sRGB colour.
func luminance(r, g, b float64) float64 {
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func contrast(l1, l2 float64) float64 {
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

func (h *Handler) setLangCookie(c echo.Context, lang string) {
	c.SetCookie(&http.Cookie{Name: "foyer_lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
}

// setLang remembers the visitor's language (and the staff member's) and goes back.
func (h *Handler) setLang(c echo.Context) error {
	lang := c.FormValue("lang")
	if !locales.IsSupported(lang) {
		return errBadRequest
	}
	h.setLangCookie(c, lang)
	if u := currentUser(c); u != nil {
		if _, err := h.store.UpdateStaff(u.ID, func(st *store.Staff) error { st.Lang = lang; return nil }); err != nil {
			return err
		}
	}
	return h.redirect(c, localPath(c.FormValue("next")))
}

// localPath returns next if it can only lead to a page of this site, else
// "/". It reads next as a browser would (WHATWG URL): tabs and newlines
// vanish anywhere, other control characters and spaces at the ends, and a
// backslash counts as a slash; so "/\t/evil.example", "/\\evil" and "https:evil" all
// leave the site, and are refused.
func localPath(next string) string {
	cleaned := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		if r == '\\' {
			return '/'
		}
		return r
	}, strings.TrimSpace(next))
	if !strings.HasPrefix(cleaned, "/") || strings.HasPrefix(cleaned, "//") {
		return "/"
	}
	u, err := url.Parse(cleaned)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
