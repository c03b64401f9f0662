package handlers

import (
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// defaultBodyLimit bounds every request body unless its route sets its own.
const defaultBodyLimit = 3 << 20

// bodyLimits are the routes ("METHOD /path" as in routes) whose bodies may be
// larger than defaultBodyLimit: uploads. Such a route's body is also read
// under a moving deadline (see bodyLimit), so a phone may take minutes to
// send 50 MiB as long as it keeps sending.
var bodyLimits = map[string]int64{
	// Wide enough for maxShareFiles files of any FOYER_MAX_UPLOAD; createShare
	// applies the configured limit.
	http.MethodPost + " " + shareUploadRoute: 1 << 40,
	// A signing certificate to check, with its .p7s.
	http.MethodPost + " /verify": verifyBodyLimit,
}

// bodyLimit refuses a body larger than its route allows (413 before reading
// when Content-Length says so, an error on reading otherwise).
func (h *Handler) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit, large := bodyLimits[r.Method+" "+c.Path()]
		if !large {
			limit = defaultBodyLimit
		}
		if r.ContentLength > limit {
			return errTooLarge
		}
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		var body io.ReadCloser = http.MaxBytesReader(c.Response(), r.Body, limit)
		if large {
			body = &progressReader{ReadCloser: body, rc: http.NewResponseController(c.Response()), stall: h.stallTimeout}
		}
		r.Body = body
		return next(c)
	}
}

// progressReader pushes the connection's read deadline forward before each
// read: the server's ReadTimeout would cut a long upload, while a stall of
// the stall timeout still ends it.
type progressReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
}

func (r *progressReader) Read(p []byte) (int, error) {
	_ = r.rc.SetReadDeadline(time.Now().Add(r.stall))
	return r.ReadCloser.Read(p)
}
