package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/auth"
	"foyer/journal"
	"foyer/mail"
	"foyer/share"
	"foyer/store"
	"foyer/video"
	"foyer/views"
)

const (
	clientPageSize = 25
	maxPhones      = 3
)

// isAdmin reports whether a staff member sees every client (owners and admins do).
func isAdmin(u *store.Staff) bool { return u != nil && access.IsAdmin(u.Role) }

// loadClient loads the client of the route for the signed-in staff member
// (access.Policy.Client), or 404: a practitioner cannot even learn that
// another practitioner's client exists.
func (h *Handler) loadClient(c echo.Context, param string) (store.Client, error) {
	id, err := strconv.ParseUint(c.Param(param), 10, 64)
	if err != nil {
		return store.Client{}, errNotFound
	}
	cl, err := h.access.Client(staffViewer(c), id, opOf(c))
	return cl, accessErr(err)
}

type clientListData struct {
	Clients  []clientListRow
	Query    string
	Archived bool
	Total    int
	Page     int
	Prev     string
	Next     string
	First    string
}

type clientRow struct {
	store.Client
	Phone string
}

// clientListRow is a row of the client list. Its fields are its own, not an
// embedded store.Client: a template looks a field up by name on every use,
// an embedded one through the embedding struct each time.
type clientListRow struct {
	ID, AccountID                     uint64
	LastName, FirstName, Email, Phone string
}

// clientList is the client list with search-as-you-type; HTMX asks for the results alone.
func (h *Handler) clientList(c echo.Context) error {
	q := c.QueryParam("q")
	if len(q) > 200 {
		q = q[:200]
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	archived := c.QueryParam("archived") == "1"
	f := store.ClientFilter{Query: store.ParseQuery(q), Archived: archived, Offset: (page - 1) * clientPageSize, Limit: clientPageSize}
	found, total, err := h.access.SearchClients(staffViewer(c), f)
	if err != nil {
		return err
	}
	p, _ := h.currentPractice()
	d := clientListData{Query: q, Archived: archived, Total: total, Page: page}
	for _, cl := range found {
		row := clientListRow{ID: cl.ID, AccountID: cl.AccountID, LastName: cl.LastName, FirstName: cl.FirstName, Email: cl.Email}
		if len(cl.Phones) > 0 {
			row.Phone = displayPhone(cl.Phones[0].Number, p.PhoneRegion)
		}
		d.Clients = append(d.Clients, row)
	}
	link := func(n int) string {
		v := "/clients?page=" + strconv.Itoa(n) + "&q=" + url.QueryEscape(q)
		if archived {
			v += "&archived=1"
		}
		return v
	}
	if page > 1 {
		// Past the last page (an old bookmark), "previous" leads to the last one.
		d.Prev = link(min(page-1, max(1, (total+clientPageSize-1)/clientPageSize)))
	}
	d.First = link(1)
	if page*clientPageSize < total {
		d.Next = link(page + 1)
	}
	pg := h.page(c, "clients.title")
	pg.Data = d
	if isHTMX(c) && c.Request().Header.Get("HX-Target") == "client-results" {
		return h.renderBlock(c, http.StatusOK, "clients", "client_results", pg)
	}
	return h.render(c, http.StatusOK, "clients", pg)
}

type clientFormData struct {
	Client        store.Client
	Action        string
	Practitioners []option
	PhoneTypes    []store.PhoneType
	PhoneRows     []int
	Cancel        string
	// Dialog is true when the form opens over the prospects list.
	Dialog bool
	// Prospect is the sign-up the record is made from, if any: the dialog
	// shows whether its email is confirmed.
	Prospect *prospectRow
}

// clientFormPage prepares the new/edit form, filled from cl.
func (h *Handler) clientFormPage(c echo.Context, cl store.Client, action, cancel string) (*views.Page, error) {
	pg := h.page(c, "clients.new")
	if cl.ID != 0 {
		pg.Title = "clients.edit"
	}
	d := clientFormData{Client: cl, Action: action, PhoneTypes: store.PhoneTypes, Cancel: cancel}
	for i := range maxPhones {
		d.PhoneRows = append(d.PhoneRows, i)
	}
	if staffViewer(c).IsAdmin() {
		var err error
		if _, d.Practitioners, err = h.staffDirectory(); err != nil {
			return nil, err
		}
	}
	pg.Data = d
	p, _ := h.currentPractice()
	pg.Form = map[string]string{"first_name": cl.FirstName, "last_name": cl.LastName, "email": cl.Email, "lang": cl.Lang,
		"birth_date": cl.BirthDate, "address": cl.Address, "notes": cl.Notes, "practitioner": strconv.FormatUint(cl.PractitionerID, 10)}
	for i, ph := range cl.Phones {
		pg.Form[fmt.Sprintf("phone_%d", i)] = displayPhone(ph.Number, p.PhoneRegion)
		pg.Form[fmt.Sprintf("phone_%d_type", i)] = string(ph.Type)
	}
	return pg, nil
}

func (h *Handler) newClientForm(c echo.Context) error {
	p, _ := h.currentPractice()
	pg, err := h.clientFormPage(c, store.Client{Lang: p.DefaultLang, PractitionerID: currentUser(c).ID}, "/clients", "/clients")
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "client_form", pg)
}

