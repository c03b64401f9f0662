package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"foyer/views"
)

// A public page (portal sign-in, sign-up, a share landing) reads the same for
// every anonymous visitor who speaks one language, except for the CSRF token.
// Executing its template is most of the cost of serving it, so it is rendered
// once with a placeholder where the token goes, and each request writes the
// kept pieces around its own token.

// tokenPlaceholder stands for the CSRF token in a kept page. It is made of the
// token's own alphabet, so every template context escapes both the same way.
const tokenPlaceholder = "CSRFxTOKENxPLACEHOLDERxKEPTxPAGExxxxxxxxxxx"

// sharedKey names one kept page.
type sharedKey struct {
	page, path, lang, key string
	partial               bool
}

// sharedPages keeps rendered public pages until the practice settings change
// (name, logo, colour and the sign-up switch appear on them).
type sharedPages struct {
	mu    sync.RWMutex
	gen   uint64
	pages map[sharedKey][][]byte
}

// maxSharedPages bounds the cache: keys from share landings could otherwise grow without end.
const maxSharedPages = 512

func (s *sharedPages) get(k sharedKey) ([][]byte, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pages[k], s.gen
}

func (s *sharedPages) put(k sharedKey, gen uint64, parts [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return // the practice changed while this page was rendered
	}
	if s.pages == nil || len(s.pages) >= maxSharedPages {
		s.pages = map[sharedKey][][]byte{}
	}
	s.pages[k] = parts
}

// reset forgets every kept page; called after the practice settings are saved.
func (s *sharedPages) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.pages = nil
}

// isTokenSafe reports whether a token can replace the placeholder as is:
// only letters, digits, '-' and '_', which no template context escapes.
func isTokenSafe(t string) bool {
	for i := 0; i < len(t); i++ {
		switch b := t[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_':
		default:
			return false
		}
	}
	return true
}

// renderShared writes a page that is the same for every anonymous visitor of
// one language: from the kept copy when there is one, else rendered by build
// and kept. key names whatever else the page depends on beyond the practice
// settings (a share and its version, for a share landing). A signed-in visitor,
// a flash message or an unusual token get a fresh render.
func (h *Handler) renderShared(c echo.Context, name, key string, build func() *views.Page) error {
	token := h.csrfToken(c)
	if currentUser(c) != nil || currentAccount(c) != nil || hasFlash(c) || !isTokenSafe(token) {
		return h.render(c, http.StatusOK, name, build())
	}
	k := sharedKey{page: name, path: c.Request().URL.Path, lang: h.loc(c).Lang, key: key, partial: isHTMX(c)}
	parts, gen := h.shared.get(k)
	if parts == nil {
		pg := build()
		pg.CSRF = tokenPlaceholder
		var buf bytes.Buffer
		if err := h.views.Render(&buf, name, k.partial, pg); err != nil {
			return err
		}
		parts = bytes.Split(buf.Bytes(), []byte(tokenPlaceholder))
		h.shared.put(k, gen, parts)
	}
	size := (len(parts) - 1) * len(token)
	for _, p := range parts {
		size += len(p)
	}
	hd := c.Response().Header()
	pageHeaders(hd)
	hd[echo.HeaderContentType] = htmlType[:1:1]
	hd[echo.HeaderContentLength] = []string{strconv.Itoa(size)}
	w := c.Response()
	w.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	// One write of the whole page: each write goes through the middleware's
	// writers and the connection's buffer.
	buf := pageBufs.Get().(*bytes.Buffer)
	defer pageBufs.Put(buf)
	buf.Reset()
	buf.Grow(size)
	for i, p := range parts {
		if i > 0 {
			buf.WriteString(token)
		}
		buf.Write(p)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

var htmlType = []string{echo.MIMETextHTMLCharsetUTF8}

// pageBufs holds the buffers kept pages are put together in.
var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func hasFlash(c echo.Context) bool {
	_, ok := cookieValue(c.Request(), flashCookie)
	return ok
}
