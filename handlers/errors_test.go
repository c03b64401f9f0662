package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// goneError is an error of another package that knows its HTTP status.
type goneError struct{}

func (goneError) Error() string   { return "gone elsewhere" }
func (goneError) StatusCode() int { return http.StatusGone }

// The error page takes its status from any error with a StatusCode, however
// wrapped, and from echo's own errors; anything else is a 500.
func TestErrorPagesReadTheStatusThroughAnInterface(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"Foyer's error", errNotFound, http.StatusNotFound, "Page not found"},
		{"wrapped", fmt.Errorf("loading: %w", errNotFound), http.StatusNotFound, "Page not found"},
		{"with its message", httpError(http.StatusConflict, "error.appt_has_receipt"), http.StatusConflict, "This appointment has a receipt"},
		{"another package's", fmt.Errorf("x: %w", goneError{}), http.StatusGone, "No longer available"},
		{"echo's", echo.ErrMethodNotAllowed, http.StatusMethodNotAllowed, "Not possible here"},
		{"a message that is not an error page", httpError(http.StatusForbidden, "nav.home"), http.StatusForbidden, "Not allowed"},
		{"anything else", errors.New("disk on fire"), http.StatusInternalServerError, "Something went wrong on our side"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/clients/1", nil)
		req.Header.Set("Accept-Language", "en")
		a.h.handleError(tc.err, a.e.NewContext(req, rec))
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.status)
		}
		mustContain(t, &resp{ResponseRecorder: rec, body: rec.Body.String()}, tc.want)
	}
	// And through the whole app: a route that does not exist.
	if r := a.browser().get("/no/such/page"); r.Code != http.StatusNotFound {
		t.Errorf("no such route: %d", r.Code)
	}
}
