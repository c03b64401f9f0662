package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/certificate"
	"foyer/preso"
	"foyer/share"
	"foyer/store"
)

// The staff side of sharing a preso: the sharing box (Create link, Copy link,
// Refresh link, Expire, the Signing panel) and each share as an activity. The
// rules are the preso domain's (preso.Service); the share itself is the
// share engine's, of kind "preso".

// shareView is the preso's sharing box.
type shareView struct {
	PresoID uint64
	// Live is the share whose link works now, nil when there is none.
	Live *shareRow
	// OutOfDate: the preso changed since the live share's snapshot (slides,
	// their order or content, contacts, visibility).
	OutOfDate bool
	// All lists every share of the preso, newest first (the activity).
	All []shareRow
	// Problem is why a link cannot be made (message ID).
	Problem    string
	Visibility store.Visibility
	// Signing is true when the preso has a signing slide: the box shows who signed.
	Signing    bool
	Signatures []signatureRow
	// Fresh is true right after Create link or Refresh link: the page copies the link.
	Fresh bool
	// Reopened is true right after Refresh link made a link that opened for
	// nobody open again.
	Reopened bool
}

type shareRow struct {
	store.Share
	Link    string
	Created string
	Expires string
	State   string
	Viewers int
	Live    bool
	// Nobody: the link is live but opens for nobody now (preso.LinkState).
	Nobody bool
}

type signatureRow struct {
	store.Signature
	When string
	// Identity is who the viewing was for and how it was checked; Differs the
	// warning when the typed name is not that contact's.
	Identity, Differs string
	// Through names the link it came through when that link no longer works.
	Through string
}

// shareProblems say why a preso cannot be shared as it is.
var shareProblems = map[error]string{
	preso.ErrNoContacts: "preso.share_needs_contacts",
	preso.ErrNoSlides:   "preso.share_needs_slides",
	preso.ErrNoMobiles:  "preso.visibility_needs_mobiles",
}

// presoShareView reads the sharing box of a preso (nil for a template).
func (h *Handler) presoShareView(c echo.Context, p store.Preso) (*shareView, error) {
	if p.Template {
		return nil, nil
	}
	box, err := h.presos.Box(p)
	if err != nil {
		return nil, err
	}
	pg := h.page(c, "preso.title")
	l := h.loc(c)
	v := &shareView{PresoID: p.ID, Visibility: p.Visibility, Signing: p.HasSigning(), OutOfDate: box.OutOfDate}
	if len(p.ContactIDs) == 0 {
		v.Problem = "preso.share_needs_contacts"
	}
	for _, ls := range box.Links {
		row := shareRow{Share: ls.Share, Created: pg.DateTime(ls.Share.CreatedAt), Expires: pg.DateTime(ls.Share.ExpiresAt),
			State: string(ls.State), Viewers: ls.Viewers, Live: ls.Live, Nobody: ls.Nobody}
		if ls.Token != "" {
			row.Link = h.link(urlFor(routeLink, ls.Token))
		}
		// Signatures stay listed whatever became of the link they came through.
		for _, s := range ls.Signatures {
			sr := signatureRow{Signature: s, When: pg.DateTime(s.At), Identity: certificate.Identity(l, s)}
			if msg := nameDiffers(s); msg != "" {
				sr.Differs = l.T(msg)
			}
			if !row.Live {
				sr.Through = l.T("preso.signed_through", "When", row.Created, "State", l.T("preso.share_state_"+row.State))
			}
			v.Signatures = append(v.Signatures, sr)
		}
		v.All = append(v.All, row)
		if row.Live && v.Live == nil {
			cp := row
			v.Live = &cp
		}
	}
	// Newest signature first, across all the links.
	slices.SortStableFunc(v.Signatures, func(a, b signatureRow) int { return b.At.Compare(a.At) })
	return v, nil
}

// shareBox is the sharing box: a dialog over the preso screen for HTMX, a page without JavaScript.
func (h *Handler) shareBox(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil || p.Template {
		return errNotFound
	}
	return h.renderShareBox(c, p, false, "", http.StatusOK)
}

func (h *Handler) renderShareBox(c echo.Context, p store.Preso, fresh bool, problem string, status int) error {
	return h.renderShareBoxAfter(c, p, fresh, false, problem, status)
}

