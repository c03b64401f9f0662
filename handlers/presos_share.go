package handlers

import (
	"github.com/labstack/echo/v4"

	"foyer/store"
)

// shareView is the preso's sharing box: its live share, if any, and whether
// the preso changed since the share's snapshot.
type shareView struct {
	OutOfDate bool
}

// presoShareView reads the preso's current share. Sharing comes with the share
// engine; until then a preso has no share.
func (h *Handler) presoShareView(_ echo.Context, _ store.Preso) (*shareView, error) {
	return nil, nil
}
