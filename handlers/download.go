package handlers

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
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
	attachment(c, name, contentType)
	h.serveContent(c, modtime, content)
	return nil
}

// attachment sets the headers of a download: its type, its name, and that
// it is neither kept in a cache nor sniffed.
func attachment(c echo.Context, name, contentType string) {
	hd := c.Response().Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
}

// serveContent is http.ServeContent (ranges, HEAD, conditional requests) with
// the moving write deadline of a long response: the server's WriteTimeout
// would otherwise cut a large file on a slow phone.
func (h *Handler) serveContent(c echo.Context, modtime time.Time, content io.ReadSeeker) {
	if c.Request().Header.Get("Range") != "" {
		if size, err := content.Seek(0, io.SeekEnd); err == nil {
			tameRange(c.Request(), size)
		}
		if _, err := content.Seek(0, io.SeekStart); err != nil {
			return
		}
	}
	http.ServeContent(h.longResponse(c), c.Request(), "", modtime, content)
}

// maxRanges is how many ranges one download may ask for.
const maxRanges = 8

// tameRange rewrites the Range header of a download before http.ServeContent
// reads it:
//   - more than maxRanges ranges, or ranges that overlap or go backwards: the
//     header is dropped and the whole file sent, as RFC 9110 allows.
//     ServeContent serves each range on its own, and each one may cost the
//     decryption of a 256 KiB chunk: 5,000 one-byte ranges cost seconds of CPU.
//     Download managers and media players ask for one range, or a few in order;
//   - a range ServeContent would answer with a malformed Content-Range (the
//     last 0 bytes; any range of an empty file) is unsatisfiable: 416 with
//     "bytes */size" when no other range is left;
//   - a last byte past what a number holds means "to the end" (RFC 9110),
//     where ServeContent answered 416.
func tameRange(req *http.Request, size int64) {
	spec, ok := strings.CutPrefix(req.Header.Get("Range"), "bytes=")
	if !ok {
		return // not bytes: ServeContent refuses it
	}
	ranges := strings.Split(spec, ",")
	if len(ranges) > maxRanges {
		req.Header.Del("Range")
		return
	}
	var kept []string
	end := int64(-1) // last byte of the previous range
	for _, r := range ranges {
		r = strings.TrimSpace(r)
		first, last, ok := strings.Cut(r, "-")
		if !ok {
			return // malformed: ServeContent answers 416
		}
		var start, stop int64
		var err error
		if first == "" { // the last n bytes
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n < 0 {
				return
			}
			if n == 0 || size == 0 {
				continue // unsatisfiable
			}
			start, stop = max(size-n, 0), size-1
		} else {
			if start, err = strconv.ParseInt(first, 10, 64); err != nil || start < 0 {
				return
			}
			stop = size - 1
			if last != "" {
				if stop, err = strconv.ParseInt(last, 10, 64); errors.Is(err, strconv.ErrRange) {
					stop, r = size-1, first+"-" // to the end
				} else if err != nil {
					return
				}
			}
			if start >= size {
				continue // unsatisfiable
			}
		}
		if start <= end {
			req.Header.Del("Range")
			return
		}
		end = max(stop, start)
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		// What ServeContent answers 416 with, and "Content-Range: bytes */size".
		kept = []string{strconv.FormatInt(size, 10) + "-"}
	}
	req.Header.Set("Range", "bytes="+strings.Join(kept, ","))
}

// longResponse wraps the response of a long download in a progressWriter.
func (h *Handler) longResponse(c echo.Context) *progressWriter {
	return &progressWriter{ResponseWriter: c.Response(), rc: http.NewResponseController(c.Response()), stall: h.stallTimeout}
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

// chunkCopier is a reader that writes its own pieces, whole (store.BlobReader:
// a decrypted chunk at a time, with no copy through a small buffer).
type chunkCopier interface {
	CopyTo(w io.Writer, n int64) (int64, error)
}

// ReadFrom is how http.ServeContent's copy reaches a chunkCopier: it copies
// through an io.LimitedReader, which hides the reader's own WriterTo.
func (w *progressWriter) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok {
		if cc, ok := lr.R.(chunkCopier); ok {
			n, err := cc.CopyTo(writeOnly{w}, lr.N)
			lr.N -= n
			return n, err
		}
	}
	return io.Copy(writeOnly{w}, src)
}

// writeOnly hides progressWriter's ReadFrom from io.Copy, which would call it again.
type writeOnly struct{ io.Writer }

// Unwrap lets http.ResponseController reach the connection beneath.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
