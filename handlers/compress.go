package handlers

import (
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/static"
)

// serveAsset sends an embedded file, gzip-compressed when the browser takes
// gzip and the file compresses (stylesheets, scripts, the icon): htmx alone
// goes from 51 KB to 17 KB. Pages are never compressed: they carry a CSRF
// token and sometimes a secret, and compression beside text an attacker
// can inject would let them guess it byte by byte (BREACH). Brotli would
// save 10–20% more (2.8 KB of a staff page's 24.6 KB of gzipped
// stylesheet and scripts), once a year per browser since they are cached
// as immutable, for 0.8 MB more in the binary: not worth it.
func (h *Handler) serveAsset(c echo.Context, a *static.Asset) error {
	hd := c.Response().Header()
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	body := a.Data
	if gz := a.Gzipped(); gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
			hd.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, mime.TypeByExtension(path.Ext(a.Name)), body)
}

// favicon sends browsers and tools that ask for /favicon.ico (before or
// without reading a page's icon link) to the icon itself.
func (h *Handler) favicon(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Redirect(http.StatusMovedPermanently, h.assets.Path("favicon.svg"))
}

// robotsTxt lets crawlers fetch only the pages a practice hands out, the
// ones without noindex: the rest are private pages, sign-ins and share links,
// and a crawler following a link posted somewhere public must not open it
// (an "anyone" link would count it as a visitor).
func (h *Handler) robotsTxt(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.String(http.StatusOK, robotsBody)
}

const robotsBody = "User-agent: *\nDisallow: /\nAllow: /portal$\nAllow: /portal/signup$\nAllow: /privacy$\nAllow: /verify$\n"

// acceptsGzip reads Accept-Encoding: gzip with a quality above zero, or
// else * with one.
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
