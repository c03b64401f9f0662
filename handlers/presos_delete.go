package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// confirmDeletePreso asks before a preso is deleted (a plain page: no JavaScript needed).
func (h *Handler) confirmDeletePreso(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	pg := h.page(c, "preso.delete_title")
	pg.Data = p
	return h.render(c, http.StatusOK, "preso_delete", pg)
}

// deletePreso expires every link of the preso, so a client holding one is
// told it no longer works, then removes the preso, its slides and images.
func (h *Handler) deletePreso(c echo.Context) error {
	if err := h.presos.Delete(editor(c), presoID(c)); err != nil {
		return presoError(err)
	}
	h.setFlash(c, "flash.preso.deleted")
	return h.redirect(c, "/presos")
}
