package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/share"
	"foyer/store"
)

// The staff side of sharing a preso: the sharing box (Create link, Copy link,
// Refresh link, Expire, the Signing panel) and each share as an activity. The
// share itself is the share engine's (package share), of kind "preso", whose
// snapshot is one store.Snapshot of the included slides.

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
}

type shareRow struct {
	store.Share
	Link    string
	Created string
	Expires string
	State   string
	Viewers int
	Live    bool
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

// presoShares returns the preso's shares, newest first.
func (h *Handler) presoShares(presoID uint64) ([]store.Share, error) {
	all, err := h.store.SharesOfSubject(store.SharePreso, presoID)
	slices.SortFunc(all, func(a, b store.Share) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return all, err
}

// presoShareView reads the sharing box of a preso (nil for a template).
func (h *Handler) presoShareView(c echo.Context, p store.Preso) (*shareView, error) {
	if p.Template {
		return nil, nil
	}
	all, err := h.presoShares(p.ID)
	if err != nil {
		return nil, err
	}
	pg := h.page(c, "preso.title")
	v := &shareView{PresoID: p.ID, Visibility: p.Visibility, Signing: p.HasSigning()}
	if len(p.ContactIDs) == 0 {
		v.Problem = "preso.share_needs_contacts"
	}
	l := h.loc(c)
	for _, sh := range all {
		row := shareRow{Share: sh, Created: pg.DateTime(sh.CreatedAt), Expires: pg.DateTime(sh.ExpiresAt), State: string(h.shares.State(sh))}
		row.Live = row.State == string(store.ShareActive) || row.State == string(store.ShareLocked)
		if row.Live {
			token, err := h.shares.Link(sh)
			if err != nil {
				return nil, err
			}
			row.Link = h.link("/s/" + token)
		}
		viewings, err := h.store.ShareViewings(sh.ID)
		if err != nil {
			return nil, err
		}
		row.Viewers = len(viewings)
		// Signatures stay listed whatever became of the link they came through.
		sigs, err := h.store.ShareSignatures(sh.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range sigs {
			s = h.withViewing(s)
			sr := signatureRow{Signature: s, When: pg.DateTime(s.At), Identity: h.signerIdentity(l, s)}
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
	if v.Live != nil {
		if v.OutOfDate, err = h.shareOutOfDate(p, v.Live.Share); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// shareOutOfDate tells whether a share shows less than the preso would now.
func (h *Handler) shareOutOfDate(p store.Preso, sh store.Share) (bool, error) {
	if len(sh.Snapshot) != 1 {
		return true, nil
	}
	snap, err := h.store.Snapshot(sh.Snapshot[0])
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if snap.Content != p.Content || sh.Visibility != p.Visibility {
		return true, nil
	}
	recipients, err := h.presoRecipients(p)
	if err != nil {
		return false, err
	}
	return !slices.EqualFunc(recipients, sh.Recipients, func(a, b store.ShareRecipient) bool {
		return a.ClientID == b.ClientID && a.Name == b.Name && a.Email == b.Email && slices.Equal(a.Mobiles, b.Mobiles)
	}), nil
}

// presoRecipients turns the preso's contacts into share recipients, with the
// numbers that can receive a code.
func (h *Handler) presoRecipients(p store.Preso) ([]store.ShareRecipient, error) {
	var out []store.ShareRecipient
	for _, id := range p.ContactIDs {
		cl, err := h.store.Client(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		r := store.ShareRecipient{Name: cl.Name(), Email: cl.Email, Lang: cl.Lang, ClientID: cl.ID}
		for _, ph := range cl.Phones {
			if ph.ReceivesCodes() {
				r.Mobiles = append(r.Mobiles, ph.Number)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// checkShareable says why the preso cannot be shared as it is, "" when it can.
func (h *Handler) checkShareable(p store.Preso, recipients []store.ShareRecipient) string {
	if len(recipients) == 0 {
		return "preso.share_needs_contacts"
	}
	if len(p.Included()) == 0 {
		return "preso.share_needs_slides"
	}
	if p.Visibility == store.VisibilityContacts {
		for _, r := range recipients {
			if len(r.Mobiles) == 0 {
				return "preso.visibility_needs_mobiles"
			}
		}
	}
	return ""
}

// shareBox is the sharing box: a dialog over the preso screen for HTMX, a page without JavaScript.
func (h *Handler) shareBox(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil || p.Template {
		return echo.ErrNotFound
	}
	return h.renderShareBox(c, p, false, "", http.StatusOK)
}

func (h *Handler) renderShareBox(c echo.Context, p store.Preso, fresh bool, problem string, status int) error {
	v, err := h.presoShareView(c, p)
	if err != nil {
		return err
	}
	v.Fresh = fresh
	if problem != "" {
		v.Problem = problem
	}
	pg := h.page(c, "preso.share_title")
	pg.Data = &presoData{Preso: p, Share: v}
	return h.render(c, status, "preso_share", pg)
}

// createPresoShare is Create link: a share of a snapshot of the included slides as they are now.
func (h *Handler) createPresoShare(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil || p.Template {
		return echo.ErrNotFound
	}
	recipients, snap, answered, err := h.shareableSnapshot(c, p)
	if answered || err != nil {
		return err
	}
	user := currentUser(c)
	d := share.Draft{Kind: store.SharePreso, SubjectID: p.ID, StaffID: user.ID, Recipients: recipients,
		Visibility: p.Visibility, Snapshot: []uint64{snap.ID}, Lifetime: h.presoShareLifetime()}
	if len(p.ContactIDs) > 0 {
		d.ClientID = p.ContactIDs[0]
	}
	sh, _, err := h.shares.Create(d, nil)
	if err != nil {
		return err
	}
	if err := h.store.AddPresoEvent(p.ID, store.PresoEvent{At: h.now().UTC(), Kind: "shared", StaffID: user.ID, OtherID: sh.ID}); err != nil {
		return err
	}
	return h.afterShareChange(c, p, true)
}

// shareableSnapshot checks that the preso can be shared as it is now and
// freezes its included slides; when it cannot, it answers with the sharing box
// saying why, and reports answered.
func (h *Handler) shareableSnapshot(c echo.Context, p store.Preso) (recipients []store.ShareRecipient, snap store.Snapshot, answered bool, err error) {
	if recipients, err = h.presoRecipients(p); err != nil {
		return nil, snap, true, err
	}
	if problem := h.checkShareable(p, recipients); problem != "" {
		return nil, snap, true, h.renderShareBox(c, p, false, problem, http.StatusUnprocessableEntity)
	}
	snap, err = h.store.SaveSnapshot(p.ID, h.now().UTC())
	return recipients, snap, err != nil, err
}

// afterShareChange shows the box again: swapped in place for HTMX, through a
// redirect without JavaScript (so a reload does not post again).
func (h *Handler) afterShareChange(c echo.Context, p store.Preso, fresh bool) error {
	if !isHTMX(c) {
		return h.redirect(c, "/presos/"+strconv.FormatUint(p.ID, 10)+"/share")
	}
	return h.renderShareBox(c, p, fresh, "", http.StatusOK)
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
		return p, store.Share{}, echo.ErrNotFound
	}
	sh, err := h.shares.Get(id)
	if errors.Is(err, share.ErrNotFound) || (err == nil && (sh.Kind != store.SharePreso || sh.SubjectID != p.ID)) {
		return p, store.Share{}, echo.ErrNotFound
	}
	return p, sh, err
}

// refreshPresoShare is Refresh link: the same URL shows a new snapshot, for the
// preso's contacts and visibility as they are now; the activity keeps the old one.
func (h *Handler) refreshPresoShare(c echo.Context) error {
	p, sh, err := h.presoShare(c)
	if err != nil {
		return err
	}
	recipients, snap, answered, err := h.shareableSnapshot(c, p)
	if answered || err != nil {
		return err
	}
	user := currentUser(c)
	if _, err := h.shares.Retarget(sh.ID, recipients, p.Visibility); errors.Is(err, share.ErrEnded) {
		return h.renderShareBox(c, p, false, "preso.share_ended", http.StatusConflict)
	} else if err != nil {
		return err
	}
	if _, err := h.shares.Refresh(sh.ID, []uint64{snap.ID}, user.ID); err != nil {
		return err
	}
	if err := h.store.AddPresoEvent(p.ID, store.PresoEvent{At: h.now().UTC(), Kind: "refreshed", StaffID: user.ID, OtherID: sh.ID}); err != nil {
		return err
	}
	return h.afterShareChange(c, p, true)
}

// expirePresoShare is Expire: the link stops at once, even for a viewer with the preso open.
func (h *Handler) expirePresoShare(c echo.Context) error {
	p, sh, err := h.presoShare(c)
	if err != nil {
		return err
	}
	user := currentUser(c)
	if _, err := h.shares.Expire(sh.ID, store.ShareEvent{Recipient: -1, StaffID: user.ID}); err != nil && !errors.Is(err, share.ErrEnded) {
		return err
	}
	if err := h.store.AddPresoEvent(p.ID, store.PresoEvent{At: h.now().UTC(), Kind: "expired", StaffID: user.ID, OtherID: sh.ID}); err != nil {
		return err
	}
	return h.afterShareChange(c, p, false)
}

// presoShareLifetime is how long a preso's link lives: the practice's share
// lifetime, the same as for documents.
func (h *Handler) presoShareLifetime() time.Duration {
	lifetime, _ := h.shareSettings()
	return lifetime
}
