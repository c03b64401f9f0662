package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/mail"
	"foyer/store"
	"foyer/views"
)

// staffResetTTL is how long a staff password reset link works.
const staffResetTTL = time.Hour

// checkEmailData is the "check your email" page: the address, and where "back" leads.
type checkEmailData struct{ Email, Back string }

func (h *Handler) staffForgotForm(c echo.Context) error {
	if currentUser(c) != nil {
		return h.redirect(c, "/account")
	}
	return h.render(c, http.StatusOK, "signin_forgot", h.page(c, "staff_forgot.title"))
}

// staffForgot mails a reset link to an active staff member, under the
// portal's rules: the same answer for every email, the work after the
// answer, limits per email and per address.
func (h *Handler) staffForgot(c echo.Context) error {
	return h.askByEmail(c, h.page(c, "staff_forgot.title"), "signin_forgot", "staff-forgot", limitForgot, "staff password reset", func(email string) error {
		st, err := h.store.StaffByEmail(email)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (!st.Active || st.Invited)) {
			// Nobody, a deactivated account or a pending invitation: no link.
			return nil
		} else if err != nil {
			return err
		}
		token, exp, err := h.newStaffReset(st)
		if err != nil {
			return err
		}
		return h.queue(&store.Message{Channel: store.ChannelEmail, To: st.Email, Lang: st.Lang, Kind: mail.StaffReset, Secret: token,
			Args: map[string]string{"Name": st.Name, "Expires": mail.TimeArg(exp)}, ExpiresAt: exp})
	}, h.page(c, "staff_forgot.sent_title"), "/signin")
}

// newStaffReset stores a fresh reset link for st (an hour, single use,
// replacing any earlier one) and returns its token.
func (h *Handler) newStaffReset(st store.Staff) (string, time.Time, error) {
	token := auth.NewToken()
	now := h.now().UTC()
	exp := now.Add(staffResetTTL)
	err := h.store.CreateInvite(token, store.Invite{StaffID: st.ID, Kind: store.StaffReset, CreatedAt: now, ExpiresAt: exp})
	return token, exp, err
}

// StaffResetLink makes a one-time reset link for the active staff member
// with this email, for the reset-password command run on the server.
func (h *Handler) StaffResetLink(email string) (string, time.Time, error) {
	st, err := h.store.StaffByEmail(email)
	if err != nil {
		return "", time.Time{}, err
	}
	if !st.Active || st.Invited {
		return "", time.Time{}, store.ErrNotFound
	}
	token, exp, err := h.newStaffReset(st)
	return h.link("/signin/reset/" + token), exp, err
}

func (h *Handler) staffResetPage(c echo.Context) (*views.Page, error) {
	if !h.limits.allow("token-ip:"+limitAddr(c), limitToken) {
		return nil, errTooMany
	}
	inv, err := h.store.PeekStaffToken(store.StaffReset, c.Param("token"), h.now())
	if err != nil {
		return nil, tokenError(err, "error.staff_reset_invalid")
	}
	pg := h.page(c, "reset.title")
	if st, err := h.store.Staff(inv.StaffID); err == nil {
		pg.Username = st.Email
	}
	pg.Data = struct{ Action string }{"/signin/reset/" + c.Param("token")}
	return pg, nil
}

// staffReset sets the new password and ends every session of the member;
// two-step verification, if on, is still asked at the next sign-in.
func (h *Handler) staffReset(c echo.Context) error {
	return h.setPasswordByLink(c, h.staffResetPage, "portal_reset", "/signin", func(hash string) error {
		st, err := h.store.UseStaffToken(store.StaffReset, c.Param("token"), h.now(), func(st *store.Staff) {
			if st.Active {
				st.PasswordHash = hash
			}
		})
		if err != nil {
			return tokenError(err, "error.staff_reset_invalid")
		}
		_, err = h.store.DeleteUserSessions(st.ID, "")
		return err
	})
}
