package handlers

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/markdown"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// Presos: slide presentations a practitioner prepares for their clients
// and shares with a link. This file is the staff side: making and editing.

const (
	maxPresoTitle = 120
	maxSlideTitle = 160
	maxSlides     = 200
	maxSlideImage = 2 << 20
	maxSlideSide  = 6000
	// slideImageSide is the largest side an image is kept at: wider than
	// any screen a slide is shown on, and it keeps stored images small.
	slideImageSide = 2560
	contactResults = 10
)

// loadPreso loads the preso of the route, or 404 when the user may not see it:
// a preso is its owner's, and every owner's and admin's; a template is the
// owners' and admins'. A practitioner cannot learn that another's preso exists.
func (h *Handler) loadPreso(c echo.Context) (store.Preso, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Preso{}, echo.ErrNotFound
	}
	p, err := h.store.Preso(id)
	if errors.Is(err, store.ErrNotFound) {
		return p, echo.ErrNotFound
	} else if err != nil {
		return p, err
	}
	if !mayEditPreso(currentUser(c), p) {
		return store.Preso{}, echo.ErrNotFound
	}
	return p, nil
}

func mayEditPreso(u *store.Staff, p store.Preso) bool {
	if isAdmin(u) {
		return true
	}
	return !p.Template && p.OwnerID == u.ID
}

// visibleClient loads a client the user may see (their own; any for owners and admins), else 404.
func (h *Handler) visibleClient(u *store.Staff, id uint64) (store.Client, error) {
	cl, err := h.store.Client(id)
	if errors.Is(err, store.ErrNotFound) {
		return cl, echo.ErrNotFound
	} else if err != nil {
		return cl, err
	}
	if !isAdmin(u) && cl.PractitionerID != u.ID {
		return store.Client{}, echo.ErrNotFound
	}
	return cl, nil
}