// readClient validates the client form into cl; the caller checks f.ok().
func (h *Handler) readClient(c echo.Context, f *form, cl *store.Client) {
	cl.FirstName = f.name("first_name", 100, true)
	cl.LastName = f.name("last_name", 100, true)
	cl.Email = f.email("email", false)
	cl.Lang = f.choice("lang", "fr", "en")
	cl.BirthDate = f.birthDate("birth_date", h.now())
	cl.Address = f.multiline("address", 500)
	cl.Notes = f.multiline("notes", 5000)
	h.readPhones(f, cl)
	// Owners and admins choose the practitioner; a practitioner's new client is theirs.
	if v := staffViewer(c); v.IsAdmin() {
		cl.PractitionerID = h.readPractitioner(f)
	} else if cl.PractitionerID == 0 {
		cl.PractitionerID = v.StaffID
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (h *Handler) createClient(c echo.Context) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	var cl store.Client
	h.readClient(c, f, &cl)
	if !f.ok() {
		pg, err := h.clientFormPage(c, cl, "/clients", "/clients")
		if err != nil {
			return err
		}
		return h.invalid(c, "client_form", pg, f)
	}
	cl.CreatedAt = h.now().UTC()
	if err := h.store.CreateClient(&cl); err != nil {
		cl.ID = 0 // given by the write refused: the form is still the new client's
		return h.keepTyped(c, err, "client_form", f, func() (*views.Page, error) { return h.clientFormPage(c, cl, "/clients", "/clients") })
	}
	h.record(c, journal.Entry{ClientID: cl.ID, Action: journal.RecordChange})
	h.setFlash(c, "flash.client_created")
	return h.redirect(c, urlFor(routeClient, cl.ID))
}

func (h *Handler) editClientForm(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	path := urlFor(routeClient, cl.ID)
	pg, err := h.clientFormPage(c, cl, path, path)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "client_form", pg)
}

// updateClient saves the form; on a bad field nothing is saved and the form comes back as typed.
func (h *Handler) updateClient(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	edited := cl
	h.readClient(c, f, &edited)
	path := urlFor(routeClient, cl.ID)
	if !f.ok() {
		pg, err := h.clientFormPage(c, edited, path, path)
		if err != nil {
			return err
		}
		return h.invalid(c, "client_form", pg, f)
	}
	if _, err := h.store.UpdateClient(cl.ID, func(x *store.Client) error {
		x.FirstName, x.LastName, x.Email, x.Lang, x.BirthDate = edited.FirstName, edited.LastName, edited.Email, edited.Lang, edited.BirthDate
		store.KeepConfirmation(x.Phones, edited.Phones, false)
		x.Address, x.Notes, x.Phones, x.PractitionerID = edited.Address, edited.Notes, edited.Phones, edited.PractitionerID
		return nil
	}); err != nil {
		return h.keepTyped(c, err, "client_form", f, func() (*views.Page, error) { return h.clientFormPage(c, edited, path, path) })
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, path)
}

// confirmPhone is staff confirming a mobile the client added in the portal:
// from then on it receives security codes.
func (h *Handler) confirmPhone(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	number := c.FormValue("number")
	if _, err := h.store.UpdateClient(cl.ID, func(x *store.Client) error {
		for i := range x.Phones {
			if x.Phones[i].Number == number {
				x.Phones[i].Unconfirmed = false
				return nil
			}
		}
		return store.ErrNotFound
	}); errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	h.setFlash(c, "flash.phone_confirmed")
	return h.redirect(c, urlFor(routeClient, cl.ID))
}

