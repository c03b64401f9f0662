package handlers

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/share"
	"foyer/store"
)

// The client's side of a shared preso, behind /s/{token} once the visitor has
// picked their name (and, for contacts only, entered their code): the slides,
// one a page, the time-on-slide beacons and the signing slide. Every request
// checks the share again, so Expire stops a viewer already open at their next
// slide or beacon.

const (
	// maxBeaconBody bounds a beacon request; a real one is under 200 bytes.
	maxBeaconBody = 1024
	// maxSlideMillis is the most one beacon may report (a tab left open overnight is not attention).
	maxSlideMillis = int64(time.Hour / time.Millisecond)
)

// limitBeacons throttles beacons per address: a viewer sends one per slide change.
var limitBeacons = policy{every: 100 * time.Millisecond, burst: 60}

// presoVisit is a verified visit to a preso share.
type presoVisit struct {
	Share   store.Share
	Token   string
	Base    string
	Session store.ShareSession
	Snap    store.Snapshot
}

// openPresoShare finds the preso share of the route and the visitor's verified
// session for it. An ended share shows the ended page; no session sends the
// visitor back to the landing, where they pick their name.
func (h *Handler) openPresoShare(c echo.Context) (*presoVisit, error) {
	token := c.Param("token")
	sh, err := h.shares.Open(token)
	if errors.Is(err, share.ErrNotFound) || (err == nil && sh.Kind != store.SharePreso) {
		return nil, h.shareMiss(c)
	}
	if errors.Is(err, share.ErrEnded) || errors.Is(err, share.ErrLocked) {
		return nil, echo.NewHTTPError(http.StatusGone, "error.share_ended")
	} else if err != nil {
		return nil, err
	}
	v := &presoVisit{Share: sh, Token: token, Base: "/s/" + token}
	sid := h.shareSessionID(c, sh.ID)
	if sid == "" {
		return v, errNoVisit
	}
	ss, err := h.shares.Session(sid, sh)
	if errors.Is(err, share.ErrNoSession) {
		return v, errNoVisit
	} else if err != nil {
		return nil, err
	}
	// Someone who came in by their name and has since been removed from the
	// preso's contacts is out, at once.
	if v.Share, err = h.presoLiveRecipients(sh); err != nil {
		return nil, err
	}
	if i := ss.Recipient; i >= 0 && (i >= len(v.Share.Recipients) || goneRecipient(v.Share.Recipients[i])) {
		if err := h.shares.EndSession(sid); err != nil {
			return nil, err
		}
		return nil, echo.NewHTTPError(http.StatusGone, "error.share_ended")
	}
	v.Session = ss
	h.keepShareCookie(c, sh.ID, sid, ss)
	if len(sh.Snapshot) != 1 {
		return nil, echo.NewHTTPError(http.StatusGone, "error.share_ended")
	}
	if v.Snap, err = h.store.Snapshot(sh.Snapshot[0]); errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusGone, "error.share_ended")
	}
	// The viewer speaks the landing's language, whoever was picked there.
	c.Set(ctxLoc, h.shareVisitorLoc(c, v.Share))
	return v, err
}

// errNoVisit: the visitor has not picked their name yet (or their session ended).
var errNoVisit = errors.New("no verified visit")

// viewing finds the visitor's viewing of this share, or starts one: the first
// slide seen after picking one's name starts the record of what was viewed.
func (h *Handler) viewing(c echo.Context, v *presoVisit) (store.Viewing, string, error) {
	if ck, err := c.Cookie(h.viewingCookieName(v.Share.ID)); err == nil && len(ck.Value) == 43 {
		vw, err := h.store.ViewingByToken(ck.Value, v.Share.ID)
		if err == nil && vw.SnapshotID == v.Snap.ID {
			return vw, ck.Value, nil
		} else if err != nil && !errors.Is(err, store.ErrNotLive) {
			return vw, "", err
		}
	}
	token := auth.NewToken()
	browser, os := share.Browser(c.Request().UserAgent())
	vw := store.Viewing{ShareID: v.Share.ID, PresoID: v.Share.SubjectID, SnapshotID: v.Snap.ID, Verification: "none",
		Browser: browserLine(browser + " · " + os), IP: c.RealIP(), StartedAt: h.now().UTC()}
	if v.Share.Visibility == store.VisibilityContacts {
		vw.Verification = "sms"
	}
	if i := v.Session.Recipient; i >= 0 && i < len(v.Share.Recipients) {
		r := v.Share.Recipients[i]
		vw.ContactID, vw.Name, vw.Email = r.ClientID, r.Name, r.Email
	} else {
		vw.Anonymous = true
	}
	if err := h.store.StartViewing(&vw, token); err != nil {
		return vw, "", err
	}
	h.setViewingCookie(c, v.Share.ID, token)
	return vw, token, nil
}