// clientPresos lists the presos a client is a contact of that the user may open.
func (h *Handler) clientPresos(u *store.Staff, clientID uint64) ([]store.Preso, error) {
	all, err := h.store.ClientPresos(clientID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(p store.Preso) bool { return !mayEditPreso(u, p) }), nil
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
	user := currentUser(c)
	f := store.PresoFilter{}
	if !isAdmin(user) {
		f.OwnerID = user.ID
	}
	presos, err := h.store.ListPresos(f)
	if err != nil {
		return err
	}
	templates, err := h.store.ListPresos(store.PresoFilter{Templates: true})
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
	title := f.text("title", maxPresoTitle, false)
	from := f.id("template", false)
	clientID := f.id("client", false)
	asTemplate := f.checkbox("as_template") && isAdmin(user)
	if !f.ok() {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	now := h.now().UTC()
	p := store.Preso{OwnerID: user.ID, Template: asTemplate, CreatedAt: now, Visibility: store.VisibilityAnyone}
	if from != 0 {
		t, err := h.store.Preso(from)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Template) {
			return echo.ErrNotFound
		} else if err != nil {
			return err
		}
		p.Title, p.Slides, p.NextSlideID = t.Title, t.Slides, t.NextSlideID
		for i := range p.Slides {
			p.Slides[i].Rev = 1
		}
	}
	if title != "" {
		p.Title = title
	}
	if p.Title == "" {
		p.Title = h.loc(c).T("preso.untitled")
	}
	if clientID != 0 && !asTemplate {
		cl, err := h.visibleClient(user, clientID)
		if err != nil {
			return err
		}
		p.ContactIDs = []uint64{cl.ID}
	}
	if len(p.Slides) == 0 {
		p.AddSlide(store.Slide{Kind: store.SlideContent, Title: h.loc(c).T("preso.first_slide")})
	}
	if err := h.store.CreatePreso(&p, user.ID); err != nil {
		return err
	}
	return h.redirect(c, "/presos/"+strconv.FormatUint(p.ID, 10))
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
	events, err := h.store.PresoActivity(p.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Kind == "signed" {
			// OtherID is the signature: what was typed, and who the viewing was for.
			sig, err := h.store.Signature(e.OtherID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			sig = h.withViewing(sig)
			l := h.loc(c)
			d.Activity = append(d.Activity, activityRow{When: pg.DateTime(e.At), Text: l.T("preso.activity_signed", "Name", sig.Name, "Identity", h.signerIdentity(l, sig))})
			continue
		}
		d.Activity = append(d.Activity, activityRow{When: pg.DateTime(e.At), Text: h.loc(c).T("preso.activity_"+e.Kind, "Staff", names[e.StaffID], "Other", names[e.OtherID])})
	}
	if q := strings.TrimSpace(c.QueryParam("q")); q != "" && !p.Template {
		if len(q) > 200 {
			q = q[:200]
		}
		d.ContactQ = q
		filter := store.ClientFilter{Query: store.ParseQuery(q), Limit: contactResults}
		if u := currentUser(c); !isAdmin(u) {
			filter.PractitionerID = u.ID
		}
		found, _, err := h.store.SearchClients(filter)
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
	u := "/presos/" + strconv.FormatUint(p.ID, 10)
	if slide != 0 {
		u += "?slide=" + strconv.FormatUint(slide, 10)
	}
	return u
}

// changePreso applies fn to the preso of the route and redirects back to its screen.
// content says whether the change alters what a share shows (it then becomes out of date).
func (h *Handler) changePreso(c echo.Context, content bool, fn func(*store.Preso) (uint64, []store.PresoEvent, error)) error {
	p, sel, err := h.updatePreso(c, content, fn)
	if err != nil {
		return err
	}
	return h.redirect(c, presoURL(p, sel))
}

// updatePreso is changePreso without the answer: it returns the preso as
// saved and the slide to show.
func (h *Handler) updatePreso(c echo.Context, content bool, fn func(*store.Preso) (uint64, []store.PresoEvent, error)) (store.Preso, uint64, error) {
	p, err := h.loadPreso(c)
	if err != nil {
		return p, 0, err
	}
	if _, err := c.FormParams(); err != nil {
		return p, 0, echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	var sel uint64
	p, err = h.store.UpdatePreso(p.ID, h.now().UTC(), func(p *store.Preso) ([]store.PresoEvent, error) {
		// Checked again inside the transaction: a hand-over may have happened since.
		if !mayEditPreso(currentUser(c), *p) {
			return nil, echo.ErrNotFound
		}
		s, events, err := fn(p)
		sel = s
		if err == nil && content {
			p.Content++
		}
		return events, err
	})
	return p, sel, err
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
	return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		p.Title = t
		return 0, nil, nil
	})
}

func (h *Handler) addPresoContact(c echo.Context) error {
	f := &form{c: c, vals: map[string]string{}, errs: map[string]string{}}
	id := f.id("client", true)
	if !f.ok() {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	cl, err := h.visibleClient(currentUser(c), id)
	if err != nil {
		return err
	}
	return h.changePreso(c, false, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		if p.Template {
			return 0, nil, echo.ErrNotFound
		}
		if !p.HasContact(cl.ID) {
			p.ContactIDs = append(p.ContactIDs, cl.ID)
		}
		return 0, nil, nil
	})
}

func (h *Handler) removePresoContact(c echo.Context) error {
	cid, _ := strconv.ParseUint(c.Param("cid"), 10, 64)
	return h.changePreso(c, false, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		p.ContactIDs = slices.DeleteFunc(p.ContactIDs, func(id uint64) bool { return id == cid })
		if len(p.ContactIDs) == 0 && p.Visibility == store.VisibilityContacts {
			p.Visibility = store.VisibilityAnyone
		}
		return 0, nil, nil
	})
}

// handOver gives the preso to a colleague; the activity says so.
func (h *Handler) handOver(c echo.Context) error {
	f := &form{c: c, vals: map[string]string{}, errs: map[string]string{}}
	to := f.id("staff", true)
	if !f.ok() {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	st, err := h.store.Staff(to)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !st.Active) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "error.bad_request")
	} else if err != nil {
		return err
	}
	user := currentUser(c)
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	_, err = h.store.UpdatePreso(p.ID, h.now().UTC(), func(p *store.Preso) ([]store.PresoEvent, error) {
		if !mayEditPreso(user, *p) || p.Template {
			return nil, echo.ErrNotFound
		}
		p.OwnerID = st.ID
		return []store.PresoEvent{{At: h.now().UTC(), Kind: "handed_over", StaffID: user.ID, OtherID: st.ID}}, nil
	})
	if err != nil {
		return err
	}
	h.setFlash(c, "flash.preso.handed_over")
	if mayEditPreso(user, p) && (isAdmin(user) || st.ID == user.ID) {
		return h.redirect(c, presoURL(p, 0))
	}
	return h.redirect(c, "/presos")
}

