package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/mail"
	"foyer/store"
	"foyer/views"
)

const prospectPageSize = 25

type prospectRow struct {
	store.Account
	Phone string
}

// prospectListRow is a row of the prospects list with its words: the
// template asking for them through reflection, about 20 calls a row, took
// more than half of the list's time. Its fields are its own, not embedded:
// a template looks a field up by name on every use, and an embedded one
// costs a walk through the embedding structs each time.
type prospectListRow struct {
	ID                  uint64
	Name, Email, Phone  string
	Verified            bool
	Select, Actions     string // the radio button's and the action bar's accessible names
	BirthDate, SignedUp string
}

// prospectLabels are the words every row of the prospects list repeats,
// looked up once a page.
type prospectLabels struct {
	Name, Email, Phone, BirthDate, SignedUp, Status string
	Verified, Unverified, Verify                    string
	Create, Associate, Delete                       string
}

func newProspectLabels(pg *views.Page) prospectLabels {
	return prospectLabels{Name: pg.T("clients.name"), Email: pg.T("clients.email"), Phone: pg.T("clients.phone"),
		BirthDate: pg.T("clients.birth_date"), SignedUp: pg.T("prospects.signed_up"), Status: pg.T("prospects.status"),
		Verified: pg.T("prospects.verified"), Unverified: pg.T("prospects.unverified"), Verify: pg.T("prospects.verify"),
		Create: pg.T("prospects.create"), Associate: pg.T("prospects.associate"), Delete: pg.T("prospects.delete")}
}

func (h *Handler) prospectListRow(pg *views.Page, a store.Account) prospectListRow {
	name := a.Name()
	r := prospectListRow{ID: a.ID, Name: name, Email: a.Email, Phone: h.prospectRow(a).Phone, Verified: a.Verified,
		BirthDate: "—", SignedUp: pg.Date(a.CreatedAt),
		Select: pg.T("prospects.select_one", "Name", name), Actions: pg.T("prospects.actions_for", "Name", name)}
	if a.SignUp.BirthDate != "" {
		r.BirthDate = pg.DateOnly(a.SignUp.BirthDate)
	}
	return r
}

type prospectsData struct {
	Prospects  []prospectListRow
	Labels     prospectLabels
	Query      string
	Verified   string
	Total      int
	Prev, Next string
	First      string
	Filters    []option
}

var prospectFilters = []option{{Value: "", Label: "prospects.filter_all"}, {Value: "yes", Label: "prospects.filter_verified"}, {Value: "no", Label: "prospects.filter_unverified"}}

func (h *Handler) prospectRow(a store.Account) prospectRow {
	p, _ := h.currentPractice()
	r := prospectRow{Account: a}
	if a.SignUp.Phone != "" {
		r.Phone = displayPhone(a.SignUp.Phone, p.PhoneRegion)
	}
	return r
}

