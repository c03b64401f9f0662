package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/preso"
	"foyer/store"
)

// The client's side of a shared preso, behind /s/{token} once the visitor has
// picked their name (and, for contacts only, entered their code): the slides,
// one a page, the time-on-slide beacons and the signing slide. Every request
// goes through the share engine's admission (onLink), so Expire, a removed
// contact or an archived client stops a viewer already open at their next
// slide or beacon.

const (
	// maxBeaconBody bounds a beacon request; a real one is under 200 bytes.
	maxBeaconBody = 1024
)

// limitBeacons throttles beacons per address: a viewer sends one per slide change.
var limitBeacons = policy{every: 100 * time.Millisecond, burst: 60}

// presoViewer is a preso page behind the name or code: the admitted visit
// and what the link shows. Without a session the visitor is answered by
// noVisit (back to the landing, or a refusal).
func presoViewer(noVisit func(h *Handler, c echo.Context, v *linkVisit) error, page func(h *Handler, c echo.Context, v *linkVisit, snap store.Snapshot) error) linkPage {
	return func(h *Handler, c echo.Context, v *linkVisit) error {
		if !v.Admitted() {
			return noVisit(h, c, v)
		}
		snap, err := h.presos.Viewer(v.Visit)
		if errors.Is(err, preso.ErrGone) {
			return errPresoLinkEnded
		} else if err != nil {
			return err
		}
		return page(h, c, v, snap)
	}
}

// toLanding sends a visitor who is not in back to the landing, where they pick their name.
func toLanding(h *Handler, c echo.Context, v *linkVisit) error { return h.redirect(c, v.Base) }

// presoLeave is "Change person": on a computer several people share, whoever
// comes next is not let into the viewing of the one before. It ends this
// browser's session of the link on the server, drops its cookies (the
// viewing's with it) and goes back to the landing. The viewing stays, as what
// that person saw. Without a session there is nothing to end.
func presoLeave(h *Handler, c echo.Context, v *linkVisit) error {
	if v.SessionID != "" {
		if err := h.shares.EndSession(v.SessionID); err != nil {
			return err
		}
	}
	h.dropShareCookie(c, v.Share.ID)
	return h.redirect(c, v.Base)
}

// viewing finds the visitor's viewing of this link, or starts one (keeping
// its token in the browser).
func (h *Handler) viewing(c echo.Context, v *linkVisit, snap store.Snapshot) (store.Viewing, string, error) {
	vw, token, started, err := h.presos.Viewing(v.Visit, snap, h.viewingHeld(c, v.Share.ID), visitorOf(c))
	if err == nil && started {
		h.setViewingCookie(c, v.Share.ID, token)
	}
	return vw, token, err
}

// linkSlides are the slide pages and images of a preso's link.
func linkSlides(v *linkVisit) slideLinks {
	return slideLinks{
		slide: func(n int) string { return urlFor(routeLinkSlide, v.Token, n) },
		image: func(s store.Slide) string { return urlFor(routeLinkImage, v.Token, s.ID) },
	}
}

// shareSlide is one slide of a shared preso.
func (h *Handler) shareSlide(c echo.Context, v *linkVisit, snap store.Snapshot) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return errNotFound
	}
	d, ok := h.viewerPage(c, snap.Title, snap.Slides, n, linkSlides(v))
	if !ok {
		return errNotFound
	}
	vw, token, err := h.viewing(c, v, snap)
	if err != nil {
		return err
	}
	d.Beacon, d.Viewing = urlFor(routeLinkBeacon, v.Token), token
	d.Leave, d.Who = urlFor(routeLinkLeave, v.Token), vw.Name
	if d.Slide.Kind == store.SlideSigning {
		if d.Sign, err = h.signView(c, v, vw, d.Slide); err != nil {
			return err
		}
	}
	pg := h.page(c, "viewer.title")
	pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
	pg.Data = d
	return h.render(c, http.StatusOK, "viewer", pg)
}

// shareSlideImage serves the image of a slide of the snapshot the visitor sees.
func (h *Handler) shareSlideImage(c echo.Context, v *linkVisit, snap store.Snapshot) error {
	id, _ := strconv.ParseUint(c.Param("sid"), 10, 64)
	for _, s := range snap.Slides {
		if s.ID == id && s.Image != "" {
			// Like every page behind the link: nothing of it stays in the
			// browser (a shared computer) once the link ends.
			return h.serveSlideImage(c, s.Image, s.ImageType, "no-store")
		}
	}
	return errNotFound
}

// imageNotFound answers an image asked for without a session.
func imageNotFound(*Handler, echo.Context, *linkVisit) error { return errNotFound }

// beaconRefused answers a beacon without a session: no redirect (sendBeacon
// does not follow one), nothing stored.
func beaconRefused(*Handler, echo.Context, *linkVisit) error {
	return errForbidden
}

// beaconGate bounds a beacon before anything else is read: its size, and
// how many an address sends.
func beaconGate(next func(*Handler) echo.HandlerFunc) func(*Handler) echo.HandlerFunc {
	return func(h *Handler) echo.HandlerFunc {
		serve := next(h)
		return func(c echo.Context) error {
			if c.Request().ContentLength > maxBeaconBody {
				return errTooLarge
			}
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxBeaconBody)
			if !h.limits.allow("beacon:"+limitAddr(c), limitBeacons) {
				return errTooMany
			}
			return serve(c)
		}
	}
}

// beacon records time spent on a slide, for the viewing this browser holds
// (preso.Service.Beacon says what else it takes). Refusals carry no
// redirect (sendBeacon does not follow one) and store nothing.
func (h *Handler) beacon(c echo.Context, v *linkVisit, snap store.Snapshot) error {
	b, err := h.readBeacon(c, v)
	if err != nil {
		return err
	}
	switch err := h.presos.Beacon(v.Visit, snap, b.held, b.posted, b.slide, b.ms); {
	case errors.Is(err, preso.ErrBadBeacon):
		return errBadRequest
	case errors.Is(err, preso.ErrForbidden):
		return errForbidden
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// lateBeacon is the beacon of a viewer whose link ended while they had a
// slide open: its time counts up to the end (preso.Service.LateBeacon);
// anything else is told the link ended.
func (h *Handler) lateBeacon(c echo.Context, v *linkVisit) error {
	b, err := h.readBeacon(c, v)
	if err != nil {
		return err
	}
	switch err := h.presos.LateBeacon(v.Share, b.held, b.posted, b.slide, b.ms); {
	case errors.Is(err, preso.ErrBadBeacon):
		return errBadRequest
	case errors.Is(err, preso.ErrForbidden):
		return errPresoLinkEnded
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// postedBeacon is what a beacon says, and the viewing token this browser holds.
type postedBeacon struct {
	slide        uint64
	ms           int64
	held, posted string
}

func (h *Handler) readBeacon(c echo.Context, v *linkVisit) (postedBeacon, error) {
	var b postedBeacon
	if _, err := c.FormParams(); err != nil {
		return b, errBadRequest
	}
	slide, err1 := strconv.ParseUint(c.FormValue("slide"), 10, 64)
	ms, err2 := strconv.ParseInt(c.FormValue("ms"), 10, 64)
	if err1 != nil || err2 != nil {
		return b, errBadRequest
	}
	b.slide, b.ms, b.posted, b.held = slide, ms, c.FormValue("v"), h.viewingHeld(c, v.Share.ID)
	return b, nil
}