func (h *Handler) addSlide(c echo.Context) error {
	kind := store.SlideKind(c.FormValue("kind"))
	if kind != store.SlideSigning {
		kind = store.SlideContent
	}
	return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		if len(p.Slides) >= maxSlides {
			return 0, nil, echo.NewHTTPError(http.StatusUnprocessableEntity, "error.preso_too_many_slides")
		}
		title := h.loc(c).T("preso.new_slide")
		if kind == store.SlideSigning {
			title = h.loc(c).T("preso.signing_slide_title")
		}
		s := p.AddSlide(store.Slide{Kind: kind, Title: title})
		return s.ID, nil, nil
	})
}

func (h *Handler) moveSlide(c echo.Context) error {
	sid := slideParam(c)
	up := c.FormValue("dir") == "up"
	return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		_, i := p.Slide(sid)
		if i < 0 {
			return 0, nil, echo.ErrNotFound
		}
		j := i + 1
		if up {
			j = i - 1
		}
		if j >= 0 && j < len(p.Slides) {
			p.Slides[i], p.Slides[j] = p.Slides[j], p.Slides[i]
		}
		return sid, nil, nil
	})
}

// reorderSlides takes the whole order at once (the drag and drop of the slide list).
func (h *Handler) reorderSlides(c echo.Context) error {
	var ids []uint64
	for _, v := range strings.Split(c.FormValue("order"), ",") {
		id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
		}
		ids = append(ids, id)
	}
	return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		if len(ids) != len(p.Slides) {
			return 0, nil, echo.NewHTTPError(http.StatusConflict, "error.preso_stale")
		}
		out := make([]store.Slide, 0, len(ids))
		for _, id := range ids {
			s, _ := p.Slide(id)
			if s == nil || slices.ContainsFunc(out, func(o store.Slide) bool { return o.ID == id }) {
				return 0, nil, echo.NewHTTPError(http.StatusConflict, "error.preso_stale")
			}
			out = append(out, *s)
		}
		p.Slides = out
		return 0, nil, nil
	})
}

func (h *Handler) toggleSlide(c echo.Context) error {
	sid := slideParam(c)
	return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		s, _ := p.Slide(sid)
		if s == nil {
			return 0, nil, echo.ErrNotFound
		}
		s.Excluded = !s.Excluded
		return sid, nil, nil
	})
}

func (h *Handler) deleteSlide(c echo.Context) error {
	sid := slideParam(c)
	return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		_, i := p.Slide(sid)
		if i < 0 {
			return 0, nil, echo.ErrNotFound
		}
		p.Slides = slices.Delete(p.Slides, i, i+1)
		return 0, nil, nil
	})
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
		p, err = h.store.UpdatePreso(p.ID, h.now().UTC(), func(p *store.Preso) ([]store.PresoEvent, error) {
			if !mayEditPreso(currentUser(c), *p) {
				return nil, echo.ErrNotFound
			}
			s, _ := p.Slide(sid)
			if s == nil {
				return nil, echo.ErrNotFound
			}
			if s.Rev != rev {
				return nil, store.ErrStale
			}
			if s.Title != title || s.Body != body {
				s.Title, s.Body = title, body
				s.Rev++
				p.Content++
			}
			saved = *s
			return nil, nil
		})
	}
	stale := errors.Is(err, store.ErrStale)
	if err != nil && !stale {
		return err
	}
	if !isHTMX(c) {
		if f.ok() && !stale {
			return h.redirect(c, presoURL(p, sid))
		}
		pg, err := h.presoPage(c, p, sid)
		if err != nil {
			return err
		}
		pg.Form["title"], pg.Form["body"] = f.vals["title"], f.vals["body"]
		status := http.StatusUnprocessableEntity
		if stale {
			pg.Errors["body"] = "preso.stale"
			status = http.StatusConflict
		} else {
			pg.Errors, pg.ErrArgs = f.errs, f.args
		}
		return h.render(c, status, "preso", pg)
	}
	pg := h.page(c, "preso.title")
	st := saveState{Page: pg, PresoID: p.ID, Rev: saved.Rev}
	switch {
	case stale:
		st.Stale, st.Problem = true, "preso.stale"
	case !f.ok():
		for _, id := range f.errs {
			st.Problem = id
		}
	default:
		st.Saved, st.SavedAt = true, pg.Time(h.now())
		for i, s := range p.Slides {
			st.Slides = append(st.Slides, slideRow{Slide: s, N: i + 1, First: i == 0, Last: i == len(p.Slides)-1, Current: s.ID == sid})
		}
		if sv, err := h.presoShareView(c, p); err == nil && sv != nil {
			st.OutOfDate = sv.OutOfDate
		}
	}
	// 422 is swapped by the page's HTMX settings (other errors reload the page,
	// which would throw the unsaved text away).
	status := http.StatusOK
	if st.Problem != "" {
		status = http.StatusUnprocessableEntity
	}
	return h.renderBlock(c, status, "preso", "save_state", st)
}

