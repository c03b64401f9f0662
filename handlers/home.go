package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"foyer/store"
)

// home is the staff start page.
func (h *Handler) home(c echo.Context) error {
	pg := h.page(c, "nav.home")
	d := struct{ Prospects int }{}
	if isAdmin(currentUser(c)) {
		_, n, err := h.store.SearchProspects(store.ProspectFilter{Limit: 0})
		if err != nil {
			return err
		}
		d.Prospects = n
	}
	pg.Data = d
	return h.render(c, http.StatusOK, "home", pg)
}
