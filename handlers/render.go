package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/locales"
	"foyer/store"
	"foyer/views"
)

// loc returns the request's localizer.
func (h *Handler) loc(c echo.Context) *locales.Localizer {
	if l, ok := c.Get(ctxLoc).(*locales.Localizer); ok {
		return l
	}
	// Errors raised before the session is read (CSRF, body limit) still speak the visitor's language.
	return h.catalog.Get(h.language(c, nil))
}

// page fills what every page needs.
func (h *Handler) page(c echo.Context, title string) *views.Page {
	p, _ := h.currentPractice()
	user := currentUser(c)
	pg := &views.Page{
		Localizer: h.loc(c),
		CSRF:      h.csrfToken(c),
		Path:      c.Request().URL.Path,
		User:      user,
		Account:   currentAccount(c),
		Practice:  p,
		BrandURL:  "/brand.css?v=" + strings.TrimPrefix(p.BrandColor, "#"),
		Title:     title,
		Form:      map[string]string{},
		Errors:    map[string]string{},
	}
	pg.Flash, pg.FlashWhen = h.takeFlash(c)
	if p.LogoType != "" {
		pg.LogoURL = "/logo?v=" + strconv.FormatInt(p.LogoVersion, 10)
	}
	pg.Zone = h.zone()
	pg.DeliveryWarning = h.deliveryWarning(c, user)
	if id, st := h.backupWarning(user); id != "" {
		pg.BackupWarning, pg.BackupSince = id, st.FailingSince
	}
	if user != nil && access.IsOwner(user.Role) {
		// The owner is the one who can free space on the server.
		pg.DiskFull, pg.DiskFullSince = h.store.DiskFull()
	}
	return pg
}

// deliveryWarning names the banner saying a channel Foyer uses cannot deliver,
// until dismissed for the session. Every staff member sees it — a practitioner
// sharing documents must know the email waits — in words for their role:
// owners and admins can open the outbox, the others wait for the owner.
func (h *Handler) deliveryWarning(c echo.Context, user *store.Staff) string {
	if user == nil || h.outbox == nil {
		return ""
	}
	if sess := currentSession(c); sess != nil && str(sess.Values[sessBannerHidden]) != "" {
		return ""
	}
	email := h.outbox.Configured(store.ChannelEmail)
	sms := h.outbox.Configured(store.ChannelSMS)
	if !sms {
		// Only share links send text messages (their security codes): until the
		// practice has made one, an SMS provider left unset is no news to staff.
		used, err := h.store.HasShares()
		sms = err == nil && !used
	}
	key := ""
	switch {
	case !email && !sms:
		key = "outbox.banner_both"
	case !email:
		key = "outbox.banner_email"
	case !sms:
		key = "outbox.banner_sms"
	default:
		return ""
	}
	if !isAdmin(user) {
		key += "_staff"
	}
	return key
}

// dismissBanner hides the delivery banner until the session ends.
func (h *Handler) dismissBanner(c echo.Context) error {
	sess := currentSession(c)
	sess.Values[sessBannerHidden] = "1"
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return h.redirect(c, localPath(c.FormValue("next")))
}

// render writes a page: whole, or its content block alone for an HTMX request.
func (h *Handler) render(c echo.Context, status int, name string, pg *views.Page) error {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, name, isHTMX(c), pg); err != nil {
		return err
	}
	return h.writeHTML(c, status, buf.Bytes())
}

// show renders the page that build makes: the GET half of a form's flow,
// whose POST half rebuilds the same page to show errors.
func (h *Handler) show(name string, build func(echo.Context) (*views.Page, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		pg, err := build(c)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusOK, name, pg)
	}
}

// renderBlock writes one block of a page, for an HTMX swap of a fragment.
func (h *Handler) renderBlock(c echo.Context, status int, name, block string, data any) error {
	var buf bytes.Buffer
	if err := h.views.RenderBlock(&buf, name, block, data); err != nil {
		return err
	}
	return h.writeHTML(c, status, buf.Bytes())
}

func (h *Handler) writeHTML(c echo.Context, status int, body []byte) error {
	pageHeaders(c.Response().Header())
	return c.HTMLBlob(status, body)
}

// pageHeaders are the headers of every page: kept by no cache, and whole
// or a part of itself as htmx asks (isHTMX). The values are shared and
// read-only (see fixedHeaders): setting them costs no allocation.
func pageHeaders(hd http.Header) {
	if v := hd["Vary"]; len(v) > 0 {
		hd["Vary"] = append(v, pageVary[0])
	} else {
		hd["Vary"] = pageVary[:1:1]
	}
	hd["Cache-Control"] = noStore[:1:1]
}

