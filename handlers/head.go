package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// headRoutes answers HEAD on every GET route of the table that has no HEAD
// of its own, with the same handler and guard: monitors and link checkers
// ask with HEAD, and a 405 tells them the page is broken. net/http sends
// the headers the handler sets and drops its body for a HEAD request (and
// counts its length when the handler gives none). Downloads keep their own
// HEAD routes, which answer without reading the file.
func (h *Handler) headRoutes(e *echo.Echo) {
	own := map[string]bool{}
	for _, r := range routes {
		if r.method == http.MethodHead {
			own[r.path] = true
		}
	}
	for _, r := range routes {
		if r.method == http.MethodGet && !own[r.path] {
			e.Add(http.MethodHead, r.path, h.guard(r.level, r.handle(h)))
		}
	}
}
