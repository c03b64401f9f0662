package handlers

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/certificate"
	"foyer/journal"
	"foyer/markdown"
	"foyer/preso"
	"foyer/store"
	"foyer/views"
)

// Presos: slide presentations a practitioner prepares for their clients
// and shares with a link. This file is the staff side: making and editing.

const (
	maxPresoTitle = 120
	maxSlideTitle = 160
	maxSlideImage = 2 << 20
	maxSlideSide  = 6000
	// slideImageSide is the largest side an image is kept at: wider than
	// any screen a slide is shown on, and it keeps stored images small.
	slideImageSide = 2560
	contactResults = 10
)

// editor is the signed-in staff member as presos know them.
func editor(c echo.Context) preso.Editor {
	u := currentUser(c)
	return preso.Editor{ID: u.ID, Admin: isAdmin(u)}
}

// presoID is the preso ID of the route; 0 when malformed (no preso has it).
func presoID(c echo.Context) uint64 {
	id, _ := strconv.ParseUint(c.Param("id"), 10, 64)
	return id
}

// presoError is the answer to an error of the preso domain.
func presoError(err error) error {
	switch {
	case errors.Is(err, preso.ErrNotFound):
		return errNotFound
	case errors.Is(err, preso.ErrTooManySlides):
		return httpError(http.StatusUnprocessableEntity, "error.preso_too_many_slides")
	case errors.Is(err, preso.ErrOrderChanged):
		return httpError(http.StatusConflict, "error.preso_stale")
	case errors.Is(err, preso.ErrNotColleague):
		return httpError(http.StatusUnprocessableEntity, "error.bad_request")
	}
	return err
}

// loadPreso loads the preso of the route, or 404 when the user may not open
// it (preso.MayEdit): a practitioner cannot learn that another's preso
// exists. The use is journaled for each of its contacts.
func (h *Handler) loadPreso(c echo.Context) (store.Preso, error) {
	p, err := h.loadPresoQuietly(c)
	if err != nil {
		return p, err
	}
	for _, cid := range p.ContactIDs {
		h.recordAccess(c, cid, journal.PresoRead, journal.PresoChange, p.ID)
	}
	return p, nil
}

// loadPresoQuietly is loadPreso journaling nothing, for a page about one
// contact's part of the preso (a signature), which journals that instead.
func (h *Handler) loadPresoQuietly(c echo.Context) (store.Preso, error) {
	p, err := h.presos.Get(editor(c), presoID(c))
	return p, presoError(err)
}

// visibleClient loads a client v may see (access.Policy.Client), else 404.
func (h *Handler) visibleClient(v access.Viewer, id uint64) (store.Client, error) {
	cl, err := h.access.Client(v, id, access.Read)
	return cl, accessErr(err)
}

// clientPresos lists the presos a client is a contact of that the user may
// open: the client as the access policy lets them see it, each preso by
// preso.MayEdit.
func (h *Handler) clientPresos(c echo.Context, clientID uint64) ([]store.Preso, error) {
	all, err := h.access.Presos(staffViewer(c), clientID)
	if err != nil {
		return nil, err
	}
	e := editor(c)
	return slices.DeleteFunc(all, func(p store.Preso) bool { return !preso.MayEdit(e, p) }), nil
}

// slideParam reads the slide ID of the route; 0 when malformed.
func slideParam(c echo.Context) uint64 {
	id, _ := strconv.ParseUint(c.Param("sid"), 10, 64)
	return id
}

type presoListData struct {
	Presos    []presoRow
	Templates []store.Preso
}

type presoRow struct {
	store.Preso
	Owner    string
	Contacts string
}

// presoList lists the user's presos (everyone's for owners and admins) and the practice templates.
func (h *Handler) presoList(c echo.Context) error {
	presos, templates, err := h.presos.List(editor(c))
	if err != nil {
		return err
	}
	names, _, err := h.staffDirectory()
	if err != nil {
		return err
	}
	d := presoListData{Templates: templates}
	for _, p := range presos {
		row := presoRow{Preso: p, Owner: names[p.OwnerID]}
		var cs []string
		for _, id := range p.ContactIDs {
			if cl, err := h.store.Client(id); err == nil {
				cs = append(cs, cl.Name())
			}
		}
		row.Contacts = strings.Join(cs, ", ")
		d.Presos = append(d.Presos, row)
	}
	pg := h.page(c, "preso.list_title")
	pg.Data = d
	return h.render(c, http.StatusOK, "presos", pg)
}