var (
	pageVary = []string{hxRequest + ", " + hxHistoryRestore}
	noStore  = []string{"no-store"}
)

// invalid re-renders a form with its errors beside the fields.
func (h *Handler) invalid(c echo.Context, name string, pg *views.Page, f *form) error {
	pg.Form, pg.Errors, pg.ErrArgs = f.vals, f.errs, f.args
	return h.render(c, http.StatusUnprocessableEntity, name, pg)
}

// tooMany re-renders a form with "too many attempts" beside field ("_form" for the whole form).
func (h *Handler) tooMany(c echo.Context, name string, pg *views.Page, f *form, field string) error {
	f.fail(field, "signin.too_many")
	pg.Form, pg.Errors = f.vals, f.errs
	return h.render(c, http.StatusTooManyRequests, name, pg)
}

// The flash is a message ID carried by a short cookie across one redirect; only
// IDs under "flash." are honoured, so the cookie cannot put other text on a page.
const flashCookie = "foyer_flash"

func (h *Handler) setFlash(c echo.Context, id string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: id, Path: "/", MaxAge: 60, HttpOnly: true, Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
}

// setFlashAt is setFlash for a message that names a moment ({{.When}}), such
// as a link's new expiry: the cookie carries it as a Unix time, which can
// put nothing but a date on the page.
func (h *Handler) setFlashAt(c echo.Context, id string, when time.Time) {
	h.setFlash(c, id+"@"+strconv.FormatInt(when.Unix(), 10))
}

// takeFlash reads and removes the flash: its message ID, and the moment it
// names (zero for none).
func (h *Handler) takeFlash(c echo.Context) (string, time.Time) {
	v, ok := cookieValue(c.Request(), flashCookie)
	if !ok || !strings.HasPrefix(v, "flash.") {
		return "", time.Time{}
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
	id, at, _ := strings.Cut(v, "@")
	var when time.Time
	if at != "" {
		unix, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return "", time.Time{}
		}
		when = time.Unix(unix, 0)
	}
	if h.loc(c).T(id) == id {
		return "", time.Time{}
	}
	return id, when
}

type errorData struct {
	Title, Body, Home string
	// Contact: the page shows how to reach the practice (a link's visitor).
	Contact bool
	// Action and ActionLabel are what to do next, when the error says (see Error.Action).
	Action, ActionLabel string
}

// errorKeys maps a status to the message IDs of its page.
func errorKey(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "error.bad_request"
	case http.StatusForbidden:
		return "error.forbidden"
	case http.StatusNotFound:
		return "error.not_found"
	case http.StatusMethodNotAllowed:
		return "error.method"
	case http.StatusGone:
		return "error.gone"
	case http.StatusRequestEntityTooLarge:
		return "error.too_large"
	case http.StatusTooManyRequests:
		return "error.too_many"
	}
	if status >= 500 {
		return "error.server"
	}
	return "error.bad_request"
}

// handleError is echo's one error handler: a localized error page, and a log
// line only for what is not an expected HTTP error.
func (h *Handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, key := statusOf(err)
	if status >= 500 {
		h.log.Error("request failed", "id", c.Response().Header().Get(echo.HeaderXRequestID), "route", c.Path(), "err", err)
	}
	ownKey := key != ""
	if !ownKey {
		key = errorKey(status)
	}
	if c.Request().Method == http.MethodHead {
		// The headers of the page a GET would get, without it.
		pageHeaders(c.Response().Header())
		_ = c.NoContent(status)
		return
	}
	path := c.Request().URL.Path
	if key == "error.not_found" && strings.HasPrefix(path, "/s/") {
		key = "error.share_not_found"
	}
	pg := h.page(c, key+".title")
	data := errorData{Title: key + ".title", Body: key + ".body", Home: "/"}
	switch {
	case strings.HasPrefix(path, "/portal"):
		// Clients go back to their portal, not to the staff sign-in.
		pg.Portal, pg.DeliveryWarning = true, ""
		data.Home = "/portal"
	case strings.HasPrefix(path, "/s/"):
		// Someone holding a share link has no home here: the staff sign-in is
		// not for them, and the message says to contact the practice, whose
		// phone and email the page gives.
		pg.Portal, pg.DeliveryWarning = true, ""
		data.Home, data.Contact = "", true
	}
	var a interface{ ActionPath() string }
	if ownKey && errors.As(err, &a) && a.ActionPath() != "" {
		data.Action, data.ActionLabel = a.ActionPath(), key+".action"
	}
	pg.Data = data
	if rerr := h.render(c, status, "error", pg); rerr != nil {
		h.log.Error("error page failed", "err", rerr)
		_ = c.String(status, http.StatusText(status))
	}
}