// prospectList lists portal accounts not linked to a client, with search and a verified filter.
func (h *Handler) prospectList(c echo.Context) error {
	q := c.QueryParam("q")
	if len(q) > 200 {
		q = q[:200]
	}
	verified := c.QueryParam("verified")
	if verified != "yes" && verified != "no" {
		verified = ""
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	found, total, err := h.store.SearchProspects(store.ProspectFilter{Query: store.ParseQuery(q), Verified: verified, Offset: (page - 1) * prospectPageSize, Limit: prospectPageSize})
	if err != nil {
		return err
	}
	pg := h.page(c, "prospects.title")
	d := prospectsData{Query: q, Verified: verified, Total: total, Filters: prospectFilters, Labels: newProspectLabels(pg)}
	for _, a := range found {
		d.Prospects = append(d.Prospects, h.prospectListRow(pg, a))
	}
	link := func(n int) string {
		return fmt.Sprintf("/prospects?page=%d&q=%s&verified=%s", n, url.QueryEscape(q), verified)
	}
	if page > 1 {
		d.Prev = link(min(page-1, max(1, (total+prospectPageSize-1)/prospectPageSize)))
	}
	d.First = link(1)
	if page*prospectPageSize < total {
		d.Next = link(page + 1)
	}
	pg.Data = d
	pg.Form["verified"] = verified
	if isHTMX(c) && c.Request().Header.Get("HX-Target") == "prospect-results" {
		return h.renderBlock(c, http.StatusOK, "prospects", "prospect_results", pg)
	}
	return h.render(c, http.StatusOK, "prospects", pg)
}

// prospectID is the prospect of the route, 0 when the ID is malformed.
func prospectID(c echo.Context) uint64 {
	id, _ := strconv.ParseUint(c.Param("id"), 10, 64)
	return id
}

// loadProspect loads an account that is still a prospect.
func (h *Handler) loadProspect(id uint64) (store.Account, error) {
	if id == 0 {
		return store.Account{}, errNotFound
	}
	a, err := h.store.Account(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.ClientID != 0) {
		return a, errNotFound
	}
	return a, err
}

// verifyProspect marks the account's email verified by staff; HTMX gets the row back.
func (h *Handler) verifyProspect(c echo.Context) error {
	a, err := h.loadProspect(prospectID(c))
	if err != nil {
		return err
	}
	a, err = h.store.UpdateAccount(a.ID, func(x *store.Account) error {
		if !x.Verified {
			x.Verified, x.VerifiedBy = true, "staff"
		}
		return nil
	})
	if err != nil {
		return err
	}
	if isHTMX(c) {
		pg := h.page(c, "prospects.title")
		return h.renderBlock(c, http.StatusOK, "prospects", "prospect_row", dict("P", pg, "A", h.prospectListRow(pg, a), "L", newProspectLabels(pg)))
	}
	h.setFlash(c, "flash.prospect_verified")
	return h.redirect(c, "/prospects")
}

// prospectAction opens the dialog for the action chosen in the action bar.
func (h *Handler) prospectAction(c echo.Context) error {
	params, err := c.FormParams()
	if err != nil {
		return errBadRequest
	}
	ids := params["id"]
	if len(ids) != 1 {
		h.setFlash(c, "flash.choose_one")
		return h.redirect(c, "/prospects")
	}
	id, err := strconv.ParseUint(ids[0], 10, 64)
	if err != nil {
		return errNotFound
	}
	// With HTMX the dialog opens over the list; without, its page opens.
	d, ok := prospectDialogs[c.FormValue("do")]
	if !ok {
		return errBadRequest
	}
	if isHTMX(c) {
		return d.open(h, c, id)
	}
	return h.redirect(c, urlFor(d.route, id))
}

// prospectDialogs are the actions of the prospects' action bar: the route
// of each one's page, and what opens it over the list.
var prospectDialogs = map[string]struct {
	route string
	open  func(h *Handler, c echo.Context, id uint64) error
}{
	"create":    {routeProspectCreate, (*Handler).prospectClientDialog},
	"associate": {routeProspectAssociate, func(h *Handler, c echo.Context, id uint64) error { return h.associateDialog(c, id, "") }},
	"delete":    {routeProspectDelete, (*Handler).deleteProspectDialog},
}

// prospectClientForm is the "Add client" page of the route's prospect.
func (h *Handler) prospectClientForm(c echo.Context) error {
	return h.prospectClientDialog(c, prospectID(c))
}

// prospectClientDialog is the "Add client" dialog, filled from the sign-up.
func (h *Handler) prospectClientDialog(c echo.Context, id uint64) error {
	a, err := h.loadProspect(id)
	if err != nil {
		return err
	}
	cl := store.Client{FirstName: a.SignUp.FirstName, LastName: a.SignUp.LastName, Email: a.Email, Lang: a.Lang, BirthDate: a.SignUp.BirthDate, PractitionerID: currentUser(c).ID}
	if a.SignUp.Phone != "" {
		_, mobile, _ := parsePhone(a.SignUp.Phone, "")
		typ := store.PhoneOther
		if mobile {
			typ = store.PhoneMobile
		}
		cl.Phones = []store.Phone{{Type: typ, Number: a.SignUp.Phone, Mobile: mobile}}
	}
	pg, err := h.clientFormPage(c, cl, urlFor(routeProspectCreate, a.ID), "/prospects")
	if err != nil {
		return err
	}
	pg.Title = "prospects.create_title"
	d := pg.Data.(clientFormData)
	row := h.prospectRow(a)
	d.Dialog, d.Prospect = true, &row
	pg.Data = d
	return h.render(c, http.StatusOK, "client_form", pg)
}

// createClientFromProspect saves the new client and links the account in one transaction.
func (h *Handler) createClientFromProspect(c echo.Context) error {
	a, err := h.loadProspect(prospectID(c))
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	var cl store.Client
	h.readClient(c, f, &cl)
	if !f.ok() {
		pg, err := h.clientFormPage(c, cl, urlFor(routeProspectCreate, a.ID), "/prospects")
		if err != nil {
			return err
		}
		pg.Title = "prospects.create_title"
		d := pg.Data.(clientFormData)
		row := h.prospectRow(a)
		d.Dialog, d.Prospect = true, &row
		pg.Data = d
		return h.invalid(c, "client_form", pg, f)
	}
	cl.CreatedAt = h.now().UTC()
	err = h.store.CreateClientForAccount(&cl, a.ID)
	switch {
	case errors.Is(err, store.ErrAlreadyLinked):
		return errNotFound
	case errors.Is(err, store.ErrNotVerified):
		h.setFlash(c, "flash.prospect_unverified")
		return h.redirect(c, "/prospects")
	case err != nil:
		return err
	}
	if err := h.tellLinked(a, cl.ID); err != nil {
		return err
	}
	h.setFlash(c, "flash.prospect_linked")
	return h.redirect(c, urlFor(routeClient, cl.ID))
}

type associateData struct {
	Prospect    prospectRow
	Suggestions []clientRow
	Results     []clientRow
	Query       string
	Searched    bool
}

func (h *Handler) clientRows(list []store.Client) []clientRow {
	p, _ := h.currentPractice()
	var out []clientRow
	for _, cl := range list {
		r := clientRow{Client: cl}
		if len(cl.Phones) > 0 {
			r.Phone = displayPhone(cl.Phones[0].Number, p.PhoneRegion)
		}
		out = append(out, r)
	}
	return out
}

// associatePage is the "Link to a client" page of the route's prospect.
func (h *Handler) associatePage(c echo.Context) error {
	return h.associateDialog(c, prospectID(c), c.QueryParam("q"))
}

// associateDialog suggests likely clients first (same email, phone, or name
// and date of birth), and searches all clients by name for q.
func (h *Handler) associateDialog(c echo.Context, id uint64, q string) error {
	a, err := h.loadProspect(id)
	if err != nil {
		return err
	}
	if len(q) > 200 {
		q = q[:200]
	}
	d := associateData{Prospect: h.prospectRow(a), Query: q}
	sugg, err := h.store.MatchClients(a.Email, a.SignUp.Phone, a.SignUp.FirstName, a.SignUp.LastName, a.SignUp.BirthDate, 5)
	if err != nil {
		return err
	}
	d.Suggestions = h.clientRows(sugg)
	if pq := store.ParseQuery(q); !pq.Empty() {
		found, _, err := h.access.SearchClients(staffViewer(c), store.ClientFilter{Query: pq, Limit: 10})
		if err != nil {
			return err
		}
		d.Results, d.Searched = h.clientRows(found), true
	}
	pg := h.page(c, "prospects.associate_title")
	pg.Data = d
	if isHTMX(c) && c.Request().Header.Get("HX-Target") == "assoc-results" {
		return h.renderBlock(c, http.StatusOK, "prospect_associate", "assoc_results", pg)
	}
	return h.render(c, http.StatusOK, "prospect_associate", pg)
}

// associateProspect links the account to an existing client.
func (h *Handler) associateProspect(c echo.Context) error {
	a, err := h.loadProspect(prospectID(c))
	if err != nil {
		return err
	}
	cid, err := strconv.ParseUint(c.FormValue("client_id"), 10, 64)
	if err != nil {
		return errBadRequest
	}
	err = h.store.LinkAccount(a.ID, cid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	case errors.Is(err, store.ErrAlreadyLinked):
		h.setFlash(c, "flash.client_has_account")
		return h.redirect(c, urlFor(routeProspectAssociate, a.ID))
	case errors.Is(err, store.ErrNotVerified):
		h.setFlash(c, "flash.prospect_unverified")
		return h.redirect(c, "/prospects")
	case err != nil:
		return err
	}
	if err := h.tellLinked(a, cid); err != nil {
		return err
	}
	h.setFlash(c, "flash.prospect_linked")
	return h.redirect(c, urlFor(routeClient, cid))
}

// tellLinked emails a person whose sign-up the practice has just linked to
// client record clientID: their portal now shows their appointments and receipts.
func (h *Handler) tellLinked(a store.Account, clientID uint64) error {
	return h.queue(&store.Message{Channel: store.ChannelEmail, To: a.Email, Lang: a.Lang, Kind: mail.PortalLinked,
		Args: map[string]string{"FirstName": a.SignUp.FirstName}, ClientID: clientID, AccountID: a.ID})
}

// deleteProspectPage is the delete page of the route's prospect.
func (h *Handler) deleteProspectPage(c echo.Context) error {
	return h.deleteProspectDialog(c, prospectID(c))
}

// deleteProspectDialog asks before deleting a sign-up the practice does not want.
func (h *Handler) deleteProspectDialog(c echo.Context, id uint64) error {
	a, err := h.loadProspect(id)
	if err != nil {
		return err
	}
	pg := h.page(c, "prospects.delete_title")
	pg.Data = h.prospectRow(a)
	return h.render(c, http.StatusOK, "prospect_delete", pg)
}

// deleteProspect deletes the sign-up: its account, pending links and sessions.
func (h *Handler) deleteProspect(c echo.Context) error {
	a, err := h.loadProspect(prospectID(c))
	if err != nil {
		return err
	}
	if _, err := h.store.DeleteProspect(a.ID); errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	h.log.Info("prospect deleted", "account", a.ID, "by", currentUser(c).ID)
	h.setFlash(c, "flash.prospect_deleted")
	return h.redirect(c, "/prospects")
}