// createPreso makes a preso, blank or from a template, optionally for a client;
// owners and admins can make a template instead.
func (h *Handler) createPreso(c echo.Context) error {
	user := currentUser(c)
	f, err := newForm(c)
	if err != nil {
		return err
	}
	l := h.loc(c)
	d := preso.Draft{Title: f.text("title", maxPresoTitle, false), Template: f.id("template", false),
		AsTemplate: f.checkbox("as_template"), Untitled: l.T("preso.untitled"), FirstSlide: l.T("preso.first_slide")}
	clientID := f.id("client", false)
	if !f.ok() {
		return errBadRequest
	}
	if clientID != 0 && !(d.AsTemplate && isAdmin(user)) {
		cl, err := h.visibleClient(staffViewer(c), clientID)
		if err != nil {
			return err
		}
		d.Contact = cl.ID
	}
	p, err := h.presos.Create(editor(c), d)
	if err != nil {
		return presoError(err)
	}
	return h.redirect(c, urlFor(routePreso, p.ID))
}

type presoNewData struct {
	Client    store.Client
	Templates []store.Preso
}

// clientPresoPage is the dialog asking the title of a preso for a client.
func (h *Handler) clientPresoPage(c echo.Context) (*views.Page, store.Client, error) {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return nil, cl, err
	}
	templates, err := h.presos.Templates()
	if err != nil {
		return nil, cl, err
	}
	pg := h.page(c, "preso.new")
	pg.Data = &presoNewData{Client: cl, Templates: templates}
	return pg, cl, nil
}

// newClientPresoForm opens the dialog of "New preso for this client" over the
// client record (a page of its own without JavaScript).
func (h *Handler) newClientPresoForm(c echo.Context) error {
	pg, _, err := h.clientPresoPage(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "preso_new", pg)
}

// createClientPreso makes a preso for a client under the title asked: a
// stray click on the client record makes no "Untitled preso".
func (h *Handler) createClientPreso(c echo.Context) error {
	pg, cl, err := h.clientPresoPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	l := h.loc(c)
	d := preso.Draft{Title: f.text("title", maxPresoTitle, false), Template: f.id("template", false), Contact: cl.ID,
		Untitled: l.T("preso.untitled"), FirstSlide: l.T("preso.first_slide")}
	if d.Title == "" && f.errs["title"] == "" {
		f.fail("title", "preso.title_required")
	}
	if !f.ok() {
		return h.invalid(c, "preso_new", pg, f)
	}
	p, err := h.presos.Create(editor(c), d)
	if err != nil {
		return presoError(err)
	}
	return h.redirect(c, urlFor(routePreso, p.ID))
}

type presoData struct {
	Preso    store.Preso
	Owner    string
	Slides   []slideRow
	Selected *store.Slide
	// SelectedN is the selected slide's place in the preso (1-based).
	SelectedN  int
	Preview    template.HTML
	Contacts   []contactView
	Activity   []activityRow
	Colleagues []option
	ContactQ   string
	Found      []store.Client
	// MissingMobile names the contacts without a mobile: "contacts only" is refused while there is one.
	MissingMobile []contactView
	Share         *shareView
}

type slideRow struct {
	store.Slide
	N           int
	First, Last bool
	Current     bool
}

type contactView struct {
	store.Client
	Mobiles []string
}

type activityRow struct {
	When string
	Text string
}

