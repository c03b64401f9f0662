package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/mail"
	"foyer/preso"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// The landing of a preso's share link: the practice's logo, the preso
// contacts' names, and what comes next. Anyone with the link: clicking one's
// name opens the preso; "Not on the list?" takes a name and email, or none.
// Contacts only: after the name, the person picks one of their mobiles (shown
// by the last 3 digits), gets a code by text message and enters it. A GET
// never sends a code nor counts a view: only a button does. Who may come in
// is the share engine's admission (onLink) with the preso's audience
// (preso.Service.Audience): the names listed are those it admits.

type landingData struct {
	Title string
	Base  string
	// Names are the recipients who may still come in, by their index in the share.
	Names  []landingName
	Anyone bool
	// Who is the recipient picked (contacts only), -1 before.
	Who     int
	Name    string
	Targets []landingTarget
	// Sent is the masked number the last code went to (code step); Waiting
	// says it may still be used; Held says it waits in the outbox, text
	// messages not being set up; Refused says the last request for a code
	// was refused (the error names the number: the page does not also say
	// a code was asked for).
	Sent    string
	Waiting bool
	Held    bool
	Refused bool
	Code    bool
	// Expires is when the link stops working, as the recipient is told.
	Expires string
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

func (h *Handler) landingPage(c echo.Context, v *linkVisit) (*views.Page, *landingData) {
	pg := h.page(c, "landing.title")
	pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
	d := &landingData{Title: h.presos.Title(v.Visit), Base: v.Base, Anyone: v.Share.Visibility == store.VisibilityAnyone, Who: -1,
		Expires: pg.DateTime(v.Share.ExpiresAt)}
	for _, n := range preso.Names(v.Visit) {
		d.Names = append(d.Names, landingName{N: n.N, Name: n.Name})
	}
	pg.Data = d
	return pg, d
}

// pickedRecipient reads the "who" of a contacts-only landing step: the index
// of a recipient the link still admits, and where their code may go.
func pickedRecipient(v *linkVisit, raw string) (int, []preso.Target, bool) {
	who, err := strconv.Atoi(raw)
	if err != nil || v.Share.Visibility == store.VisibilityAnyone {
		return -1, nil, false
	}
	mobiles, ok := preso.Mobiles(v.Visit, who)
	return who, mobiles, ok
}

// pick fills the step of the recipient picked.
func pick(v *linkVisit, d *landingData, who int, mobiles []preso.Target) {
	d.Who, d.Name = who, v.Share.Recipients[who].Name
	for _, t := range mobiles {
		d.Targets = append(d.Targets, landingTarget{N: t.N, Masked: keepTogether(t.Masked()), Last: lastDigits(t.Target)})
	}
}

// slidesOf is where someone let into a preso link goes.
func slidesOf(v *linkVisit) string { return urlFor(routeLinkSlide, v.Token, 1) }

// presoLanding is GET /s/{token}: it shows the names, or for contacts only
// the chosen person's numbers (?who=), and does nothing else.
func (h *Handler) presoLanding(c echo.Context, v *linkVisit) error {
	// Someone already in goes straight on.
	if v.Admitted() {
		return h.redirect(c, slidesOf(v))
	}
	if v.Share.Visibility != store.VisibilityAnyone && c.QueryParam("who") != "" {
		who, mobiles, ok := pickedRecipient(v, c.QueryParam("who"))
		if !ok {
			// A contact taken off the link since, or no one: its list of names,
			// as the code steps do.
			return h.redirect(c, v.Base)
		}
		pg, d := h.landingPage(c, v)
		pick(v, d, who, mobiles)
		return h.render(c, http.StatusOK, "preso_landing", pg)
	}
	// "Not on the list?" sent back with what to correct: this visitor's own page.
	if n, ok := h.takeCodeNote(c, v.Share.ID); ok && len(n.Errors) > 0 {
		pg, _ := h.landingPage(c, v)
		pg.Errors, pg.Form, pg.ErrArgs = n.Errors, n.Form, n.Args
		if pg.Form == nil {
			pg.Form = map[string]string{}
		}
		return h.render(c, http.StatusOK, "preso_landing", pg)
	}
	h.recordOpened(c, v)
	// The first step reads the same for every visitor of the link: it is kept
	// until what it shows changes (the path holds the token; a snapshot never
	// changes, so its ID stands for its title), and its page is built only
	// when it is not.
	key := make([]byte, 0, 96+len(v.Share.Recipients)*32)
	key = strconv.AppendUint(key, v.Share.ID, 10)
	key = append(append(key, 0), v.Share.Visibility...)
	key = strconv.AppendInt(append(key, 0), v.Share.ExpiresAt.UnixNano(), 10) // an extension shows
	for _, id := range v.Share.Snapshot {
		key = strconv.AppendUint(append(key, 0, 's'), id, 10)
	}
	for i, r := range v.Share.Recipients {
		if v.Audience.Admits(i) {
			key = strconv.AppendInt(append(key, 0), int64(i), 10)
			key = append(append(key, 0), r.Name...)
		}
	}
	return h.renderShared(c, "preso_landing", string(key), func() *views.Page {
		pg, _ := h.landingPage(c, v)
		return pg
	})
}

// limitOpened keeps one "link opened" line per address and link every ten
// minutes: it bounds what a flood of GETs writes to the link's history.
var limitOpened = policy{every: 10 * time.Minute, burst: 1}

// recordOpened notes that the link's first page was shown, for the audit
// trail of a signature made through it, after the answer: the landing stays
// as quick as before, and a GET still counts as no view.
func (h *Handler) recordOpened(c echo.Context, v *linkVisit) {
	if !h.limits.allow("share-opened:"+strconv.FormatUint(v.Share.ID, 10)+":"+limitAddr(c), limitOpened) {
		return
	}
	visit, ua := v.Visit, c.Request().UserAgent()
	h.later("record a link opened", func() error { return h.presos.Opened(visit, ua) })
}

// visitorOf is what a request tells of the visitor's browser.
func visitorOf(c echo.Context) preso.Visitor {
	return preso.Visitor{UserAgent: c.Request().UserAgent(), IP: c.RealIP()}
}

// presoEnter lets a visitor into a share open to anyone with the link: by their
// name on the list, or by the name and email they give, or anonymously.
func (h *Handler) presoEnter(c echo.Context, v *linkVisit) error {
	if v.Share.Visibility != store.VisibilityAnyone {
		return h.redirect(c, v.Base)
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	who, err := strconv.Atoi(c.FormValue("who"))
	if err != nil || who < -1 || who >= len(v.Share.Recipients) {
		who = -1
	}
	if who >= 0 && !v.Audience.Admits(who) {
		return h.redirect(c, v.Base)
	}
	name, email := "", ""
	if who < 0 && c.FormValue("anonymous") == "" {
		name = f.name("name", 120, true)
		email = f.email("email", false)
		if !f.ok() {
			// Back to the landing (Post/Redirect/Get), the form as typed.
			h.setCodeNote(c, v.Share.ID, codeNote{Errors: f.errs, Form: f.vals, Args: f.args})
			return h.redirect(c, v.Base)
		}
	}
	// Someone coming back into their own viewing (its cookie, the same
	// person) is no new entry: only a limit of that viewing's own applies.
	held := h.viewingHeld(c, v.Share.ID)
	var in preso.Entry
	if back := h.presos.Returning(v.Visit, held, who, name, email); back != 0 {
		if !h.limits.allow("share-return:"+strconv.FormatUint(back, 10), limitShareReturn) {
			return errTooMany
		}
		in, err = h.presos.Return(v.Visit, who, name, email, held, back, visitorOf(c))
	} else {
		if !h.allowShareEnter(c, v.Share.ID) {
			return errTooMany
		}
		in, err = h.presos.Enter(v.Visit, who, name, email, visitorOf(c))
	}
	switch {
	case errors.Is(err, share.ErrEnded), errors.Is(err, share.ErrLocked):
		return errPresoLinkEnded
	case errors.Is(err, share.ErrRefused), errors.Is(err, share.ErrNoSession):
		return h.redirect(c, v.Base)
	case err != nil:
		return err
	}
	h.letIn(c, v, in)
	return h.redirect(c, slidesOf(v))
}

// letIn gives the browser of a visitor just let in the cookies of their
// session and of their viewing.
func (h *Handler) letIn(c echo.Context, v *linkVisit, in preso.Entry) {
	h.setShareCookie(c, v.Share.ID, in.Session)
	if in.Viewing != "" {
		h.setViewingCookie(c, v.Share.ID, in.Viewing)
	}
}

// presoCodeStep is the code steps of a preso link for recipient who.
func presoCodeStep(v *linkVisit, who int) codeStep {
	return codeStep{Share: v.Share, Base: v.Base, Entry: urlFor(routeLinkCode, v.Token) + "?who=" + strconv.Itoa(who), Msg: "landing"}
}

// presoSendCode is "Send me a code": to the chosen mobile of the chosen contact.
func (h *Handler) presoSendCode(c echo.Context, v *linkVisit) error {
	who, mobiles, ok := pickedRecipient(v, c.FormValue("who"))
	if !ok || len(mobiles) == 0 {
		return h.redirect(c, v.Base)
	}
	to, err := strconv.Atoi(c.FormValue("to"))
	if err != nil {
		to = -1
	}
	lang, title := v.Share.Recipients[who].Lang, h.presos.Title(v.Visit)
	_, ttl := h.shareSettings()
	return h.sendCode(c, presoCodeStep(v, who), func() error {
		return h.presos.SendCode(v.Visit, who, to, ttl, c.Request().UserAgent(),
			func(t share.Target, code string, expires time.Time) (*store.Message, error) {
				return &store.Message{Channel: t.Channel, To: t.To, Lang: lang, Kind: mail.PresoCode, Secret: code, ExpiresAt: expires,
					Args: map[string]string{"Title": title, "Expires": mail.TimeArg(expires)}, ClientID: v.Share.ClientOf(who)}, nil
			})
	})
}

// presoCodeForm is "Enter your code".
func (h *Handler) presoCodeForm(c echo.Context, v *linkVisit) error {
	who, mobiles, ok := pickedRecipient(v, c.QueryParam("who"))
	if !ok {
		return h.redirect(c, v.Base)
	}
	// Back after verifying goes on to the preso, as the landing does.
	if v.Admitted() {
		return h.redirect(c, slidesOf(v))
	}
	pg, d := h.landingPage(c, v)
	pick(v, d, who, mobiles)
	d.Code = true
	if n, ok := h.takeCodeNote(c, v.Share.ID); ok {
		pg.Errors[n.Field], pg.ErrArgs = n.Msg, n.Args
		d.Refused = n.Refused
	}
	if to, waiting, ok, err := h.shares.LastCode(v.Share.ID, d.Who); err != nil {
		return err
	} else if ok {
		d.Sent, d.Waiting, d.Held = keepTogether(to.Masked()), waiting, h.codesHeld(to.Channel)
	}
	return h.render(c, http.StatusOK, "preso_landing", pg)
}

// presoVerify checks the code; the limits are kept in the store. A right code
// is used up, and the visitor's session and viewing begin, in one write; the
// answer is a redirect, with no page built.
func (h *Handler) presoVerify(c echo.Context, v *linkVisit) error {
	who, _, ok := pickedRecipient(v, c.FormValue("who"))
	if !ok {
		return h.redirect(c, v.Base)
	}
	var in preso.Entry
	_, answered, err := h.checkCode(c, presoCodeStep(v, who), func(code string) (share.Check, error) {
		res, entry, err := h.presos.Verify(v.Visit, who, code, visitorOf(c))
		in = entry
		return res, err
	})
	if errors.Is(err, share.ErrRefused) {
		// A code sent before its recipient lost access.
		return errPresoAccessEnded
	} else if answered || err != nil {
		return err
	}
	h.letIn(c, v, in)
	return h.redirect(c, slidesOf(v))
}
