package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"foyer/store"
	"foyer/views"
)

type inviteData struct{ Name, Email, Action string }

// invitePage checks the link and loads who it is for. An unknown link and an
// expired one get their own localized pages.
func (h *Handler) invitePage(c echo.Context) (*views.Page, error) {
	if !h.limits.allow("token-ip:"+limitAddr(c), limitToken) {
		return nil, errTooMany
	}
	token := c.Param("token")
	inv, err := h.store.Invite(token, h.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, httpError(http.StatusNotFound, "error.invite_invalid")
	case errors.Is(err, store.ErrExpired):
		return nil, httpError(http.StatusGone, "error.invite_expired")
	case err != nil:
		return nil, err
	}
	st, err := h.store.Staff(inv.StaffID)
	if err != nil {
		return nil, httpError(http.StatusNotFound, "error.invite_invalid")
	}
	pg := h.page(c, "invite.title")
	pg.Username = st.Email
	pg.Data = inviteData{Name: st.Name, Email: st.Email, Action: "/invite/" + token}
	return pg, nil
}

// acceptInvite sets the password and activates the account; the link then stops working.
func (h *Handler) acceptInvite(c echo.Context) error {
	return h.setPasswordByLink(c, h.invitePage, "invite", "/signin", func(hash string) error {
		_, err := h.store.ConsumeInvite(c.Param("token"), h.now(), func(st *store.Staff) {
			st.PasswordHash, st.Active, st.Invited = hash, true, false
		})
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExpired) {
			return httpError(http.StatusGone, "error.invite_expired")
		}
		return err
	})
}
