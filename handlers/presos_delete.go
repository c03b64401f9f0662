package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"foyer/share"
	"foyer/store"
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
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	user := currentUser(c)
	all, err := h.presoShares(p.ID)
	if err != nil {
		return err
	}
	for _, sh := range all {
		if _, err := h.shares.Expire(sh.ID, store.ShareEvent{Recipient: -1, StaffID: user.ID}); err != nil && !errors.Is(err, share.ErrEnded) {
			return err
		}
	}
	if err := h.store.DeletePreso(p.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h.setFlash(c, "flash.preso.deleted")
	return h.redirect(c, "/presos")
}