// archiveClient archives the client: their portal access, sessions and document links end.
func (h *Handler) archiveClient(c echo.Context) error { return h.setArchived(c, true) }

// restoreClient brings an archived client back; what archiving ended stays ended.
func (h *Handler) restoreClient(c echo.Context) error { return h.setArchived(c, false) }

func (h *Handler) setArchived(c echo.Context, archive bool) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	// Archiving also ends the client's portal access and sessions.
	if _, err := h.store.ArchiveClient(cl.ID, archive); err != nil {
		return err
	}
	if archive {
		h.rooms.EndPerson(video.ClientPerson(cl.ID), video.ReasonRemoved)
		if err := h.endClientShares(cl.ID, currentUser(c).ID); err != nil {
			return err
		}
		h.setFlash(c, "flash.client_archived")
	} else {
		h.setFlash(c, "flash.client_restored")
	}
	return h.redirect(c, urlFor(routeClient, cl.ID))
}

type phoneView struct {
	store.Phone
	Display string
}

type clientData struct {
	Client       store.Client
	Phones       []phoneView
	Practitioner string
	Account      *store.Account
	// ReplacesSignUp is the client's email when an unconfirmed sign-up holds
	// it: giving portal access with it replaces that sign-up.
	ReplacesSignUp string
	// LinkProspect is where to link the prospect holding the portal email
	// typed to this client, once that was refused.
	LinkProspect  string
	PortalURL     string
	Appointments  []apptView
	Practitioners []option
	Kinds         []option
	Durations     []option
	// Presos are the presos this client is a contact of, those the user may open.
	Presos []store.Preso
	// Shares are the documents shared from this record, newest first.
	Shares []docShareView
	// Extend lists the days Extend offers; ExtendDays is the one chosen
	// unless staff pick another: the practice's link lifetime.
	Extend     []int
	ExtendDays int
}

// clientPage gathers a client record's page: details, portal account, appointments.
func (h *Handler) clientPage(c echo.Context, cl store.Client) (*views.Page, error) {
	p, _ := h.currentPractice()
	pg := h.page(c, "clients.record")
	d := clientData{Client: cl, PortalURL: h.link("/portal"), Kinds: apptKinds, Durations: durations}
	for _, ph := range cl.Phones {
		d.Phones = append(d.Phones, phoneView{Phone: ph, Display: displayPhone(ph.Number, p.PhoneRegion)})
	}
	names, active, err := h.staffDirectory()
	if err != nil {
		return nil, err
	}
	d.Practitioners = active
	d.Practitioner = names[cl.PractitionerID]
	if cl.AccountID != 0 {
		a, err := h.store.Account(cl.AccountID)
		if err != nil {
			return nil, err
		}
		d.Account = &a
		pg.Form["portal_email"] = a.Email
	} else {
		pg.Form["portal_email"] = cl.Email
		// Said before staff save: giving access replaces that sign-up.
		if other, err := h.store.AccountByEmail(cl.Email); err == nil && other.Unconfirmed() {
			d.ReplacesSignUp = other.Email
		}
	}
	me := staffViewer(c)
	appts, err := h.access.Appointments(me, cl)
	if err != nil {
		return nil, accessErr(err)
	}
	for i := len(appts) - 1; i >= 0; i-- {
		v := h.apptView(pg, appts[i], names)
		if access.MayJoinRoom(me, v.Appointment, cl) {
			v.Room = h.roomLinkFor(pg, v.Appointment, staffRoomURL(v.Appointment))
		}
		v.VideoLog = videoLog(pg, v.Video, cl.FirstName+" "+cl.LastName, names[v.PractitionerID])
		d.Appointments = append(d.Appointments, v)
	}
	if d.Presos, err = h.clientPresos(c, cl.ID); err != nil {
		return nil, accessErr(err)
	}
	lifetime, _ := h.shareSettings()
	d.Extend, d.ExtendDays = share.ExtendChoices(lifetime), int(lifetime/(24*time.Hour))
	if d.Shares, err = h.shareViews(pg, me, cl.ID); err != nil {
		return nil, accessErr(err)
	}
	pg.Form["minutes"] = "50"
	pg.Form["kind"] = string(store.KindInPerson)
	pg.Form["practitioner"] = strconv.FormatUint(cl.PractitionerID, 10)
	pg.Data = d
	return pg, nil
}

func (h *Handler) showClient(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	pg, err := h.clientPage(c, cl)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "client", pg)
}

