package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/mail"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// The landing of a preso's share link: the practice's logo, the preso
// contacts' names, and what comes next. Anyone with the link: clicking one's
// name opens the preso; "Not on the list?" takes a name and email, or none.
// Contacts only: after the name, the person picks one of their mobiles (shown
// by the last 3 digits), gets a code by text message and enters it. A GET
// never sends a code nor counts a view: only a button does.

type landingData struct {
	Title string
	Base  string
	// Names are the recipients still contacts of the preso, by their index in the share.
	Names  []landingName
	Anyone bool
	// Who is the recipient picked (contacts only), -1 before.
	Who     int
	Name    string
	Targets []landingTarget
	// Sent is the masked number the code went to (code step).
	Sent string
	Code bool
}

type landingName struct {
	N    int
	Name string
}

type landingTarget struct {
	N      int
	Masked string
	// Last is what "ending in" shows.
	Last string
}

// landingVisit opens a preso share for its landing pages; an ended share says so.
func (h *Handler) landingVisit(c echo.Context) (store.Share, store.Preso, error) {
	sh, err := h.openLink(c)
	if errors.Is(err, share.ErrNotFound) || (err == nil && sh.Kind != store.SharePreso) {
		return sh, store.Preso{}, h.shareMiss(c)
	}
	if err == nil && h.shareClientArchived(sh) {
		err = share.ErrEnded
	}
	if errors.Is(err, share.ErrEnded) || errors.Is(err, share.ErrLocked) {
		return sh, store.Preso{}, echo.NewHTTPError(http.StatusGone, "error.share_ended")
	} else if err != nil {
		return sh, store.Preso{}, err
	}
	if sh, err = h.presoLiveRecipients(sh); err != nil {
		return sh, store.Preso{}, err
	}
	c.Set(ctxLoc, h.shareVisitorLoc(c, sh))
	title := ""
	if len(sh.Snapshot) == 1 {
		if t, err := h.store.SnapshotTitle(sh.Snapshot[0]); err == nil {
			title = t
		}
	}
	return sh, store.Preso{ID: sh.SubjectID, Title: title}, nil
}

func (h *Handler) landingPage(c echo.Context, sh store.Share, p store.Preso) (*views.Page, *landingData) {
	pg := h.page(c, "landing.title")
	pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
	d := &landingData{Title: p.Title, Base: "/s/" + c.Param("token"), Anyone: sh.Visibility == store.VisibilityAnyone, Who: -1}
	for i, r := range sh.Recipients {
		if !goneRecipient(r) {
			d.Names = append(d.Names, landingName{N: i, Name: r.Name})
		}
	}
	pg.Data = d
	return pg, d
}

// pickRecipient reads the "who" of a contacts-only landing step.
func (h *Handler) pickRecipient(c echo.Context, sh store.Share, d *landingData) bool {
	who, err := strconv.Atoi(c.FormValue("who"))
	if err != nil || who < 0 || who >= len(sh.Recipients) || goneRecipient(sh.Recipients[who]) {
		return false
	}
	d.Who, d.Name = who, sh.Recipients[who].Name
	for i, t := range share.Targets(sh, who) {
		if t.Channel == store.ChannelSMS {
			d.Targets = append(d.Targets, landingTarget{N: i, Masked: keepTogether(t.Masked()), Last: lastDigits(t)})
		}
	}
	return true
}

// presoLanding is GET /s/{token}: it shows the names, or for contacts only
// the chosen person's numbers (?who=), and does nothing else.
func (h *Handler) presoLanding(c echo.Context) error {
	sh, p, err := h.landingVisit(c)
	if err != nil {
		return err
	}
	base := "/s/" + c.Param("token")
	// Someone already in goes straight on.
	if h.presoInside(c, sh) {
		return h.redirect(c, base+"/slides/1")
	}
	if sh.Visibility != store.VisibilityAnyone && c.QueryParam("who") != "" {
		pg, d := h.landingPage(c, sh, p)
		if !h.pickRecipient(c, sh, d) {
			return echo.ErrNotFound
		}
		return h.render(c, http.StatusOK, "preso_landing", pg)
	}
	// "Not on the list?" sent back with what to correct: this visitor's own page.
	if n, ok := h.takeCodeNote(c, sh.ID); ok && len(n.Errors) > 0 {
		pg, _ := h.landingPage(c, sh, p)
		pg.Errors, pg.Form, pg.ErrArgs = n.Errors, n.Form, n.Args
		if pg.Form == nil {
			pg.Form = map[string]string{}
		}
		return h.render(c, http.StatusOK, "preso_landing", pg)
	}
	// The first step reads the same for every visitor of the link: it is kept
	// until what it shows changes (the path holds the token), and its page is
	// built only when it is not.
	key := []string{strconv.FormatUint(sh.ID, 10), string(sh.Visibility), p.Title}
	for i, r := range sh.Recipients {
		if !goneRecipient(r) {
			key = append(key, strconv.Itoa(i), r.Name)
		}
	}
	return h.renderShared(c, "preso_landing", strings.Join(key, "\x00"), func() *views.Page {
		pg, _ := h.landingPage(c, sh, p)
		return pg
	})
}

