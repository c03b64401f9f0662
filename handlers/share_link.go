package handlers

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/unicode/norm"

	"foyer/locales"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// The recipient's side of a share link, /s/{token}: landing, security code,
// download page, downloads, deletion and history. Every page works without
// JavaScript. Opening the link (a GET) never sends a code nor counts as an
// access: mail scanners open links too.

// sharePage fills a recipient page: the practice's branding, no staff or portal menu.
func (h *Handler) sharePage(c echo.Context, v *linkVisit, title string) *views.Page {
	pg := h.page(c, title)
	pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
	pg.Portal = true
	d := &shareViewData{Visit: v, Recipient: v.Share.Recipients[0], State: h.shares.State(v.Share)}
	d.Expires = pg.DateTime(v.Share.ExpiresAt)
	_, ttl := h.shareSettings()
	d.Minutes = int(ttl / time.Minute)
	d.Targets = share.Targets(v.Share, 0)
	d.ByEmail = len(d.Targets) == 1 && d.Targets[0].Channel == store.ChannelEmail
	if len(d.Targets) > 0 {
		d.Last = lastDigits(d.Targets[0])
	}
	for _, t := range d.Targets {
		d.Masked = append(d.Masked, keepTogether(t.Masked()))
	}
	pg.Data = d
	return pg
}

type shareViewData struct {
	Visit     *linkVisit
	State     store.ShareState
	Recipient store.ShareRecipient
	Expires   string
	Minutes   int
	Targets   []share.Target
	Masked    []string
	// Last is what "ending in" shows of the only number.
	Last    string
	ByEmail bool
	Files   []shareFile
	History []historyLine
	// Sent is the masked target of the code waiting, by the channel SentBy;
	// New asks to confirm a new code, to be sent to Targets[Pick] unless the
	// recipient picks another.
	Sent   string
	SentBy store.Channel
	// Refused says the last request for a code was refused (the error says
	// why and names the number): the page does not also say one was asked for.
	Refused bool
	New     bool
	Pick    int
	// TriesLeft is shown after a wrong code.
	TriesLeft int
	// Help is what to do when the code sent has not arrived (message ID).
	Help string
	// Held says the code waits in the outbox (no delivery for its channel):
	// the page says only that, not that a code was asked to be sent.
	Held bool
}

type shareFile struct {
	N    int
	Name string
	Size string
}

type historyLine struct {
	When, What, Browser, OS string
	Index                   int
	// Access is true for a line the recipient's own visit of the link made
	// (a code, a download): one they may report as not theirs.
	Access bool
	// Portal is true for a download by the client signed in to the portal:
	// whoever made it had their password, which stopping the link would not
	// take back.
	Portal bool
}

// shareEnded renders the page of a link that no longer opens.
func (h *Handler) shareEnded(c echo.Context, v *linkVisit) error {
	pg := h.sharePage(c, v, "share.ended_title")
	status := http.StatusGone
	if errors.Is(v.Err, share.ErrLocked) {
		status = http.StatusForbidden
		pg.Data.(*shareViewData).State = store.ShareLocked
	}
	return h.render(c, status, "share_ended", pg)
}

// shareLanding is GET /s/{token}: it shows what comes next and does nothing else.
func (h *Handler) shareLanding(c echo.Context, v *linkVisit) error {
	if v.Session != nil {
		return h.redirect(c, urlFor(routeLinkFiles, v.Token))
	}
	// The landing reads the same for every visitor of the link who speaks one
	// language: it is kept until what it shows changes (the path holds the
	// token). A link that no longer opens never gets here.
	return h.renderShared(c, "share_landing", landingKey(v.Share), func() *views.Page {
		return h.sharePage(c, v, "share.landing_title")
	})
}

// landingKey names what a documents share's landing shows: its recipients
// (names, where a code can go), who may open it, and the deletion date.
func landingKey(sh store.Share) string {
	// One allocation: the key is made for every landing.
	b := make([]byte, 0, 64+len(sh.Recipients)*64)
	b = strconv.AppendUint(b, sh.ID, 10)
	b = append(append(b, 0), sh.Visibility...)
	b = strconv.AppendInt(append(b, 0), sh.ExpiresAt.UnixNano(), 10)
	for _, r := range sh.Recipients {
		b = append(append(append(append(b, 0), r.Name...), 0), r.Email...)
		for _, m := range r.Mobiles {
			b = append(append(b, 0), m...)
		}
		b = append(b, 0, 1)
	}
	return string(b)
}