// setPortalAccess sets the client's portal email and a starting password (method 1).
func (h *Handler) setPortalAccess(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	pg, err := h.clientPage(c, cl)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	email := f.email("portal_email", true)
	password := f.newPassword("portal_password")
	if cl.Archived {
		// An archived client has no portal access: restore them first.
		f.fail("portal_email", "clients.portal_archived")
	}
	if !f.ok() {
		return h.invalid(c, "client", pg, f)
	}
	acct, replaced, err := h.store.SetClientCredentials(cl.ID, email, auth.HashPassword(password), cl.Lang)
	var prospect *store.ProspectHoldsEmailError
	switch {
	case errors.As(err, &prospect):
		// A sign-up waiting under Prospects: linking it there is what staff
		// mean to do, which owners and admins may.
		if isAdmin(currentUser(c)) {
			f.fail("portal_email", "clients.portal_email_prospect")
			d := pg.Data.(clientData)
			d.LinkProspect = urlFor(routeProspectAssociate, prospect.AccountID) + "?q=" + url.QueryEscape(cl.FirstName+" "+cl.LastName)
			pg.Data = d
		} else {
			f.fail("portal_email", "clients.portal_email_prospect_ask")
		}
		return h.invalid(c, "client", pg, f)
	case errors.Is(err, store.ErrEmailTaken):
		f.fail("portal_email", "clients.portal_email_taken")
		return h.invalid(c, "client", pg, f)
	case err != nil:
		return err
	}
	// A password set by staff ends the sessions the client had with the old one.
	if _, err := h.store.DeleteAccountSessions(acct.ID, ""); err != nil {
		return err
	}
	// The client learns where to sign in; the password travels another way, from staff.
	if err := h.queue(&store.Message{Channel: store.ChannelEmail, To: acct.Email, Lang: cl.Lang, Kind: mail.PortalAccess,
		Args: map[string]string{"FirstName": cl.FirstName}, ClientID: cl.ID, AccountID: acct.ID}); err != nil {
		return err
	}
	if replaced {
		h.log.Info("unconfirmed sign-up replaced by portal access", "client", cl.ID, "by", currentUser(c).ID)
		h.setFlash(c, "flash.portal_saved_replaced")
	} else {
		h.setFlash(c, "flash.portal_saved")
	}
	return h.redirect(c, urlFor(routeClient, cl.ID)+"#portal")
}

// removePortalAccess deletes the client's portal account, its links and its
// sessions; staff may give access again later.
func (h *Handler) removePortalAccess(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.store.RemovePortalAccess(cl.ID); errors.Is(err, store.ErrNotFound) {
		return h.redirect(c, urlFor(routeClient, cl.ID)+"#portal")
	} else if err != nil {
		return err
	}
	h.rooms.EndPerson(video.ClientPerson(cl.ID), video.ReasonRemoved)
	h.log.Info("portal access removed", "client", cl.ID, "by", currentUser(c).ID)
	h.setFlash(c, "flash.portal_removed")
	return h.redirect(c, urlFor(routeClient, cl.ID)+"#portal")
}

// readPhones reads the phone rows of a form into cl.Phones, in E.164.
func (h *Handler) readPhones(f *form, cl *store.Client) {
	p, _ := h.currentPractice()
	cl.Phones = nil
	types := []string{}
	for _, t := range store.PhoneTypes {
		types = append(types, string(t))
	}
	for i := range maxPhones {
		name := fmt.Sprintf("phone_%d", i)
		raw := f.text(name, 40, false)
		typ := f.text(name+"_type", 20, false)
		if raw == "" {
			continue
		}
		if !contains(types, typ) {
			f.fail(name, "form.choice_invalid")
			continue
		}
		e164, mobile, ok := parsePhone(raw, p.PhoneRegion)
		switch {
		case !ok:
			f.fail(name, "clients.phone_invalid")
		case typ == string(store.PhoneMobile) && !mobile:
			f.fail(name, "clients.phone_not_mobile")
		default:
			cl.Phones = append(cl.Phones, store.Phone{Type: store.PhoneType(typ), Number: e164, Mobile: mobile})
		}
	}
}

// readPractitioner reads the practitioner select: an active staff member's ID.
func (h *Handler) readPractitioner(f *form) uint64 {
	pid := f.id("practitioner", true)
	if pid != 0 {
		if st, err := h.store.Staff(pid); err != nil || !st.Active {
			f.fail("practitioner", "form.choice_invalid")
		}
	}
	return pid
}