// presoInside reports whether the browser holds a live session of preso
// share sh, for someone still among its contacts (or who came in without a name).
func (h *Handler) presoInside(c echo.Context, sh store.Share) bool {
	sid := h.shareSessionID(c, sh.ID)
	if sid == "" {
		return false
	}
	ss, err := h.shares.Session(sid, sh)
	return err == nil && (ss.Recipient < 0 || (ss.Recipient < len(sh.Recipients) && !goneRecipient(sh.Recipients[ss.Recipient])))
}

// presoEnter lets a visitor into a share open to anyone with the link: by their
// name on the list, or by the name and email they give, or anonymously.
func (h *Handler) presoEnter(c echo.Context) error {
	sh, p, err := h.landingVisit(c)
	if err != nil {
		return err
	}
	_, d := h.landingPage(c, sh, p)
	if !d.Anyone {
		return h.redirect(c, d.Base)
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	who, err := strconv.Atoi(c.FormValue("who"))
	if err != nil || who < -1 || who >= len(sh.Recipients) {
		who = -1
	}
	if who >= 0 && goneRecipient(sh.Recipients[who]) {
		return h.redirect(c, d.Base)
	}
	name, email := "", ""
	if who < 0 && c.FormValue("anonymous") == "" {
		name = f.text("name", 120, true)
		email = f.email("email", false)
		if !f.ok() {
			// Back to the landing (Post/Redirect/Get), the form as typed.
			h.setCodeNote(c, sh.ID, codeNote{Errors: f.errs, Form: f.vals, Args: f.args})
			return h.redirect(c, d.Base)
		}
	}
	ua := c.Request().UserAgent()
	detail := name
	if email != "" {
		detail += " <" + email + ">"
	}
	if !h.allowShareEnter(c, sh.ID) {
		return echo.NewHTTPError(http.StatusTooManyRequests, "error.too_many")
	}
	sid, err := h.shares.Enter(sh.ID, who, detail, ua)
	if errors.Is(err, share.ErrEnded) {
		return echo.NewHTTPError(http.StatusGone, "error.share_ended")
	} else if err != nil {
		return err
	}
	h.setShareCookie(c, sh.ID, sid)
	if err := h.startNamedViewing(c, sh, who, name, email, "none", ""); err != nil {
		return err
	}
	return h.redirect(c, d.Base+"/slides/1")
}

// startNamedViewing begins the viewing of the person who just came in, so the
// name or email they gave goes with it, and, after a code, where it went
// (masked), which the signing certificate states.
func (h *Handler) startNamedViewing(c echo.Context, sh store.Share, who int, name, email, verification, verifiedTo string) error {
	if len(sh.Snapshot) != 1 {
		return nil
	}
	browser, os := share.Browser(c.Request().UserAgent())
	vw := store.Viewing{ShareID: sh.ID, PresoID: sh.SubjectID, SnapshotID: sh.Snapshot[0], Verification: verification,
		VerifiedTo: verifiedTo, Browser: browserLine(browser + " · " + os), IP: c.RealIP(), StartedAt: h.now().UTC(), Name: name, Email: email}
	if who >= 0 && who < len(sh.Recipients) {
		r := sh.Recipients[who]
		vw.ContactID, vw.Name, vw.Email = r.ClientID, r.Name, r.Email
	} else if name == "" {
		vw.Anonymous = true
	}
	token := auth.NewToken()
	if err := h.store.StartViewing(&vw, token); err != nil {
		return err
	}
	h.setViewingCookie(c, sh.ID, token)
	return nil
}

// presoCodeStep is the code steps of a preso link for the recipient picked.
func presoCodeStep(sh store.Share, d *landingData) codeStep {
	return codeStep{Share: sh, Base: d.Base, Entry: d.Base + "/code?who=" + strconv.Itoa(d.Who), Msg: "landing"}
}

// presoSendCode is "Send me a code": to the chosen mobile of the chosen contact.
func (h *Handler) presoSendCode(c echo.Context) error {
	sh, p, err := h.landingVisit(c)
	if err != nil {
		return err
	}
	_, d := h.landingPage(c, sh, p)
	if d.Anyone || !h.pickRecipient(c, sh, d) || len(d.Targets) == 0 {
		return h.redirect(c, d.Base)
	}
	targets := share.Targets(sh, d.Who)
	i, err := strconv.Atoi(c.FormValue("to"))
	if err != nil || i < 0 || i >= len(targets) || targets[i].Channel != store.ChannelSMS {
		i = d.Targets[0].N
	}
	lang := sh.Recipients[d.Who].Lang
	return h.sendCode(c, presoCodeStep(sh, d), targets[i],
		func(t share.Target, code string, expires time.Time) (*store.Message, error) {
			return &store.Message{Channel: t.Channel, To: t.To, Lang: lang, Kind: mail.PresoCode, Secret: code, ExpiresAt: expires,
				Args: map[string]string{"Title": p.Title, "Expires": mail.TimeArg(expires)}}, nil
		})
}

// presoCodeForm is "Enter your code".
func (h *Handler) presoCodeForm(c echo.Context) error {
	sh, p, err := h.landingVisit(c)
	if err != nil {
		return err
	}
	pg, d := h.landingPage(c, sh, p)
	if d.Anyone || !h.pickRecipient(c, sh, d) {
		return h.redirect(c, d.Base)
	}
	// Back after verifying goes on to the preso, as the landing does.
	if h.presoInside(c, sh) {
		return h.redirect(c, d.Base+"/slides/1")
	}
	d.Code = true
	if n, ok := h.takeCodeNote(c, sh.ID); ok {
		pg.Errors[n.Field] = n.Msg
	}
	if sc, err := h.store.ShareCode(sh.ID); err == nil && sc.Target != "" && sc.Recipient == d.Who {
		d.Sent = keepTogether(share.Mask(sc.Channel, sc.Target))
	}
	return h.render(c, http.StatusOK, "preso_landing", pg)
}

// presoVerify checks the code; the limits are kept in the store.
func (h *Handler) presoVerify(c echo.Context) error {
	sh, p, err := h.landingVisit(c)
	if err != nil {
		return err
	}
	_, d := h.landingPage(c, sh, p)
	if d.Anyone || !h.pickRecipient(c, sh, d) {
		return h.redirect(c, d.Base)
	}
	res, answered, err := h.checkCode(c, presoCodeStep(sh, d))
	if answered || err != nil {
		return err
	}
	if res.Recipient < 0 || res.Recipient >= len(sh.Recipients) || goneRecipient(sh.Recipients[res.Recipient]) {
		// A code sent before its recipient was removed from the preso.
		if err := h.shares.EndSession(res.Session); err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusGone, "error.share_ended")
	}
	h.setShareCookie(c, sh.ID, res.Session)
	verifiedTo := ""
	if res.Target != "" {
		verifiedTo = share.Mask(res.Channel, res.Target)
	}
	if err := h.startNamedViewing(c, sh, res.Recipient, "", "", string(res.Channel), verifiedTo); err != nil {
		return err
	}
	return h.redirect(c, d.Base+"/slides/1")
}

// presoLiveRecipients blanks the share's recipients who are no longer contacts
// of the preso: a share keeps the contacts of the moment it was made (or last
// refreshed), but removing a contact must end their access to it at once.
// Indexes stay put, as codes and sessions name recipients by index. A preso
// gone from the store leaves nobody.
func (h *Handler) presoLiveRecipients(sh store.Share) (store.Share, error) {
	ids := make([]uint64, len(sh.Recipients))
	for i, r := range sh.Recipients {
		ids[i] = r.ClientID
	}
	contact, err := h.store.PresoContacts(sh.SubjectID, ids)
	if err != nil {
		return sh, err
	}
	live := make([]store.ShareRecipient, len(sh.Recipients))
	for i, r := range sh.Recipients {
		if contact[i] {
			live[i] = r
		}
	}
	sh.Recipients = live
	return sh, nil
}

// goneRecipient reports a recipient blanked by presoLiveRecipients (every
// recipient of a preso share is a client record).
func goneRecipient(r store.ShareRecipient) bool { return r.ClientID == 0 }
