package handlers

import (
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// defaultStallTimeout is how long a long response may wait for the client to
// take more of it before the connection is cut.
const defaultStallTimeout = 30 * time.Second

// serveDownload sends content as an attachment named name, with its
// Content-Length, ranges and safe headers. It suits long responses: the
// write deadline moves forward with every piece the client takes, so a slow
// phone gets a large file while a client that stops reading is cut off after
// the stall timeout instead of holding the request (and shutdown) forever.
//
// content must not hold a store transaction open: give it a snapshot file
// (Store.BackupSnapshot) or a reader that opens one short transaction per chunk
// (Store.OpenBlob), never a reader inside db.View.
func (h *Handler) serveDownload(c echo.Context, name, contentType string, modtime time.Time, content io.ReadSeeker) error {
	hd := c.Response().Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w := &progressWriter{ResponseWriter: c.Response(), rc: http.NewResponseController(c.Response()), stall: h.stallTimeout}
	http.ServeContent(w, c.Request(), name, modtime, content)
	return nil
}

// progressWriter pushes the connection's write deadline forward before each
// write: the deadline measures a stall, not the whole download.
type progressWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (w *progressWriter) Write(p []byte) (int, error) {
	// Fails only where there is no connection (a test recorder): nothing to bound then.
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.stall))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection beneath.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