// shareOpen lets a visitor into a share that needs no code (anyone with the link).
func (h *Handler) shareOpen(c echo.Context, v *linkVisit) error {
	if v.Share.Visibility != store.VisibilityAnyone {
		return h.redirect(c, v.Base)
	}
	if v.Session != nil {
		return h.redirect(c, urlFor(routeLinkFiles, v.Token)) // already in: no second session nor history line
	}
	if !h.allowShareEnter(c, v.Share.ID) {
		return errTooMany
	}
	who, _ := strconv.Atoi(c.FormValue("who"))
	if who < -1 || who >= len(v.Share.Recipients) {
		who = -1
	}
	sid, err := h.shares.Enter(v.Share.ID, who, "", c.Request().UserAgent(), nil)
	if errors.Is(err, share.ErrEnded) || errors.Is(err, share.ErrLocked) || errors.Is(err, share.ErrRefused) {
		return h.redirect(c, v.Base) // it ended meanwhile: the link's page says so
	} else if err != nil {
		return err
	}
	h.setShareCookie(c, v.Share.ID, sid)
	return h.redirect(c, urlFor(routeLinkFiles, v.Token))
}

// docCodeStep is the code steps of a documents link.
func docCodeStep(v *linkVisit) codeStep {
	return codeStep{Share: v.Share, Base: v.Base, Entry: urlFor(routeLinkCode, v.Token), Msg: "share"}
}

// shareSendCode is "Send security code" / "Request new code".
func (h *Handler) shareSendCode(c echo.Context, v *linkVisit) error {
	targets := share.Targets(v.Share, 0)
	if len(targets) == 0 {
		return httpError(http.StatusConflict, "share.no_target")
	}
	i, _ := strconv.Atoi(c.FormValue("to"))
	if i < 0 || i >= len(targets) {
		i = 0
	}
	_, ttl := h.shareSettings()
	return h.sendCode(c, docCodeStep(v), func() error {
		_, err := h.shares.IssueCode(v.Share.ID, targets[i], ttl, c.Request().UserAgent(), h.mail.ComposeShareCode(v.Share))
		return err
	})
}

// shareCodeForm is "Enter your security code"; with ?new=1 it is "Get a new
// code", where the recipient may pick another of the numbers.
func (h *Handler) shareCodeForm(c echo.Context, v *linkVisit) error {
	if v.Session != nil {
		return h.redirect(c, urlFor(routeLinkFiles, v.Token))
	}
	pg := h.sharePage(c, v, "share.code_title")
	d := pg.Data.(*shareViewData)
	d.New = c.QueryParam("new") == "1"
	if n, ok := h.takeCodeNote(c, v.Share.ID); ok {
		pg.Errors[n.Field], pg.ErrArgs, d.TriesLeft = n.Msg, n.Args, n.TriesLeft
		d.Refused = n.Refused
	}
	to, waiting, ok, err := h.shares.LastCode(v.Share.ID, 0)
	if err != nil {
		return err
	}
	// "We sent a code" only while one is waiting: not on a reload after it was used or expired.
	if ok && (d.New || waiting) {
		d.Sent, d.SentBy = keepTogether(to.Masked()), to.Channel
		d.ByEmail = to.Channel == store.ChannelEmail
	}
	if ok {
		d.Help = h.codeHelp("share.code_help_", "share.code_held_", to.Channel)
		d.Held = h.codesHeld(to.Channel)
	}
	if d.New && len(d.Targets) == 1 {
		// One place to send it: the page names it, whatever became of the last code,
		// and says whether the new one will go out or wait at the practice.
		d.Sent, d.SentBy = d.Masked[0], d.Targets[0].Channel
		d.Held = h.codesHeld(d.Targets[0].Channel)
	}
	for i, t := range d.Targets {
		if ok && t == to {
			d.Pick = i
		}
	}
	if d.New {
		pg.Title = "share.new_code_title"
	}
	return h.render(c, http.StatusOK, "share_code", pg)
}

// shareVerify checks the code entered (the limits are kept in the store)
// and, when it is right, lets the visitor in: one write, then a redirect.
func (h *Handler) shareVerify(c echo.Context, v *linkVisit) error {
	res, answered, err := h.checkCode(c, docCodeStep(v), nil)
	if errors.Is(err, share.ErrRefused) {
		return h.redirect(c, v.Base) // the link's page says it no longer opens
	} else if answered || err != nil {
		return err
	}
	h.setShareCookie(c, v.Share.ID, res.Session)
	return h.redirect(c, urlFor(routeLinkFiles, v.Token))
}