// shareSlide is one slide of a shared preso.
func (h *Handler) shareSlide(c echo.Context) error {
	v, err := h.openPresoShare(c)
	if errors.Is(err, errNoVisit) {
		return h.redirect(c, v.Base)
	} else if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return echo.ErrNotFound
	}
	d, ok := h.viewerPage(c, v.Snap.Title, v.Snap.Slides, n, v.Base+"/slides/", v.Base+"/images/")
	if !ok {
		return echo.ErrNotFound
	}
	_, token, err := h.viewing(c, v)
	if err != nil {
		return err
	}
	d.Beacon, d.Viewing = v.Base+"/beacon", token
	if d.Slide.Kind == store.SlideSigning {
		if d.Sign, err = h.signView(c, v, d.Slide); err != nil {
			return err
		}
	}
	pg := h.page(c, "viewer.title")
	pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
	pg.Data = d
	return h.render(c, http.StatusOK, "viewer", pg)
}

// shareSlideImage serves the image of a slide of the snapshot the visitor sees.
func (h *Handler) shareSlideImage(c echo.Context) error {
	v, err := h.openPresoShare(c)
	if errors.Is(err, errNoVisit) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	id, _ := strconv.ParseUint(c.Param("sid"), 10, 64)
	for _, s := range v.Snap.Slides {
		if s.ID == id && s.Image != "" {
			return h.serveSlideImage(c, s.Image, s.ImageType)
		}
	}
	return echo.ErrNotFound
}

// beacon records time spent on a slide. It is let through like a slide
// request (openPresoShare: the share is live, this browser's visit of this
// share is valid, its contact was not removed, its link not refreshed away),
// and only for the viewing this browser holds: the posted viewing token must
// be the one of its viewing cookie for this share. A token read off someone
// else's page or cookie is worth nothing without their cookies. Refusals carry
// no redirect (sendBeacon does not follow one) and store nothing.
func (h *Handler) beacon(c echo.Context) error {
	if c.Request().ContentLength > maxBeaconBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "error.too_large")
	}
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxBeaconBody)
	if !h.limits.allow("beacon:"+c.RealIP(), limitBeacons) {
		return echo.NewHTTPError(http.StatusTooManyRequests, "error.too_many")
	}
	v, err := h.openPresoShare(c)
	if errors.Is(err, errNoVisit) {
		return echo.NewHTTPError(http.StatusForbidden, "error.forbidden")
	} else if err != nil {
		return err
	}
	if _, err := c.FormParams(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	token := c.FormValue("v")
	slide, err1 := strconv.ParseUint(c.FormValue("slide"), 10, 64)
	ms, err2 := strconv.ParseInt(c.FormValue("ms"), 10, 64)
	if len(token) != 43 || err1 != nil || err2 != nil || ms < 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	ms = min(ms, maxSlideMillis)
	ck, err := c.Cookie(h.viewingCookieName(v.Share.ID))
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(token)) != 1 {
		return echo.NewHTTPError(http.StatusForbidden, "error.forbidden")
	}
	vw, err := h.store.ViewingByToken(token, v.Share.ID)
	if errors.Is(err, store.ErrNotLive) || (err == nil && vw.SnapshotID != v.Snap.ID) {
		return echo.NewHTTPError(http.StatusForbidden, "error.forbidden")
	} else if err != nil {
		return err
	}
	// Only a slide the link shows counts (the left-out ones are not in the snapshot).
	known := false
	for _, s := range v.Snap.Slides {
		known = known || s.ID == slide
	}
	if !known {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	_, err = h.store.RecordBeacon(store.Beacon{Token: token, ShareID: v.Share.ID, SlideID: slide, Millis: ms, At: h.now().UTC()})
	if errors.Is(err, store.ErrNotLive) {
		return echo.NewHTTPError(http.StatusForbidden, "error.forbidden")
	} else if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