// renderShareBoxAfter is renderShareBox, saying when a change made a link
// that opened for nobody open again (reopened).
func (h *Handler) renderShareBoxAfter(c echo.Context, p store.Preso, fresh, reopened bool, problem string, status int) error {
	v, err := h.presoShareView(c, p)
	if err != nil {
		return err
	}
	v.Fresh = fresh
	v.Reopened = reopened
	if v.Live != nil && v.Live.Nobody {
		// Its note says what to do instead: add a contact, then Refresh link.
		v.Problem = ""
	}
	if problem != "" {
		v.Problem = problem
	}
	pg := h.page(c, "preso.share_title")
	pg.Data = &presoData{Preso: p, Share: v}
	return h.render(c, status, "preso_share", pg)
}

// afterShareChange answers a change of a preso's links: the box again with
// fresh (the link to copy), or why the change could not be made.
func (h *Handler) afterShareChange(c echo.Context, p store.Preso, fresh bool, err error) error {
	return h.afterShareChangeReopened(c, p, fresh, false, err)
}

// afterShareChangeReopened is afterShareChange, saying when the change made a
// link that opened for nobody open again (reopened).
func (h *Handler) afterShareChangeReopened(c echo.Context, p store.Preso, fresh, reopened bool, err error) error {
	switch {
	case shareProblems[err] != "":
		return h.renderShareBox(c, p, false, shareProblems[err], http.StatusUnprocessableEntity)
	case errors.Is(err, share.ErrEnded):
		return h.renderShareBox(c, p, false, "preso.share_ended", http.StatusConflict)
	case err != nil:
		return presoError(err)
	case !isHTMX(c):
		// Without JavaScript, through a redirect (so a reload does not post again).
		if reopened {
			h.setFlash(c, "flash.preso.link_reopened")
		}
		return h.redirect(c, urlFor(routePresoShares, p.ID))
	}
	return h.renderShareBoxAfter(c, p, fresh, reopened, "", http.StatusOK)
}

// createPresoShare is Create link: a share of a snapshot of the included slides as they are now.
func (h *Handler) createPresoShare(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil || p.Template {
		return errNotFound
	}
	_, err = h.presos.CreateLink(editor(c), p, h.presoShareLifetime())
	return h.afterShareChange(c, p, true, err)
}

// presoShare loads the preso of the route (loadPreso: 404 for whoever may not
// open it) and its share, which must be one of that preso's.
func (h *Handler) presoShare(c echo.Context) (store.Preso, store.Share, error) {
	p, err := h.loadPreso(c)
	if err != nil {
		return p, store.Share{}, err
	}
	id, err := strconv.ParseUint(c.Param("share"), 10, 64)
	if err != nil {
		return p, store.Share{}, errNotFound
	}
	sh, err := h.presos.Link(p, id)
	return p, sh, presoError(err)
}

// refreshPresoShare is Refresh link: the same URL shows a new snapshot, for the
// preso's contacts and visibility as they are now; the activity keeps the old one.
func (h *Handler) refreshPresoShare(c echo.Context) error {
	p, sh, err := h.presoShare(c)
	if err != nil {
		return err
	}
	// Whether the link opened for anybody, before and after, is the share
	// engine's answer, so the box can say Refresh link made it open again.
	before, err := h.shares.OpensShare(sh.ID)
	if err != nil {
		return err
	}
	err = h.presos.RefreshLink(editor(c), p, sh.ID)
	reopened := false
	if err == nil && !before {
		if reopened, err = h.shares.OpensShare(sh.ID); err != nil {
			return err
		}
	}
	return h.afterShareChangeReopened(c, p, true, reopened, err)
}

// confirmExpirePresoShare asks before Expire, which cannot be undone: in the
// sharing box for HTMX, a page of its own without JavaScript, as document
// Expire does. A link that ended meanwhile shows the box, saying so.
func (h *Handler) confirmExpirePresoShare(c echo.Context) error {
	p, sh, err := h.presoShare(c)
	if err != nil {
		return err
	}
	if st := h.shares.State(sh); st != store.ShareActive && st != store.ShareLocked {
		return h.renderShareBox(c, p, false, "preso.share_ended", http.StatusOK)
	}
	pg := h.page(c, "preso.expire_title")
	pg.Data = map[string]any{"Preso": p, "Share": sh, "Created": pg.DateTime(sh.CreatedAt)}
	return h.render(c, http.StatusOK, "preso_share_expire", pg)
}

// expirePresoShare is Expire: the link stops at once, even for a viewer with the preso open.
func (h *Handler) expirePresoShare(c echo.Context) error {
	p, sh, err := h.presoShare(c)
	if err != nil {
		return err
	}
	return h.afterShareChange(c, p, false, h.presos.ExpireLink(editor(c), p, sh.ID))
}

// presoShareLifetime is how long a preso's link lives: the practice's share
// lifetime, the same as for documents.
func (h *Handler) presoShareLifetime() time.Duration {
	lifetime, _ := h.shareSettings()
	return lifetime
}