// verified serves a documents page behind the code: without a session of
// this very share, the visitor goes back to the landing.
func verified(page linkPage) linkPage {
	return func(h *Handler, c echo.Context, v *linkVisit) error {
		if !v.Admitted() {
			return h.redirect(c, v.Base)
		}
		return page(h, c, v)
	}
}

// shareFiles is "Download your documents".
func (h *Handler) shareFiles(c echo.Context, v *linkVisit) error {
	pg := h.sharePage(c, v, "share.files_title")
	d := pg.Data.(*shareViewData)
	for i, id := range v.Share.Snapshot {
		b, err := h.store.Blob(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		d.Files = append(d.Files, shareFile{N: i + 1, Name: b.Name, Size: humanSize(pg.Localizer, b.Size)})
	}
	return h.render(c, http.StatusOK, "share_files", pg)
}

// contentDisposition says "attachment" with the UTF-8 name (RFC 6266, RFC 8187)
// and a plain ASCII fallback for clients that take only that one (curl -OJ,
// wget): "Relevé d’honoraires.pdf" falls back to "Releve d'honoraires.pdf".
func contentDisposition(name string) string {
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiName(name), url.PathEscape(name))
}

// asciiNames spells in ASCII the letters and signs of French and other
// Latin names that have no accent to take off.
var asciiNames = strings.NewReplacer("œ", "oe", "Œ", "OE", "æ", "ae", "Æ", "AE", "ß", "ss", "ø", "o", "Ø", "O", "ł", "l", "Ł", "L",
	"đ", "d", "Đ", "D", "’", "'", "‘", "'", "«", "'", "»", "'", "“", "'", "”", "'", "–", "-", "—", "-", "€", "EUR",
	"\u00a0", " ", "\u202f", " ")

// asciiName is name in printable ASCII for a quoted filename parameter:
// accents taken off (é → e, the decomposed form without its marks), a few
// letters spelled out, and what is left over, or would end the quoted
// string, as "_".
func asciiName(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(asciiNames.Replace(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark: the letter before it stands alone
		case r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' || r == ';':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// safeDownloadHeaders are set on every file the recipient downloads.
func safeDownloadHeaders(hd http.Header) {
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
}

// shareDownload serves one file to the link's verified visitor.
func (h *Handler) shareDownload(c echo.Context, v *linkVisit) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return errNotFound
	}
	return h.serveShareFile(c, v.Share, n, func(b store.Blob) {
		// A flood of requests does not flood the history.
		if h.limits.allow(fmt.Sprintf("share-download:%d:%d:%d:%d", v.Share.ID, v.Session.Recipient, v.Session.CreatedAt.UnixNano(), b.ID), limitDownloadEvent) {
			h.recordDownload(c, v.Share, store.ShareEvent{Type: share.EventDownloaded, Recipient: v.Session.Recipient, Item: b.ID, Detail: b.Name})
		}
	})
}

// serveShareFile serves file n (1-based) of share sh with Range support, a
// short read transaction per chunk; record is told of a download that is
// one (a resumed download, a Range past the start, is the same download).
func (h *Handler) serveShareFile(c echo.Context, sh store.Share, n int, record func(store.Blob)) error {
	if n < 1 || n > len(sh.Snapshot) {
		return errNotFound
	}
	r, err := h.store.OpenBlob(sh.Snapshot[n-1])
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	defer r.Close()
	b := r.Blob()
	tameRange(c.Request(), b.Size)
	if rg := c.Request().Header.Get("Range"); c.Request().Method == http.MethodGet && (rg == "" || strings.HasPrefix(rg, "bytes=0-")) {
		record(b)
	}
	hd := c.Response().Header()
	safeDownloadHeaders(hd)
	hd.Set("Content-Type", b.Type)
	hd.Set("Content-Disposition", contentDisposition(b.Name))
	h.serveContent(c, b.CreatedAt, r)
	return nil
}

// recordDownload adds the event and, at the first download, tells the staff member.
func (h *Handler) recordDownload(c echo.Context, sh store.Share, ev store.ShareEvent) {
	ev.UserAgent = c.Request().UserAgent()
	first, err := h.shares.Downloaded(sh.ID, ev)
	if err != nil {
		h.log.Error("unable to record a download", "err", err)
		return
	}
	if p, _ := h.currentPractice(); first && !p.NoDownloadMail {
		h.staffMailBy(sh, ev.Recipient, "first_download", ev.Detail)
	}
}

// shareZip serves every file as one zip to the link's verified visitor.
func (h *Handler) shareZip(c echo.Context, v *linkVisit) error {
	return h.serveShareZip(c, v.Share, func(name string) {
		if h.limits.allow(fmt.Sprintf("share-download:%d:%d:%d:zip", v.Share.ID, v.Session.Recipient, v.Session.CreatedAt.UnixNano()), limitDownloadEvent) {
			h.recordDownload(c, v.Share, store.ShareEvent{Type: share.EventDownloaded, Recipient: v.Session.Recipient, Detail: name})
		}
	})
}

// serveShareZip streams every file of share sh as one zip, stored without
// compression (most documents are compressed already), a chunk at a time;
// record is told of the download, by the zip's name.
func (h *Handler) serveShareZip(c echo.Context, sh store.Share, record func(name string)) error {
	name := h.loc(c).T("share.zip_name") + ".zip"
	hd := c.Response().Header()
	safeDownloadHeaders(hd)
	hd.Set("Content-Type", "application/zip")
	hd.Set("Content-Disposition", contentDisposition(name))
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK) // the zip is made as it is sent: no length to give
	}
	record(name)
	// The DOS time of an entry has no zone: unzip tools show it as it is, so
	// it is the practice's wall time (the extended timestamp stays exact).
	zone := h.zone()
	c.Response().WriteHeader(http.StatusOK)
	zw := zip.NewWriter(h.longResponse(c))
	seen := map[string]int{}
	for _, id := range sh.Snapshot {
		r, err := h.store.OpenBlob(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		b := r.Blob()
		name := b.Name
		if k := seen[strings.ToLower(name)]; k > 0 {
			ext := path.Ext(name) // same (2).txt, which still opens as a .txt
			name = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), k+1, ext)
		}
		seen[strings.ToLower(b.Name)]++
		// Whole decrypted chunks go to the zip (BlobReader is an io.WriterTo).
		err = zipEntry(zw, name, b.CreatedAt.In(zone), r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

// zipEntry stores one file in the zip, uncompressed.
func zipEntry(zw *zip.Writer, name string, modified time.Time, r io.Reader) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: modified})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