// presoPage gathers the appointment screen: slides and visibility on the left,
// the editor in the middle, sharing and activity on the right.
func (h *Handler) presoPage(c echo.Context, p store.Preso, selected uint64) (*views.Page, error) {
	pg := h.page(c, "preso.title")
	names, active, err := h.staffDirectory()
	if err != nil {
		return nil, err
	}
	d := presoData{Preso: p, Owner: names[p.OwnerID]}
	pg.Form["preso_title"] = p.Title
	for _, o := range active {
		if o.Value != strconv.FormatUint(p.OwnerID, 10) {
			d.Colleagues = append(d.Colleagues, o)
		}
	}
	if selected == 0 && len(p.Slides) > 0 {
		selected = p.Slides[0].ID
	}
	for i, s := range p.Slides {
		d.Slides = append(d.Slides, slideRow{Slide: s, N: i + 1, First: i == 0, Last: i == len(p.Slides)-1, Current: s.ID == selected})
	}
	if s, i := p.Slide(selected); s != nil {
		d.SelectedN = i + 1
		cp := *s
		d.Selected = &cp
		d.Preview = markdown.HTML(s.Body)
		pg.Form["title"], pg.Form["body"], pg.Form["rev"] = s.Title, s.Body, strconv.FormatUint(s.Rev, 10)
	}
	d.Contacts, d.MissingMobile, err = h.presoContacts(p)
	if err != nil {
		return nil, err
	}
	events, err := h.presos.Activity(p)
	if err != nil {
		return nil, err
	}
	l := h.loc(c)
	for _, e := range events {
		if sig := e.Signature; sig != nil {
			// What was typed, and who the viewing was for.
			d.Activity = append(d.Activity, activityRow{When: pg.DateTime(e.At), Text: l.T("preso.activity_signed", "Name", sig.Name, "Identity", certificate.Identity(l, *sig))})
			continue
		}
		d.Activity = append(d.Activity, activityRow{When: pg.DateTime(e.At), Text: l.T("preso.activity_"+e.Kind, "Staff", names[e.StaffID], "Other", names[e.OtherID])})
	}
	if q := strings.TrimSpace(c.QueryParam("q")); q != "" && !p.Template {
		if len(q) > 200 {
			q = q[:200]
		}
		d.ContactQ = q
		found, _, err := h.access.SearchClients(staffViewer(c), store.ClientFilter{Query: store.ParseQuery(q), Limit: contactResults})
		if err != nil {
			return nil, err
		}
		for _, cl := range found {
			if !p.HasContact(cl.ID) {
				d.Found = append(d.Found, cl)
			}
		}
	}
	if d.Share, err = h.presoShareView(c, p); err != nil {
		return nil, err
	}
	pg.Data = &d
	return pg, nil
}

// presoContacts reads the contacts with their mobiles, and lists those without one.
func (h *Handler) presoContacts(p store.Preso) (all, missing []contactView, err error) {
	pr, _ := h.currentPractice()
	for _, id := range p.ContactIDs {
		cl, err := h.store.Client(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		cv := contactView{Client: cl}
		for _, ph := range cl.Phones {
			if ph.ReceivesCodes() {
				cv.Mobiles = append(cv.Mobiles, displayPhone(ph.Number, pr.PhoneRegion))
			}
		}
		all = append(all, cv)
		if len(cv.Mobiles) == 0 {
			missing = append(missing, cv)
		}
	}
	return all, missing, nil
}

func (h *Handler) presoScreen(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	sel, _ := strconv.ParseUint(c.QueryParam("slide"), 10, 64)
	pg, err := h.presoPage(c, p, sel)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "preso", pg)
}

func presoURL(p store.Preso, slide uint64) string {
	u := urlFor(routePreso, p.ID)
	if slide != 0 {
		u += "?slide=" + strconv.FormatUint(slide, 10)
	}
	return u
}

// changePreso applies change (a preso.Service method) to the preso of the
// route and redirects back to its screen, slide sel selected.
func (h *Handler) changePreso(c echo.Context, sel uint64, change func(e preso.Editor, id uint64) (store.Preso, error)) error {
	if _, err := c.FormParams(); err != nil {
		return errBadRequest
	}
	p, err := change(editor(c), presoID(c))
	if err != nil {
		return presoError(err)
	}
	return h.redirect(c, presoURL(p, sel))
}