// uploadSlideImage sets or removes a slide's image.
func (h *Handler) uploadSlideImage(c echo.Context) error {
	sid := slideParam(c)
	if c.FormValue("remove") != "" {
		return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
			s, _ := p.Slide(sid)
			if s == nil {
				return 0, nil, echo.ErrNotFound
			}
			s.Image, s.ImageType = "", ""
			s.Rev++
			return sid, nil, nil
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
	if err != nil {
		return err
	}
	return h.changePreso(c, true, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		s, _ := p.Slide(sid)
		if s == nil {
			return 0, nil, echo.ErrNotFound
		}
		s.Image, s.ImageType = digest, typ
		s.Rev++
		return sid, nil, nil
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
		return echo.ErrNotFound
	}
	return h.serveSlideImage(c, s.Image, s.ImageType)
}

func (h *Handler) serveSlideImage(c echo.Context, digest, typ string) error {
	data, err := h.store.SlideImage(digest)
	if errors.Is(err, store.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Content-Disposition", `inline; filename="slide"`)
	// Addressed by content: the same URL always means the same bytes.
	hd.Set("Cache-Control", "private, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, typ, data)
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
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	if v == store.VisibilityContacts {
		_, missing, err := h.presoContacts(p)
		if err != nil {
			return err
		}
		if len(missing) > 0 || len(p.ContactIDs) == 0 {
			pg, err := h.presoPage(c, p, 0)
			if err != nil {
				return err
			}
			pg.Errors["visibility"] = "preso.visibility_needs_mobiles"
			if len(p.ContactIDs) == 0 {
				pg.Errors["visibility"] = "preso.visibility_needs_contacts"
			}
			return h.render(c, http.StatusUnprocessableEntity, "preso", pg)
		}
	}
	p, _, err = h.updatePreso(c, false, func(p *store.Preso) (uint64, []store.PresoEvent, error) {
		if p.Template {
			return 0, nil, echo.ErrNotFound
		}
		p.Visibility = v
		return 0, nil, nil
	})
	if err != nil {
		return err
	}
	if v == store.VisibilityContacts {
		if tightened, err := h.tightenPresoShares(p); err != nil {
			return err
		} else if tightened {
			h.setFlash(c, "flash.preso.links_tightened")
		}
	}
	return h.redirect(c, presoURL(p, 0))
}

// tightenPresoShares applies "contacts only" at once to the preso's live links
// still open to anyone: whoever has the link open, or opens it, proves who
// they are with a code from now on. The slides stay as shared until Refresh
// link; a looser visibility waits for Refresh link too, since it gives more.
func (h *Handler) tightenPresoShares(p store.Preso) (bool, error) {
	shares, err := h.store.SharesOfSubject(store.SharePreso, p.ID)
	if err != nil {
		return false, err
	}
	recipients, err := h.presoRecipients(p)
	if err != nil {
		return false, err
	}
	tightened := false
	for _, sh := range shares {
		if !sh.Live() || sh.Visibility == store.VisibilityContacts {
			continue
		}
		if _, err := h.shares.Retarget(sh.ID, recipients, store.VisibilityContacts); errors.Is(err, share.ErrEnded) {
			continue
		} else if err != nil {
			return tightened, err
		}
		tightened = true
	}
	return tightened, nil
}