// shareDeleteForm asks to confirm "Delete these documents".
func (h *Handler) shareDeleteForm(c echo.Context, v *linkVisit) error {
	return h.render(c, http.StatusOK, "share_delete", h.sharePage(c, v, "share.delete_title"))
}

// shareDelete removes the documents from the store at once; the link then says so.
func (h *Handler) shareDelete(c echo.Context, v *linkVisit) error {
	if _, err := h.shares.DeleteContent(v.Share.ID, store.ShareEvent{Recipient: v.Session.Recipient, UserAgent: c.Request().UserAgent()}); err != nil && !errors.Is(err, share.ErrEnded) {
		return err
	}
	h.dropShareCookie(c, v.Share.ID)
	return h.redirect(c, v.Base)
}

// recipientEvents are the events a recipient sees in their own history.
var recipientEvents = map[string]bool{share.EventCodeSent: true, share.EventVerified: true, share.EventIdentified: true,
	share.EventAnonymous: true, share.EventViewed: true, share.EventDownloaded: true, share.EventDownloadedPortal: true,
	share.EventDeleted: true}

// reportable reports whether the recipient may say an event of their
// history was not theirs and stop the link for it: an access through the
// link (a code, a visit, a download), not their own deletion, nor a download
// from the portal, which the portal's password let in, not the link.
func reportable(ev store.ShareEvent) bool {
	return recipientEvents[ev.Type] && ev.Type != share.EventDeleted && ev.Type != share.EventDownloadedPortal
}

// historyLines turns a share's events into lines for a page, newest first.
func historyLines(l *locales.Localizer, pg *views.Page, evs []store.ShareEvent, keep func(store.ShareEvent) bool) []historyLine {
	var out []historyLine
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		if keep != nil && !keep(ev) {
			continue
		}
		b, os := share.Browser(ev.UserAgent)
		what := l.T("share.event_"+ev.Type, "Detail", ev.Detail)
		out = append(out, historyLine{When: pg.DateTime(ev.At), What: what, Browser: b, OS: os, Index: i,
			Access: reportable(ev), Portal: ev.Type == share.EventDownloadedPortal})
	}
	return out
}

// shareHistory is "Access and download history".
func (h *Handler) shareHistory(c echo.Context, v *linkVisit) error {
	pg := h.sharePage(c, v, "share.history_title")
	evs, err := h.shares.Events(v.Share.ID)
	if err != nil {
		return err
	}
	pg.Data.(*shareViewData).History = historyLines(pg.Localizer, pg, evs, func(ev store.ShareEvent) bool { return recipientEvents[ev.Type] })
	return h.render(c, http.StatusOK, "share_history", pg)
}
