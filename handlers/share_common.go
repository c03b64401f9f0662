package handlers

import (
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/locales"
	"foyer/share"
	"foyer/store"
)

// What every share link page needs, whatever sits behind the link.

// limitShareMiss throttles, per address, requests for share tokens that do not exist.
var limitShareMiss = policy{every: 10 * time.Second, burst: 10}

// limitDownloadEvent bounds, per verified visit and file, the "Downloaded"
// lines a visitor's requests add to the history: one, and one more each half
// hour (a download manager's segments and retries are one download).
var limitDownloadEvent = policy{every: 30 * time.Minute, burst: 1}

// limitShareEnter bounds, per address and link open to anyone, how often a
// visitor may come in: each entry is a session and a line in the history the
// staff read, and a script could add them without end.
var limitShareEnter = policy{every: time.Minute, burst: 10}

// limitShareReturn bounds, per viewing, how often its browser may come back
// into it (its session ended: idle, the cookie gone): a person comes back
// now and then, and each time is a session and a line in the history a
// script holding the viewing's cookie could add without end. It is not the
// entry limit: a viewer coming back is not a newcomer of the address.
var limitShareReturn = policy{every: 10 * time.Second, burst: 6}

// allowShareEnter reports whether the visitor's address may come in to share id once more.
func (h *Handler) allowShareEnter(c echo.Context, id uint64) bool {
	return h.limits.allow("share-enter:"+limitAddr(c)+":"+strconv.FormatUint(id, 10), limitShareEnter)
}

// limitShareCode throttles, per address, failed code entries across all
// shares (the per-share limits live in the store).
var limitShareCode = policy{every: 6 * time.Second, burst: 20}

// shareCodeKey is the key of limitShareCode for the visitor: their address
// as every limit counts it (an IPv6 network by its /64).
func shareCodeKey(c echo.Context) string { return "share-code:" + limitAddr(c) }

// A browser holds one cookie per share link it was let into, so a visitor
// with several links stays in all of them: with one cookie for every link,
// verifying link B signed the browser out of link A. The cookie's name is a
// keyed hash of the share's ID (it tells nothing of the share, and a session
// cookie of share A is never even read for share B; the store checks the
// binding again). Path /s/ keeps them off every other page. Their Max-Age is
// the server's idle limit, given again as the visitor goes on, so the cookies
// of finished visits leave the browser by themselves; and a browser never
// holds more than maxShareCookies of them (browsers cap cookies per site,
// 50 at the least): letting someone into one more link drops the cookies of
// ended sessions, then the least recently used ones.
//
// A preso link has a second cookie, its viewing (what was seen, for the
// statistics), named alike with viewingCookiePrefix and leaving with the first.
const (
	shareCookiePrefix   = "foyer_s_"
	viewingCookiePrefix = "foyer_v_"
	maxShareCookies     = 20
)

// shareCookieName is the name of the cookie holding the visit of share id.
func (h *Handler) shareCookieName(id uint64) string {
	return h.cookieOfShare(shareCookiePrefix, id)
}

// viewingCookieName is the name of the cookie holding the viewing of preso share id.
func (h *Handler) viewingCookieName(id uint64) string {
	return h.cookieOfShare(viewingCookiePrefix, id)
}

func (h *Handler) cookieOfShare(prefix string, id uint64) string {
	name := prefix + hex.EncodeToString(h.store.Hash("share-cookie\x00" + strconv.FormatUint(id, 10))[:8])
	if h.cfg.Secure() {
		// __Secure- makes the browser refuse it unless Secure (__Host- would need Path=/).
		return "__Secure-" + name
	}
	return name
}

// viewingHeld is the viewing token the browser holds for preso share id, if any.
func (h *Handler) viewingHeld(c echo.Context, id uint64) string {
	v, _ := cookieValue(c.Request(), h.viewingCookieName(id))
	return v
}