func (h *Handler) renamePreso(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	t := f.text("preso_title", maxPresoTitle, true)
	if !f.ok() {
		pg, err := h.presoPage(c, p, 0)
		if err != nil {
			return err
		}
		pg.Form["preso_title"], pg.Errors, pg.ErrArgs = f.vals["preso_title"], f.errs, f.args
		return h.render(c, http.StatusUnprocessableEntity, "preso", pg)
	}
	return h.changePreso(c, 0, func(e preso.Editor, id uint64) (store.Preso, error) { return h.presos.Rename(e, id, t) })
}

func (h *Handler) addPresoContact(c echo.Context) error {
	f := &form{c: c, vals: map[string]string{}, errs: map[string]string{}}
	id := f.id("client", true)
	if !f.ok() {
		return errBadRequest
	}
	cl, err := h.visibleClient(staffViewer(c), id)
	if err != nil {
		return err
	}
	return h.changePreso(c, 0, func(e preso.Editor, id uint64) (store.Preso, error) { return h.presos.AddContact(e, id, cl.ID) })
}

func (h *Handler) removePresoContact(c echo.Context) error {
	cid, _ := strconv.ParseUint(c.Param("cid"), 10, 64)
	return h.changePreso(c, 0, func(e preso.Editor, id uint64) (store.Preso, error) { return h.presos.RemoveContact(e, id, cid) })
}

// handOver gives the preso to a colleague; the activity says so.
func (h *Handler) handOver(c echo.Context) error {
	f := &form{c: c, vals: map[string]string{}, errs: map[string]string{}}
	to := f.id("staff", true)
	if !f.ok() {
		return errBadRequest
	}
	st, err := h.store.Staff(to)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusUnprocessableEntity, "error.bad_request")
	} else if err != nil {
		return err
	}
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	e := editor(c)
	q, err := h.presos.HandOver(e, p.ID, st)
	if err != nil {
		return presoError(err)
	}
	h.setFlash(c, "flash.preso.handed_over")
	if preso.MayEdit(e, q) { // still theirs to open: an owner or admin
		return h.redirect(c, presoURL(q, 0))
	}
	return h.redirect(c, "/presos")
}

func (h *Handler) addSlide(c echo.Context) error {
	kind := store.SlideKind(c.FormValue("kind"))
	title := h.loc(c).T("preso.new_slide")
	if kind == store.SlideSigning {
		title = h.loc(c).T("preso.signing_slide_title")
	}
	if _, err := c.FormParams(); err != nil {
		return errBadRequest
	}
	p, sid, err := h.presos.AddSlide(editor(c), presoID(c), kind, title)
	if err != nil {
		return presoError(err)
	}
	return h.redirect(c, presoURL(p, sid))
}

func (h *Handler) moveSlide(c echo.Context) error {
	sid := slideParam(c)
	up := c.FormValue("dir") == "up"
	return h.changePreso(c, sid, func(e preso.Editor, id uint64) (store.Preso, error) { return h.presos.MoveSlide(e, id, sid, up) })
}

// reorderSlides takes the whole order at once (the drag and drop of the slide list).
func (h *Handler) reorderSlides(c echo.Context) error {
	var ids []uint64
	for _, v := range strings.Split(c.FormValue("order"), ",") {
		id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return errBadRequest
		}
		ids = append(ids, id)
	}
	return h.changePreso(c, 0, func(e preso.Editor, id uint64) (store.Preso, error) { return h.presos.Reorder(e, id, ids) })
}

func (h *Handler) toggleSlide(c echo.Context) error {
	sid := slideParam(c)
	return h.changePreso(c, sid, func(e preso.Editor, id uint64) (store.Preso, error) { return h.presos.ToggleSlide(e, id, sid) })
}

func (h *Handler) deleteSlide(c echo.Context) error {
	sid := slideParam(c)
	return h.changePreso(c, 0, func(e preso.Editor, id uint64) (store.Preso, error) { return h.presos.DeleteSlide(e, id, sid) })
}

type saveState struct {
	*views.Page
	Saved     bool
	Stale     bool
	Rev       uint64
	SavedAt   string
	Slides    []slideRow
	PresoID   uint64
	Problem   string
	OutOfDate bool
	// Slide is the slide as saved, and Preview its text as the client sees it.
	Slide   store.Slide
	Preview template.HTML
}

