package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/mail"
	"foyer/store"
	"foyer/video"
	"foyer/views"
)

type myAccountData struct {
	Client     store.Client
	Phones     []phoneView
	Next       *apptView
	History    []apptView
	Receipts   []apptView
	PhoneRows  []int
	PhoneTypes []store.PhoneType
	// Shares are the documents shared with the client themself.
	Shares []docShareView
}

// portalAccount is the portal's home: "your practice will confirm your
// account", or My Account, depending on where the account stands. An
// unconfirmed account never gets this far: it cannot sign in.
func (h *Handler) portalAccount(c echo.Context) error {
	a := currentAccount(c)
	switch {
	case a.ClientID == 0:
		pg := h.portalPage(c, "portal.waiting_title")
		return h.render(c, http.StatusOK, "portal_waiting", pg)
	}
	pg, err := h.myAccountPage(c, *a)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "portal_account", pg)
}

// myAccountPage loads the signed-in client's own record and appointments only.
func (h *Handler) myAccountPage(c echo.Context, a store.Account) (*views.Page, error) {
	v := portalViewer(c)
	cl, err := h.access.Client(v, a.ClientID, opOf(c))
	if err != nil {
		return nil, accessErr(err)
	}
	appts, err := h.access.Appointments(v, cl)
	if err != nil {
		return nil, accessErr(err)
	}
	names, _, err := h.staffDirectory()
	if err != nil {
		return nil, err
	}
	p, _ := h.currentPractice()
	pg := h.portalPage(c, "portal.account_title")
	pg.Username = a.Email
	d := myAccountData{Client: cl, PhoneTypes: store.PhoneTypes}
	for i := range maxPhones {
		d.PhoneRows = append(d.PhoneRows, i)
	}
	now := h.now()
	for i := len(appts) - 1; i >= 0; i-- {
		v := h.apptView(pg, appts[i], names)
		d.History = append(d.History, v)
		if v.Paid {
			d.Receipts = append(d.Receipts, v)
		}
	}
	// The next session is the first one not over yet: a video session stays
	// "next" until its room closes, so the client can still join it late.
	w := h.window()
	for _, ap := range appts {
		upcoming := ap.Status == store.StatusBooked && ap.Start.After(now)
		if !upcoming && w.StateAt(ap, now) == video.Open {
			upcoming = true
		}
		if upcoming {
			v := h.apptView(pg, ap, names)
			v.Room = h.roomLinkFor(pg, ap, clientRoomURL(ap))
			d.Next = &v
			break
		}
	}
	for i, ph := range cl.Phones {
		d.Phones = append(d.Phones, phoneView{Phone: ph, Display: displayPhone(ph.Number, p.PhoneRegion)})
		pg.Form[fmt.Sprintf("phone_%d", i)] = displayPhone(ph.Number, p.PhoneRegion)
		pg.Form[fmt.Sprintf("phone_%d_type", i)] = string(ph.Type)
	}
	if d.Shares, err = h.shareViews(pg, v, cl.ID); err != nil {
		return nil, accessErr(err)
	}
	pg.Form["address"] = cl.Address
	pg.Form["lang"] = cl.Lang
	pg.Data = d
	return pg, nil
}

// updateMyDetails lets a client change their phones, address and language; name
// and email changes go through the practice.
func (h *Handler) updateMyDetails(c echo.Context) error {
	a := currentAccount(c)
	pg, err := h.myAccountPage(c, *a)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	cl := pg.Data.(myAccountData).Client
	h.readPhones(f, &cl)
	address := f.multiline("address", 500)
	lang := f.choice("lang", "fr", "en")
	if !f.ok() {
		return h.invalid(c, "portal_account", pg, f)
	}
	var added []string // mobiles new to the record, waiting for the practice
	saved, err := h.store.UpdateClient(a.ClientID, func(x *store.Client) error {
		store.KeepConfirmation(x.Phones, cl.Phones, true)
		added = added[:0]
		for _, ph := range cl.Phones {
			if ph.Unconfirmed && !slices.ContainsFunc(x.Phones, func(o store.Phone) bool { return o.Number == ph.Number }) {
				added = append(added, ph.Number)
			}
		}
		x.Phones, x.Address, x.Lang = cl.Phones, address, lang
		return nil
	})
	if err != nil {
		return err
	}
	if len(added) > 0 {
		h.noticePhonesAdded(saved, added)
	}
	if _, err := h.store.UpdateAccount(a.ID, func(x *store.Account) error { x.Lang = lang; return nil }); err != nil {
		return err
	}
	h.setLangCookie(c, lang)
	h.setFlash(c, "flash.saved")
	return h.redirect(c, "/portal/account")
}

// noticePhonesAdded tells the client's practitioner (staffFor) that the
// client added mobiles in the portal, which receive codes once confirmed.
func (h *Handler) noticePhonesAdded(cl store.Client, added []string) {
	all, err := h.store.ListStaff()
	if err != nil {
		h.log.Error("unable to find who hears of a phone change", "err", err)
		return
	}
	p, _ := h.currentPractice()
	shown := make([]string, len(added))
	for i, n := range added {
		shown[i] = displayPhone(n, p.PhoneRegion)
	}
	for _, st := range staffFor(all, cl.PractitionerID) {
		if err := h.queue(&store.Message{Channel: store.ChannelEmail, To: st.Email, Lang: st.Lang, Kind: mail.PhonesAdded,
			Args: map[string]string{"Staff": st.Name, "Name": cl.Name(), "Numbers": strings.Join(shown, ", "),
				"Path": urlFor(routeClient, cl.ID)}, ClientID: cl.ID}); err != nil {
			h.log.Error("unable to queue a phone change notice", "err", err)
		}
	}
}

// changeMyPassword needs the current password and ends the account's other sessions.
func (h *Handler) changeMyPassword(c echo.Context) error {
	a := currentAccount(c)
	pg, err := h.myAccountPage(c, *a)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	current := f.password("current")
	next := f.newPassword("new")
	if !f.ok() {
		return h.invalid(c, "portal_account", pg, f)
	}
	// Wrong current passwords are limited per account; a right one costs nothing.
	g, ok := h.limits.guess(limited("portal-password:"+strconv.FormatUint(a.ID, 10), limitWrongPasswords))
	if !ok {
		return h.tooMany(c, "portal_account", pg, f, "current")
	}
	if !auth.CheckPassword(a.PasswordHash, current) {
		f.fail("current", "account.wrong_password")
		return h.invalid(c, "portal_account", pg, f)
	}
	g.right()
	// Hashed before the write transaction: argon2 would hold every other writer.
	hash := auth.HashPassword(next)
	if _, err := h.store.UpdateAccount(a.ID, func(x *store.Account) error { x.PasswordHash, x.StaffPassword = hash, false; return nil }); err != nil {
		return err
	}
	if _, err := h.store.DeleteAccountSessions(a.ID, currentSession(c).ID); err != nil {
		return err
	}
	h.setFlash(c, "flash.password_changed")
	return h.redirect(c, "/portal/account")
}

// myReceipt serves a receipt of the signed-in client's own paid appointment, else 404.
func (h *Handler) myReceipt(c echo.Context) error {
	return h.receipt(c, portalViewer(c))
}