// setViewingCookie keeps viewing token of preso share id in the browser while it is open.
func (h *Handler) setViewingCookie(c echo.Context, id uint64, token string) {
	c.SetCookie(&http.Cookie{Name: h.viewingCookieName(id), Value: token, Path: "/s/", HttpOnly: true, Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
}

// shareSessionID is the session ID the browser holds for share id, if any.
// A browser that holds no share cookie at all (most visitors of a landing)
// costs no keyed hash of the cookie's name.
func (h *Handler) shareSessionID(c echo.Context, id uint64) string {
	if !mayHoldCookie(c.Request(), shareCookiePrefix) {
		return ""
	}
	if v, ok := cookieValue(c.Request(), h.shareCookieName(id)); ok && len(v) == 43 {
		return v
	}
	return ""
}

// setCookieOf sets the cookie of session sid of share id, for the idle limit from now.
func (h *Handler) setCookieOf(c echo.Context, id uint64, sid string) {
	c.SetCookie(&http.Cookie{Name: h.shareCookieName(id), Value: sid, Path: "/s/", MaxAge: int(share.SessionIdle / time.Second),
		HttpOnly: true, Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
}

// dropShareCookie removes the cookie of share id's visit.
func (h *Handler) dropShareCookie(c echo.Context, id uint64) {
	h.expireCookie(c, h.shareCookieName(id))
}

// setShareCookie lets the browser into share id with session sid, making room
// among its other share cookies first.
func (h *Handler) setShareCookie(c echo.Context, id uint64, sid string) {
	mine := h.shareCookieName(id)
	type held struct {
		name string
		seen time.Time
	}
	var names, sids []string
	for _, ck := range c.Cookies() {
		if ck.Name == mine || !strings.HasPrefix(strings.TrimPrefix(ck.Name, "__Secure-"), shareCookiePrefix) {
			continue
		}
		if len(ck.Value) != 43 {
			h.expireCookie(c, ck.Name)
			continue
		}
		names, sids = append(names, ck.Name), append(sids, ck.Value)
	}
	// One read for all of them: letting someone in stays one read and one write.
	sessions, found, err := h.store.ShareSessions(sids)
	var live []held
	for i, name := range names {
		if err != nil || !found[i] || h.now().Sub(sessions[i].LastSeen) >= share.SessionIdle {
			h.expireCookie(c, name)
			continue
		}
		live = append(live, held{name, sessions[i].LastSeen})
	}
	if extra := len(live) - (maxShareCookies - 1); extra > 0 {
		sort.Slice(live, func(i, j int) bool { return live[i].seen.Before(live[j].seen) })
		for _, l := range live[:extra] {
			h.expireCookie(c, l.name)
		}
	}
	h.setCookieOf(c, id, sid)
}

// expireCookie removes a share cookie, and the viewing cookie of the same share with it.
func (h *Handler) expireCookie(c echo.Context, name string) {
	for _, n := range []string{name, strings.Replace(name, shareCookiePrefix, viewingCookiePrefix, 1)} {
		c.SetCookie(&http.Cookie{Name: n, Value: "", Path: "/s/", MaxAge: -1, HttpOnly: true, Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
	}
}

// shareLoc is the language of a share's pages and messages: its first recipient's.
func (h *Handler) shareLoc(sh store.Share) *locales.Localizer {
	lang := ""
	if len(sh.Recipients) > 0 {
		lang = sh.Recipients[0].Lang
	}
	if !locales.IsSupported(lang) {
		p, _ := h.currentPractice()
		lang = p.DefaultLang
	}
	return h.catalog.Get(lang)
}

// linkVisit is a request of a share link once the share engine's admission
// has looked at it (share.Engine.Admit).
type linkVisit struct {
	share.Visit
	Token string
	// Base is the link's path (routeLink).
	Base string
}

// linkPage serves one page of a share link of one kind, after admission.
type linkPage func(h *Handler, c echo.Context, v *linkVisit) error

// onLink serves a /s/{token} route, every one of them: the share engine's
// admission first, in one read of the store (the share is live, the
// browser's session is of this share and of someone its kind's audience
// still admits), then the page of the share's kind. A token of no share, or
// of a kind the route does not serve (nil), is a miss. A link that no longer
// opens says so in the way of its kind; a preso's visitor whose own access
// ended (an archived client, a removed contact) is told it no longer opens.
// Whether a page needs the visitor in (a session) is the page's to say:
// the landing and the code steps do not, the rest do.
func onLink(files, preso linkPage) func(*Handler) echo.HandlerFunc {
	return onLinkOrEnded(files, preso, nil)
}

// onLinkOrEnded is onLink whose route still means something once a preso's
// link ended for everyone (not a visitor refused): ended serves it then.
// The viewer's last beacon is such a request: its time counts up to the end.
func onLinkOrEnded(files, preso, ended linkPage) func(*Handler) echo.HandlerFunc {
	return func(h *Handler) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := c.Param("token")
			vis, err := h.shares.Admit(token, func(id uint64) string { return h.shareSessionID(c, id) })
			if errors.Is(err, share.ErrNotFound) {
				return h.shareMiss(c)
			} else if err != nil {
				return err
			}
			v := &linkVisit{Visit: vis, Token: token, Base: urlFor(routeLink, token)}
			if v.Renewed {
				// The server moved the session's idle clock: the cookie's too.
				h.setCookieOf(c, v.Share.ID, v.SessionID)
			}
			switch {
			case v.Share.Kind == store.ShareFiles && files != nil:
				c.Set(ctxLoc, h.shareVisitorLoc(c, v.Share))
				if v.Err != nil {
					return h.shareEnded(c, v)
				}
				return files(h, c, v)
			case v.Share.Kind == store.SharePreso && preso != nil:
				// The preso's pages speak the landing's language, whoever was
				// picked there, and so does the page saying it no longer opens.
				c.Set(ctxLoc, h.shareVisitorLoc(c, v.Share))
				if ended != nil && errors.Is(v.Err, share.ErrEnded) {
					return ended(h, c, v)
				}
				if v.Refused {
					return errPresoAccessEnded
				}
				if v.Err != nil {
					return errPresoLinkEnded
				}
				return preso(h, c, v)
			}
			return h.shareMiss(c)
		}
	}
}

// errPresoLinkEnded answers any request of a preso's link that no longer
// opens for anyone.
var errPresoLinkEnded = httpError(http.StatusGone, "error.share_ended")

// errPresoAccessEnded answers a visitor of a preso's link whose own access
// ended (an archived client, a contact taken off the preso) while the link
// still opens for others: "expired or withdrawn" would not be true of it.
var errPresoAccessEnded = httpError(http.StatusGone, "error.share_access_ended")

// shareMiss answers a token that names no share of the kind the route serves:
// 404, counted against the visitor's address, and 429 past the limit. Only
// misses are throttled: a valid link, above all a verified visitor's, behind
// the same address (a phone carrier's NAT, an office's Wi-Fi) must not be
// locked out by someone else's typos or a scan. Tokens carry 256 random bits:
// the throttle slows a scan down, it is not what keeps links secret.
func (h *Handler) shareMiss(c echo.Context) error {
	if !h.limits.allow("share-miss:"+limitAddr(c), limitShareMiss) {
		return errTooMany
	}
	return errNotFound
}

// shareVisitorLoc is the language of a share's pages: the visitor's choice
// (the language switch), else the one staff chose for the recipients — the
// email that brought them was written in it: a French lawyer reading on an
// English browser gets French pages —, else, when the recipients' languages
// differ, the browser's, else the practice's.
func (h *Handler) shareVisitorLoc(c echo.Context, sh store.Share) *locales.Localizer {
	if hasLangCookie(c) {
		return h.loc(c)
	}
	if l := recipientsLang(sh); l != "" {
		return h.catalog.Get(l)
	}
	if l := locales.Match(c.Request().Header.Get("Accept-Language")); l != "" {
		return h.catalog.Get(l)
	}
	return h.shareLoc(sh)
}

// recipientsLang is the language every recipient of sh shares, or "".
func recipientsLang(sh store.Share) string {
	lang := ""
	for _, r := range sh.Recipients {
		switch {
		case r.Removed || !locales.IsSupported(r.Lang):
			continue
		case lang == "":
			lang = r.Lang
		case r.Lang != lang:
			return ""
		}
	}
	return lang
}

// keepTogether joins a masked number's groups with non-breaking spaces, so a
// narrow screen never wraps it in the middle.
func keepTogether(s string) string { return strings.ReplaceAll(s, " ", "\u00a0") }

// lastDigits are the digits of a number that its mask shows: "ending in 678"
// reads better than "ending in ••• ••• 678".
func lastDigits(t share.Target) string {
	if len(t.To) <= 3 {
		return keepTogether(t.Masked())
	}
	return t.To[len(t.To)-3:]
}
