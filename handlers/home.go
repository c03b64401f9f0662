package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// home is the staff start page.
func (h *Handler) home(c echo.Context) error {
	return h.render(c, http.StatusOK, "home", h.page(c, "nav.home"))
}