// saveSlide is the editor's autosave: HTMX posts the slide as it is typed, with
// the revision it was loaded at. A save from an older revision (another tab,
// a colleague) is refused and the text stays in the browser.
func (h *Handler) saveSlide(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	sid := slideParam(c)
	f, err := newForm(c)
	if err != nil {
		return err
	}
	title := f.text("title", maxSlideTitle, false)
	body := f.multiline("body", markdown.MaxSource)
	rev, _ := strconv.ParseUint(c.FormValue("rev"), 10, 64)
	var saved store.Slide
	if f.ok() {
		var changed store.Preso
		changed, saved, err = h.presos.SaveSlide(editor(c), p.ID, sid, rev, title, body)
		if err == nil {
			p = changed
		}
	}
	stale := errors.Is(err, preso.ErrStale)
	// A full disk refuses the save; the text stays in the editor, to save again.
	full := errors.Is(err, store.ErrDiskFull)
	if err != nil && !stale && !full {
		return presoError(err)
	}
	if full {
		h.log.Error("slide not saved: the disk is full", "route", c.Path(), "err", err)
	}
	if !isHTMX(c) {
		if f.ok() && !stale && !full {
			return h.redirect(c, presoURL(p, sid))
		}
		pg, err := h.presoPage(c, p, sid)
		if err != nil {
			return err
		}
		pg.Form["title"], pg.Form["body"] = f.vals["title"], f.vals["body"]
		status := http.StatusUnprocessableEntity
		switch {
		case stale:
			pg.Errors["body"] = "preso.stale"
			status = http.StatusConflict
		case full:
			pg.Errors["body"] = "error.disk_full.form"
			status = http.StatusInsufficientStorage
		default:
			pg.Errors, pg.ErrArgs = f.errs, f.args
		}
		return h.render(c, status, "preso", pg)
	}
	pg := h.page(c, "preso.title")
	st := saveState{Page: pg, PresoID: p.ID, Rev: saved.Rev}
	switch {
	case full:
		st.Problem = "error.disk_full.form"
		pg.Errors = map[string]string{"save": st.Problem}
	case stale:
		st.Stale, st.Problem = true, "preso.stale"
		pg.Errors = map[string]string{"save": st.Problem}
	case !f.ok():
		// The field's message with its arguments (a length limit), as the
		// full page shows it beside the field.
		for field, id := range f.errs {
			st.Problem = id
			pg.Errors, pg.ErrArgs = map[string]string{"save": id}, map[string][]any{"save": f.args[field]}
		}
	default:
		st.Saved, st.SavedAt = true, pg.Time(h.now())
		st.Slide, st.Preview = saved, markdown.HTML(saved.Body)
		for i, s := range p.Slides {
			st.Slides = append(st.Slides, slideRow{Slide: s, N: i + 1, First: i == 0, Last: i == len(p.Slides)-1, Current: s.ID == sid})
		}
		if !p.Template {
			if box, err := h.presos.Box(p); err == nil {
				st.OutOfDate = box.OutOfDate
			}
		}
	}
	// 422 and 507 are swapped by the page's HTMX settings (other errors reload
	// the page, which would throw the unsaved text away).
	status := http.StatusOK
	switch {
	case full:
		status = http.StatusInsufficientStorage
	case st.Problem != "":
		status = http.StatusUnprocessableEntity
	}
	return h.renderBlock(c, status, "preso", "save_state", st)
}

