package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/store"
	"foyer/views"
)

// Error is what a handler returns to answer with an error page: an HTTP
// status and the message ID the page shows ("error.appt_has_receipt"; ""
// for the status's own). The central error handler reads the status through
// StatusCode, never through a web framework's type, so the framework can
// change without turning every 404 into a 500.
type Error struct {
	Status  int
	Message string
	// Action, when set, is the path of what to do next; the page links to
	// it with the message Message+".action" ("ask for a new link").
	Action string
}

func (e *Error) Error() string {
	return "handlers: " + strconv.Itoa(e.Status) + " " + e.Message
}

// StatusCode is the HTTP status the error answers with.
func (e *Error) StatusCode() int { return e.Status }

// MessageID is the ID of the message the error page shows, "" for the status's own.
func (e *Error) MessageID() string { return e.Message }

// ActionPath is the path the error page links to as what to do next, "" for none.
func (e *Error) ActionPath() string { return e.Action }

// httpError is an Error with status and the message of ID message.
func httpError(status int, message string) *Error { return &Error{Status: status, Message: message} }

// The common answers.
var (
	errNotFound   = httpError(http.StatusNotFound, "")
	errForbidden  = httpError(http.StatusForbidden, "")
	errBadRequest = httpError(http.StatusBadRequest, "")
	errTooLarge   = httpError(http.StatusRequestEntityTooLarge, "")
	errTooMany    = httpError(http.StatusTooManyRequests, "")
)

// accessErr answers data the access policy did not find, or refused, as 404.
func accessErr(err error) error {
	if errors.Is(err, access.ErrNotFound) {
		return errNotFound
	}
	return err
}

// statusOf is the HTTP status and message ID an error answers with: those
// of an error with a StatusCode (and a MessageID), else 500.
func statusOf(err error) (status int, message string) {
	// A write the disk had no room for: said plainly, not as a bug.
	if errors.Is(err, store.ErrDiskFull) {
		return http.StatusInsufficientStorage, "error.disk_full"
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		var m interface{ MessageID() string }
		if errors.As(err, &m) {
			message = m.MessageID()
		}
		return sc.StatusCode(), pageKey(message)
	}
	// Echo v4's own errors (no route, wrong method, its middleware) carry
	// their status in a field; this is the one place that knows them. Echo
	// v5's have a StatusCode method, and this branch goes.
	var he *echo.HTTPError
	if errors.As(err, &he) {
		s, _ := he.Message.(string)
		return he.Code, pageKey(s)
	}
	return http.StatusInternalServerError, ""
}

// pageKey keeps a message ID that names an error page ("error.…"), else "".
func pageKey(id string) string {
	if strings.HasPrefix(id, "error.") {
		return id
	}
	return ""
}

// keepTyped answers a form whose save the disk refused for want of space:
// the same form again (built by page), with what was typed and the message
// above it, and 507. Any other error goes on to the central handler.
func (h *Handler) keepTyped(c echo.Context, err error, name string, f *form, page func() (*views.Page, error)) error {
	if !errors.Is(err, store.ErrDiskFull) {
		return err
	}
	h.log.Error("not saved: the disk is full", "route", c.Path(), "err", err)
	pg, perr := page()
	if perr != nil {
		return errors.Join(err, perr)
	}
	if len(f.errs) == 0 {
		f.fail("_form", "error.disk_full.form")
	}
	pg.Form, pg.Errors, pg.ErrArgs = f.vals, f.errs, f.args
	return h.render(c, http.StatusInsufficientStorage, name, pg)
}
