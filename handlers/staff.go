package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/auth"
	"foyer/journal"
	"foyer/locales"
	"foyer/mail"
	"foyer/store"
	"foyer/video"
	"foyer/views"
)

// inviteTTL is how long an invitation link works.
const inviteTTL = 72 * time.Hour

type option struct{ Value, Label, Text string }

type staffData struct {
	Staff []store.Staff
	Roles []option
}

var inviteRoles = []option{{Value: "practitioner", Label: "role.practitioner"}, {Value: "admin", Label: "role.admin"}}

func (h *Handler) staffPage(c echo.Context) (*views.Page, error) {
	all, err := h.store.ListStaff()
	if err != nil {
		return nil, err
	}
	pg := h.page(c, "staff.title")
	pg.Data = staffData{Staff: all, Roles: inviteRoles}
	pg.Form["role"] = "practitioner"
	pg.Form["lang"] = pg.Lang
	return pg, nil
}

// inviteStaff creates an invited account and emails a one-time set-password link.
func (h *Handler) inviteStaff(c echo.Context) error {
	pg, err := h.staffPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	name := f.name("name", 100, true)
	email := f.email("email", true)
	role := f.choice("role", "practitioner", "admin")
	lang := f.choice("lang", locales.Supported...)
	if !f.ok() {
		return h.invalid(c, "staff", pg, f)
	}
	me := currentUser(c)
	if !h.limits.allow("invite:"+strconv.FormatUint(me.ID, 10), limitInvite) {
		return h.tooMany(c, "staff", pg, f, "_form")
	}
	st := &store.Staff{Name: name, Email: email, Role: store.Role(role), Lang: lang, Invited: true, CreatedAt: h.now().UTC()}
	if err := h.store.CreateStaff(st); errors.Is(err, store.ErrEmailTaken) {
		f.fail("email", "staff.email_taken")
		return h.invalid(c, "staff", pg, f)
	} else if err != nil {
		return err
	}
	if err := h.sendInvite(*st, me.Name); err != nil {
		return err
	}
	h.setFlash(c, "flash.invited")
	return h.redirect(c, "/staff")
}

// sendInvite makes a fresh invitation token and emails it in the invitee's language.
func (h *Handler) sendInvite(st store.Staff, inviter string) error {
	token := auth.NewToken()
	now := h.now().UTC()
	if err := h.store.CreateInvite(token, store.Invite{StaffID: st.ID, CreatedAt: now, ExpiresAt: now.Add(inviteTTL)}); err != nil {
		return err
	}
	return h.queue(&store.Message{Channel: store.ChannelEmail, To: st.Email, Lang: st.Lang, Kind: mail.Invite, Secret: token,
		Args:      map[string]string{"Name": st.Name, "Inviter": inviter, "Role": string(st.Role), "Expires": mail.TimeArg(now.Add(inviteTTL))},
		CreatedAt: now, ExpiresAt: now.Add(inviteTTL)})
}

// staffTarget loads the staff member an action is about; nobody acts on the owner or on themselves here.
func (h *Handler) staffTarget(c echo.Context) (store.Staff, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Staff{}, errNotFound
	}
	st, err := h.store.Staff(id)
	if errors.Is(err, store.ErrNotFound) {
		return st, errNotFound
	} else if err != nil {
		return st, err
	}
	// Nobody changes the owner's account here, nor their own.
	if access.IsOwner(st.Role) || st.ID == currentUser(c).ID {
		return st, errForbidden
	}
	return st, nil
}

// staffChanged answers an action on a row: the new row for HTMX, else back to the list.
func (h *Handler) staffChanged(c echo.Context, st store.Staff, flash string) error {
	if isHTMX(c) {
		return h.renderBlock(c, http.StatusOK, "staff", "staff_row", dict("P", h.page(c, "staff.title"), "S", st))
	}
	h.setFlash(c, flash)
	return h.redirect(c, "/staff")
}

func (h *Handler) changeRole(c echo.Context) error {
	target, err := h.staffTarget(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	role := f.choice("role", "practitioner", "admin")
	if !f.ok() {
		return errBadRequest
	}
	st, err := h.store.UpdateStaff(target.ID, func(st *store.Staff) error { st.Role = store.Role(role); return nil })
	if err != nil {
		return err
	}
	h.record(c, journal.Entry{Action: journal.RoleChange, ItemID: st.ID, Detail: role})
	return h.staffChanged(c, st, "flash.saved")
}

// deactivateStaff blocks the account, ends its sessions at once and voids
// its links: a pending invitation stops working too.
func (h *Handler) deactivateStaff(c echo.Context) error {
	target, err := h.staffTarget(c)
	if err != nil {
		return err
	}
	st, err := h.store.UpdateStaff(target.ID, func(st *store.Staff) error { st.Active = false; return nil })
	if err != nil {
		return err
	}
	if err := h.store.RevokeStaffTokens(st.ID); err != nil {
		return err
	}
	if _, err := h.store.DeleteUserSessions(st.ID, ""); err != nil {
		return err
	}
	h.rooms.EndPerson(video.StaffPerson(st.ID), video.ReasonSignedOut)
	h.record(c, journal.Entry{Action: journal.StaffDeactivate, ItemID: st.ID})
	return h.staffChanged(c, st, "flash.deactivated")
}

func (h *Handler) activateStaff(c echo.Context) error {
	target, err := h.staffTarget(c)
	if err != nil {
		return err
	}
	if target.Invited {
		return errForbidden
	}
	st, err := h.store.UpdateStaff(target.ID, func(st *store.Staff) error { st.Active = true; return nil })
	if err != nil {
		return err
	}
	h.record(c, journal.Entry{Action: journal.StaffActivate, ItemID: st.ID})
	return h.staffChanged(c, st, "flash.activated")
}

// reinviteStaff sends a new link to someone who has not accepted yet; the old link stops working.
func (h *Handler) reinviteStaff(c echo.Context) error {
	target, err := h.staffTarget(c)
	if err != nil {
		return err
	}
	if !target.Invited {
		return errForbidden
	}
	me := currentUser(c)
	if !h.limits.allow("invite:"+strconv.FormatUint(me.ID, 10), limitInvite) {
		return errTooMany
	}
	if err := h.sendInvite(target, me.Name); err != nil {
		return err
	}
	return h.staffChanged(c, target, "flash.invited")
}

// cancelInvitation withdraws an invitation not yet accepted: the link stops
// working and the person leaves the list (their email may be invited again).
func (h *Handler) cancelInvitation(c echo.Context) error {
	target, err := h.staffTarget(c)
	if err != nil {
		return err
	}
	if _, err := h.store.CancelInvitation(target.ID); errors.Is(err, store.ErrNotInvited) {
		return errForbidden
	} else if err != nil {
		return err
	}
	h.log.Info("invitation cancelled", "staff", target.ID, "by", currentUser(c).ID)
	if isHTMX(c) {
		// An empty answer swapped over the row removes it.
		return c.HTML(http.StatusOK, "")
	}
	h.setFlash(c, "flash.invitation_cancelled")
	return h.redirect(c, "/staff")
}

// staffDirectory is every staff member's name by ID, and the active ones as
// options for a practitioner select.
func (h *Handler) staffDirectory() (names map[uint64]string, active []option, err error) {
	all, err := h.store.ListStaff()
	if err != nil {
		return nil, nil, err
	}
	names = make(map[uint64]string, len(all))
	for _, st := range all {
		names[st.ID] = st.Name
		if st.Active {
			active = append(active, option{Value: strconv.FormatUint(st.ID, 10), Text: st.Name})
		}
	}
	return names, active, nil
}