// uploadSlideImage sets or removes a slide's image.
func (h *Handler) uploadSlideImage(c echo.Context) error {
	sid := slideParam(c)
	if c.FormValue("remove") != "" {
		return h.changePreso(c, sid, func(e preso.Editor, id uint64) (store.Preso, error) {
			return h.presos.SetSlideImage(e, id, sid, "", "")
		})
	}
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	data, typ, problem := readImage(c, "image", maxSlideImage, maxSlideSide)
	if problem != "" {
		pg, err := h.presoPage(c, p, sid)
		if err != nil {
			return err
		}
		pg.Errors["image"] = "preso.image_" + problem
		return h.render(c, http.StatusUnprocessableEntity, "preso", pg)
	}
	// Image work and the write of the bytes happen outside the preso's transaction.
	// What was uploaded is drawn again: appended bytes and metadata (a
	// photo's EXIF, with its GPS position) never reach the clients.
	data, typ, err = reencodeImage(data, slideImageSide, true)
	if err != nil {
		pg, err := h.presoPage(c, p, sid)
		if err != nil {
			return err
		}
		pg.Errors["image"] = "preso.image_invalid"
		return h.render(c, http.StatusUnprocessableEntity, "preso", pg)
	}
	digest, err := h.store.PutSlideImage(data)
	if errors.Is(err, store.ErrDiskFull) {
		h.log.Error("slide image not saved: the disk is full", "route", c.Path(), "err", err)
		pg, err := h.presoPage(c, p, sid)
		if err != nil {
			return err
		}
		pg.Errors["image"] = "error.disk_full.form"
		return h.render(c, http.StatusInsufficientStorage, "preso", pg)
	}
	if err != nil {
		return err
	}
	return h.changePreso(c, sid, func(e preso.Editor, id uint64) (store.Preso, error) {
		return h.presos.SetSlideImage(e, id, sid, digest, typ)
	})
}

// slideImage serves a slide's image to staff who may see the preso.
func (h *Handler) slideImage(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	s, _ := p.Slide(slideParam(c))
	if s == nil || s.Image == "" {
		return errNotFound
	}
	// A slide's image is health data: the staff member's browser may keep
	// it, but asks each time whether it is still the slide's (an ETag of its
	// content answers 304 when it is), so a replaced image never shows in
	// its place, whatever URL the page used.
	etag := `"` + s.Image + `"`
	c.Response().Header().Set("ETag", etag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		c.Response().Header().Set("Cache-Control", staffImageCache)
		return c.NoContent(http.StatusNotModified)
	}
	return h.serveSlideImage(c, s.Image, s.ImageType, staffImageCache)
}

// staffImageCache is how a staff member's browser keeps a slide's image:
// for itself alone, asking the server again before each use.
const staffImageCache = "private, no-cache"

// etagMatches reports whether an If-None-Match header names etag (or is *).
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

// slideImageURL is the address of a slide's image on staff pages, which
// names its content (digest): a page made after the image changed asks for
// the new one, never the one the browser kept.
func slideImageURL(presoID, slideID uint64, digest string) string {
	return urlFor(routeSlideImage, presoID, slideID) + "?v=" + url.QueryEscape(digest)
}

// serveSlideImage serves a slide's image, kept by the browser as cache says.
func (h *Handler) serveSlideImage(c echo.Context, digest, typ, cache string) error {
	data, err := h.presos.SlideImage(digest)
	if err != nil {
		return presoError(err)
	}
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Content-Disposition", `inline; filename="slide"`)
	hd.Set("Cache-Control", cache)
	return c.Blob(http.StatusOK, typ, data)
}

// visibilityProblems say why "contacts only" cannot be chosen.
var visibilityProblems = map[error]string{
	preso.ErrNoContacts: "preso.visibility_needs_contacts",
	preso.ErrNoMobiles:  "preso.visibility_needs_mobiles",
}

// setVisibility sets who may open the preso's share link. "Contacts only" needs
// every contact to have a mobile number, for the code by text message.
func (h *Handler) setVisibility(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	v := store.Visibility(c.FormValue("visibility"))
	if v != store.VisibilityAnyone && v != store.VisibilityContacts {
		return errBadRequest
	}
	p, tightened, err := h.presos.SetVisibility(editor(c), p.ID, v)
	if problem := visibilityProblems[err]; problem != "" {
		pg, err := h.presoPage(c, p, 0)
		if err != nil {
			return err
		}
		pg.Errors["visibility"] = problem
		return h.render(c, http.StatusUnprocessableEntity, "preso", pg)
	} else if err != nil {
		return presoError(err)
	}
	if tightened {
		h.setFlash(c, "flash.preso.links_tightened")
	}
	return h.redirect(c, presoURL(p, 0))
}
