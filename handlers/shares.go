package handlers

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/locales"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// Staff side of document shares: the Share documents dialog, its streamed
// upload, and the actions on a share from the client record's timeline.

const (
	// DefaultMaxUpload is the largest file a share accepts unless FOYER_MAX_UPLOAD says otherwise.
	DefaultMaxUpload = 50 << 20
	// maxShareFiles is how many files one share holds.
	maxShareFiles = 20
	// maxShareField bounds what is read of a text field of the upload form
	// (read before any file): more than any field allows, so a field too
	// long comes back beside it, as typed, up to maxEcho characters.
	maxShareField = 64 << 10
	// shareUploadRoute is the route whose body is streamed into the store.
	shareUploadRoute = "/clients/:id/shares"
)

// shareSettings returns the practice's share lifetime and code validity.
func (h *Handler) shareSettings() (lifetime, codeTTL time.Duration) {
	p, _ := h.currentPractice()
	lifetime, codeTTL = share.DefaultLifetime, share.DefaultCodeTTL
	if p.ShareDays > 0 {
		lifetime = time.Duration(p.ShareDays) * 24 * time.Hour
	}
	if p.CodeMinutes > 0 {
		codeTTL = time.Duration(p.CodeMinutes) * time.Minute
	}
	return lifetime, codeTTL
}

type shareDialogData struct {
	Client    store.Client
	Mobiles   []string
	MaxUpload string
	MaxBytes  int64
	MaxFiles  int
	// Kept are files stored by an earlier attempt that failed on another field.
	Kept    []store.Blob
	Preview *sharePreview
}

type sharePreview struct{ To, Subject, Text string }

func (h *Handler) shareDialogPage(c echo.Context, cl store.Client) *views.Page {
	pg := h.page(c, "share.dialog_title")
	p, _ := h.currentPractice()
	d := shareDialogData{Client: cl, MaxUpload: humanSize(pg.Localizer, h.cfg.MaxUpload), MaxBytes: h.cfg.MaxUpload, MaxFiles: maxShareFiles}
	for _, ph := range cl.Phones {
		if ph.ReceivesCodes() {
			d.Mobiles = append(d.Mobiles, displayPhone(ph.Number, p.PhoneRegion))
		}
	}
	pg.Form["recipient"] = "client"
	pg.Form["verify"] = "1"
	// Someone else's emails and pages: the practice's language, else the staff member's.
	pg.Form["other_lang"] = p.DefaultLang
	if !locales.IsSupported(p.DefaultLang) {
		pg.Form["other_lang"] = pg.Localizer.Lang
	}
	pg.Data = &d
	return pg
}

// shareAnchor is the share's activity on its client's record.
func shareAnchor(clientID, shareID uint64) string {
	return urlFor(routeClient, clientID) + "#share-" + strconv.FormatUint(shareID, 10)
}

// errShareArchived refuses sharing with an archived client: their links ended
// with the archive, and a new one would be dead on arrival.
var errShareArchived = httpError(http.StatusConflict, "error.share_client_archived")

// endClientShares expires the live document shares of a client being
// archived, for good, and purges their files: archiving ends their links as
// it ends their portal access, and restoring the client brings neither back
// (Send again makes a new link). The links' admission (share.FilesAudience)
// covers the moment between the archive and this.
func (h *Handler) endClientShares(clientID, staffID uint64) error {
	shares, err := h.store.SharesOfClient(clientID)
	if err != nil {
		return err
	}
	for _, sh := range shares {
		if sh.Kind != store.ShareFiles || !sh.Live() {
			continue
		}
		ev := store.ShareEvent{Type: share.EventArchived, Recipient: -1, StaffID: staffID}
		if _, err := h.shares.Expire(sh.ID, ev); err != nil && !errors.Is(err, share.ErrEnded) {
			return err
		}
	}
	return nil
}

// newShareForm shows the Share documents dialog (a page of its own without JavaScript).
func (h *Handler) newShareForm(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	if cl.Archived {
		return errShareArchived
	}
	return h.render(c, http.StatusOK, "share_new", h.shareDialogPage(c, cl))
}

// shareDraft is what the dialog's fields say, once checked.
type shareDraft struct {
	recipient store.ShareRecipient
	verify    bool
	message   string
}

// readShareFields checks the dialog's fields (already read into f.vals' source).
func (h *Handler) readShareFields(f *form, cl store.Client) shareDraft {
	p, _ := h.currentPractice()
	var d shareDraft
	who := f.choice("recipient", "client", "other")
	d.verify = f.checkbox("verify")
	d.message = f.multiline("message", 2000)
	switch who {
	case "client":
		d.recipient = store.ShareRecipient{Name: strings.TrimSpace(cl.FirstName + " " + cl.LastName), Email: cl.Email, Lang: cl.Lang, ClientID: cl.ID}
		for _, ph := range cl.Phones {
			if ph.ReceivesCodes() {
				d.recipient.Mobiles = append(d.recipient.Mobiles, ph.Number)
			}
		}
		if cl.Email == "" {
			f.fail("recipient", "share.client_no_email")
		}
	case "other":
		d.recipient.Name = f.text("other_name", 100, true)
		d.recipient.Email = f.email("other_email", true)
		d.recipient.Lang = f.choice("other_lang", "en", "fr")
		if raw := f.text("other_mobile", 40, false); raw != "" {
			e164, mobile, ok := parsePhone(raw, p.PhoneRegion)
			switch {
			case !ok:
				f.fail("other_mobile", "clients.phone_invalid")
			case !mobile:
				f.fail("other_mobile", "share.not_mobile")
			default:
				d.recipient.Mobiles = []string{e164}
			}
		}
	}
	return d
}

// createShare streams the dialog's files into the store, chunk by chunk, then
// makes the share and queues its email. The body is read part by part, never
// whole: the text fields come first (the form puts them before the files).
func (h *Handler) createShare(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	if cl.Archived {
		return errShareArchived
	}
	user := currentUser(c)
	req, w := c.Request(), c.Response()
	// The route's body limit (bodyLimits) is wide and keeps the read deadline moving;
	// this one follows FOYER_MAX_UPLOAD. The CSRF token came in the header or the URL.
	req.Body = http.MaxBytesReader(w, req.Body, maxShareFiles*h.cfg.MaxUpload+1<<20)
	mt, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return errBadRequest
	}
	mr := multipart.NewReader(newHeaderNULs(req.Body, params["boundary"]), params["boundary"])
	pg := h.shareDialogPage(c, cl)
	d := pg.Data.(*shareDialogData)
	vals := url.Values{}
	var stored []store.Blob
	dropStored := func() {
		for _, b := range stored {
			if err := h.store.DeleteBlob(b.ID); err != nil {
				h.log.Error("unable to delete an upload", "err", err)
			}
		}
	}
	fileErr, status := "", http.StatusUnprocessableEntity
	var fileArgs []any
	// cut answers a body the client stopped sending: a stall (a phone losing its
	// signal) gets the dialog back with a message, a closed connection a 400
	// nobody reads. Neither is the server's fault: no ERROR in the log.
	cut := func(err error) error {
		dropStored()
		if !isStall(err) {
			return errBadRequest
		}
		h.log.Warn("upload stalled; nothing kept", "route", c.Path(), "ip", c.RealIP())
		fileErr, status = "share.upload_stalled", http.StatusRequestTimeout
		return nil
	}
	for fileErr == "" {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			dropStored()
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				fileErr, fileArgs = "share.too_large", []any{"Max", d.MaxUpload}
				break
			}
			var bad textproto.ProtocolError
			if errors.As(err, &bad) {
				// A part whose header cannot be read (a NUL in a file name, which
				// no browser sends raw): the dialog comes back with what was typed.
				fileErr = "share.bad_file_name"
				break
			}
			if err := cut(err); err != nil {
				return err
			}
			break
		}
		name, filename := part.FormName(), part.FileName()
		if filename == "" && name != "files" {
			v, err := io.ReadAll(io.LimitReader(part, maxShareField+1))
			if err != nil {
				if err := cut(err); err != nil {
					return err
				}
				break
			}
			// Longer than any field may be: kept cut, the field's own check
			// says so beside it and shows back what was typed.
			val := string(v)
			if len(v) > maxShareField {
				val = strings.ToValidUTF8(val[:maxShareField], "")
			}
			vals.Add(name, val)
			continue
		}
		if filename == "" {
			continue // the file input sent with nothing picked
		}
		if len(stored)+len(vals["keep"]) >= maxShareFiles {
			fileErr, fileArgs = "share.too_many_files", []any{"Max", maxShareFiles}
			dropStored()
			break
		}
		b := store.Blob{Name: share.CleanName(filename, pg.T("share.unnamed")), StaffID: user.ID, CreatedAt: h.now().UTC()}
		b.Type = downloadType(b.Name)
		body := &readWatch{r: part}
		err = h.store.CreateBlob(&b, body, h.cfg.MaxUpload)
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, store.ErrTooLarge):
			dropStored()
			fileErr, fileArgs = "share.too_large_file", []any{"Name", b.Name, "Max", d.MaxUpload}
		case errors.As(err, &tooBig):
			dropStored()
			fileErr, fileArgs = "share.too_large", []any{"Max", d.MaxUpload}
		case body.err != nil:
			if err := cut(body.err); err != nil {
				return err
			}
		case errors.Is(err, store.ErrDiskFull):
			dropStored()
			h.log.Error("upload not saved: the disk is full", "route", c.Path(), "err", err)
			fileErr, status = "share.disk_full", http.StatusInsufficientStorage
		case err != nil:
			dropStored()
			return err
		default:
			stored = append(stored, b)
		}
	}
	// The fields are read like any form's from here on.
	req.Form, req.PostForm = vals, vals
	f := &form{c: c, vals: map[string]string{}, errs: map[string]string{}}
	draft := h.readShareFields(f, cl)
	// Files kept from an earlier attempt must be this staff member's own, unattached uploads.
	var blobs []store.Blob
	for _, raw := range vals["keep"] {
		id, _ := strconv.ParseUint(raw, 10, 64)
		b, err := h.store.Blob(id)
		if err != nil || b.StaffID != user.ID || b.Attached {
			continue
		}
		blobs = append(blobs, b)
	}
	kept := blobs
	if fileErr != "" {
		f.failWith("files", fileErr, fileArgs...)
	} else if blobs = append(blobs, stored...); len(blobs) == 0 {
		f.fail("files", "share.no_files")
	}
	if !f.ok() {
		d.Kept = blobs
		pg.Form, pg.Errors, pg.ErrArgs = f.vals, f.errs, f.args
		return h.render(c, status, "share_new", pg)
	}
	ids := make([]uint64, len(blobs))
	names := make([]string, len(blobs))
	for i, b := range blobs {
		ids[i], names[i] = b.ID, b.Name
	}
	lifetime, _ := h.shareSettings()
	vis := store.VisibilityContacts
	if !draft.verify {
		vis = store.VisibilityAnyone
	}
	sh, _, err := h.shares.Create(share.Draft{Kind: store.ShareFiles, ClientID: cl.ID, StaffID: user.ID,
		Recipients: []store.ShareRecipient{draft.recipient}, Visibility: vis, Message: draft.message, Snapshot: ids, Lifetime: lifetime,
		Summary: strings.Join(names, ", ")}, h.mail.ComposeShare)
	if errors.Is(err, store.ErrDiskFull) {
		// The files just sent go (the disk needs the room); those kept from
		// an earlier attempt stay listed, the fields as typed.
		dropStored()
		h.log.Error("share not saved: the disk is full", "route", c.Path(), "err", err)
		f.fail("files", "share.disk_full")
		d.Kept = kept
		pg.Form, pg.Errors, pg.ErrArgs = f.vals, f.errs, f.args
		return h.render(c, http.StatusInsufficientStorage, "share_new", pg)
	}
	if err != nil {
		return err
	}
	if err := h.store.AttachBlobs(ids); err != nil {
		return err
	}
	h.wakeOutbox()
	h.setFlash(c, h.shareSentFlash(draft.recipient, vis))
	return h.redirect(c, shareAnchor(cl.ID, sh.ID))
}

// shareSentFlash says where a new share's messages are: on their way, or
// waiting in the outbox while delivery is not set up — then Copy link is how
// the link reaches the recipient, and the security code they ask for waits
// for the owner to pass it on.
func (h *Handler) shareSentFlash(r store.ShareRecipient, vis store.Visibility) string {
	if h.outbox == nil {
		return "flash.share_sent"
	}
	email := h.outbox.Configured(store.ChannelEmail)
	codeBy := store.ChannelEmail
	if len(r.Mobiles) > 0 {
		codeBy = store.ChannelSMS
	}
	codes := vis != store.VisibilityAnyone && !h.outbox.Configured(codeBy)
	switch {
	case !email && codes:
		return "flash.share_waiting_code"
	case !email:
		return "flash.share_waiting"
	case codes:
		return "flash.share_code_waiting"
	}
	return "flash.share_sent"
}

// headerNULs drops NUL bytes from the part headers of a multipart body, and
// only there: Go's multipart reader refuses a header holding one (a file name
// with a NUL, which a script can send), so the name is cleaned as CleanName
// cleans any, while a file's own bytes pass untouched. A part's header runs
// from its delimiter ("\r\n--" and the boundary, which the data never holds)
// to the first blank line.
type headerNULs struct {
	r      io.Reader
	delim  []byte
	fail   []int // the delimiter's failure function, to match it across reads (KMP)
	k      int   // bytes of the delimiter matched so far
	header bool
	crlf   int // in a header, bytes of "\r\n\r\n" matched so far
}

func newHeaderNULs(r io.Reader, boundary string) *headerNULs {
	d := []byte("\r\n--" + boundary)
	f := make([]int, len(d))
	for i, k := 1, 0; i < len(d); i++ {
		for k > 0 && d[i] != d[k] {
			k = f[k-1]
		}
		if d[i] == d[k] {
			k++
		}
		f[i] = k
	}
	// The body opens with the first delimiter, without its CRLF.
	return &headerNULs{r: r, delim: d, fail: f, k: 2}
}

func (s *headerNULs) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	out := 0
	for i := 0; i < n; i++ {
		b := p[i]
		if s.header {
			if b == 0 {
				continue
			}
			p[out] = b
			out++
			switch {
			case b == '\r' && (s.crlf == 0 || s.crlf == 2), b == '\n' && (s.crlf == 1 || s.crlf == 3):
				s.crlf++
			case b == '\r':
				s.crlf = 1
			default:
				s.crlf = 0
			}
			if s.crlf == 4 {
				s.header, s.crlf = false, 0
			}
			continue
		}
		if s.k == 0 {
			// Nothing matched: a file's bytes are copied up to the next CR at once.
			j := bytes.IndexByte(p[i:n], '\r')
			if j < 0 {
				out += copy(p[out:], p[i:n])
				break
			}
			out += copy(p[out:], p[i:i+j])
			i += j
			b = p[i]
		}
		p[out] = b
		out++
		for s.k > 0 && b != s.delim[s.k] {
			s.k = s.fail[s.k-1]
		}
		if b == s.delim[s.k] {
			s.k++
		}
		if s.k == len(s.delim) {
			s.header, s.k = true, 0
		}
	}
	return out, err
}

// readWatch keeps the error of reading an upload's body, to tell the client's
// fault (a stall, a closed connection) from the store's.
type readWatch struct {
	r   io.Reader
	err error
}

func (w *readWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil && err != io.EOF {
		w.err = err
	}
	return n, err
}

// isStall reports whether err is a read that ran out of time: the client
// stopped sending (bodyLimit's moving deadline).
func isStall(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// previewShare shows the email the dialog would send, exactly, with a stand-in for the link.
func (h *Handler) previewShare(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	pg := h.shareDialogPage(c, cl)
	f, err := newForm(c)
	if err != nil {
		return err
	}
	draft := h.readShareFields(f, cl)
	delete(f.errs, "files")
	pg.Form, pg.Errors, pg.ErrArgs = f.vals, f.errs, f.args
	if !f.ok() {
		return h.renderBlock(c, http.StatusUnprocessableEntity, "share_new", "share_preview", pg)
	}
	lifetime, _ := h.shareSettings()
	sh := store.Share{Recipients: []store.ShareRecipient{draft.recipient}, Message: draft.message, ExpiresAt: h.now().Add(lifetime)}
	out, err := h.mail.Render(*h.mail.ShareLinkMessage(sh, ""), pg.T("share.preview_token"))
	if err != nil {
		return err
	}
	pg.Data.(*shareDialogData).Preview = &sharePreview{To: out.To, Subject: out.Subject, Text: out.Text}
	if isHTMX(c) {
		return h.renderBlock(c, http.StatusOK, "share_new", "share_preview", pg)
	}
	return h.render(c, http.StatusOK, "share_new", pg)
}

// downloadType is the Content-Type a file is served with: from its extension,
// but never one a browser would run or render as a page.
func downloadType(name string) string {
	t := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	base, _, _ := strings.Cut(t, ";")
	switch {
	case t == "", strings.Contains(base, "html"), strings.Contains(base, "xml"), strings.Contains(base, "javascript"),
		strings.HasPrefix(base, "text/") && base != "text/plain" && base != "text/csv":
		return "application/octet-stream"
	}
	return t
}

// humanSize writes a byte count the way the language does, in binary units
// as FOYER_MAX_UPLOAD counts them (1.5 MiB / 1,5 Mio), the number and its
// unit held together.
func humanSize(l interface {
	T(string, ...any) string
}, n int64) string {
	unit, v := "share.size_b", float64(n)
	switch {
	case n >= 1<<30:
		unit, v = "share.size_gb", float64(n)/(1<<30)
	case n >= 1<<20:
		unit, v = "share.size_mb", float64(n)/(1<<20)
	case n >= 1<<10:
		unit, v = "share.size_kb", float64(n)/(1<<10)
	}
	num := strconv.FormatFloat(v, 'f', 1, 64)
	if unit == "share.size_b" {
		num = strconv.FormatInt(n, 10)
	}
	if n == 1 {
		return l.T("share.size_b_one")
	}
	num = strings.TrimSuffix(num, ".0")
	if l.T("share.decimal") == "," {
		num = strings.Replace(num, ".", ",", 1)
	}
	return l.T(unit, "N", num)
}

// loadShare loads the share of the route for staff: 404 unless the share is on
// a client record this staff member may see.
func (h *Handler) loadShare(c echo.Context) (store.Share, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Share{}, errNotFound
	}
	sh, err := h.shares.Get(id)
	if errors.Is(err, share.ErrNotFound) {
		return sh, errNotFound
	} else if err != nil {
		return sh, err
	}
	// A preso's links are kept from its Share dialog; these pages are for documents.
	if sh.ClientID == 0 || sh.Kind != store.ShareFiles {
		return store.Share{}, errNotFound
	}
	if err := h.access.Share(staffViewer(c), sh, opOf(c)); err != nil {
		return store.Share{}, accessErr(err)
	}
	return sh, nil
}

func (h *Handler) backToShare(c echo.Context, sh store.Share, flash string) error {
	if flash != "" {
		h.setFlash(c, flash)
	}
	return h.redirect(c, shareAnchor(sh.ClientID, sh.ID))
}

// expireShareForm asks before Expire now, which cannot be undone: a plain
// page, so it works without JavaScript and a mis-tap on a phone costs nothing.
func (h *Handler) expireShareForm(c echo.Context) error {
	sh, err := h.loadShare(c)
	if err != nil {
		return err
	}
	if !sh.Live() {
		return h.backToShare(c, sh, "flash.share_ended")
	}
	pg := h.page(c, "share.expire_title")
	pg.Data = map[string]any{"Share": sh, "Recipient": sh.Recipients[0]}
	return h.render(c, http.StatusOK, "share_expire", pg)
}

// expireShare is Expire now: the link stops at once and its files leave the store.
func (h *Handler) expireShare(c echo.Context) error {
	sh, err := h.loadShare(c)
	if err != nil {
		return err
	}
	if _, err := h.shares.Expire(sh.ID, store.ShareEvent{Recipient: -1, StaffID: currentUser(c).ID}); err != nil && !errors.Is(err, share.ErrEnded) {
		return err
	}
	return h.backToShare(c, sh, "flash.share_expired")
}

// extendShare adds the days chosen (the practice's link lifetime unless
// another length offered is picked) to the expiry, and says the new one.
func (h *Handler) extendShare(c echo.Context) error {
	sh, err := h.loadShare(c)
	if err != nil {
		return err
	}
	if h.shares.Usable(sh) == share.ErrEnded {
		// Past its date, even before the sweep marks it: Send again makes a new link.
		return h.backToShare(c, sh, "flash.share_ended")
	}
	lifetime, _ := h.shareSettings()
	days := int(lifetime / (24 * time.Hour))
	if raw := c.FormValue("days"); raw != "" {
		if days, err = strconv.Atoi(raw); err != nil {
			return errBadRequest
		}
	}
	extended, err := h.shares.Extend(sh.ID, days, lifetime, currentUser(c).ID)
	switch {
	case errors.Is(err, share.ErrEnded):
		return h.backToShare(c, sh, "flash.share_ended")
	case errors.Is(err, share.ErrAtLongest):
		h.setFlashAt(c, "flash.share_at_longest", sh.ExpiresAt)
		return h.backToShare(c, sh, "")
	case errors.Is(err, share.ErrBadExtension):
		return errBadRequest
	case err != nil:
		return err
	}
	h.setFlashAt(c, "flash.share_extended", extended.ExpiresAt)
	return h.backToShare(c, extended, "")
}

// unlockShare lets a share locked by wrong codes be used again.
func (h *Handler) unlockShare(c echo.Context) error {
	sh, err := h.loadShare(c)
	if err != nil {
		return err
	}
	if _, err := h.shares.Unlock(sh.ID, currentUser(c).ID); err != nil && !errors.Is(err, share.ErrEnded) {
		return err
	}
	return h.backToShare(c, sh, "flash.share_unlocked")
}

// shareLink is Copy link: the link, unsealed on demand.
func (h *Handler) shareLink(c echo.Context) error {
	sh, err := h.loadShare(c)
	if err != nil {
		return err
	}
	if h.shares.Usable(sh) == share.ErrEnded {
		// A link that no longer opens is not handed out again.
		return httpError(http.StatusGone, "error.share_link_ended")
	}
	token, err := h.shares.Link(sh)
	if err != nil {
		return err
	}
	pg := h.page(c, "share.copy_link")
	pg.Data = map[string]any{"Share": sh, "Link": h.link(urlFor(routeLink, token))}
	if isHTMX(c) {
		return h.renderBlock(c, http.StatusOK, "share_link", "link", pg)
	}
	return h.render(c, http.StatusOK, "share_link", pg)
}

// sendAgainPage shows Send again: the recipient's details, to correct before a new link goes out.
func (h *Handler) sendAgainPage(c echo.Context) (*views.Page, store.Share, store.Client, error) {
	sh, err := h.loadShare(c)
	if err != nil {
		return nil, sh, store.Client{}, err
	}
	cl, err := h.store.Client(sh.ClientID)
	if err != nil {
		return nil, sh, cl, err
	}
	if cl.Archived {
		return nil, sh, cl, errShareArchived
	}
	p, _ := h.currentPractice()
	pg := h.page(c, "share.again_title")
	r := sh.Recipients[0]
	pg.Form["name"], pg.Form["email"], pg.Form["lang"] = r.Name, r.Email, r.Lang
	for i, m := range r.Mobiles {
		pg.Form[mobileField(i)] = displayPhone(m, p.PhoneRegion)
	}
	pg.Data = sendAgainData{Share: sh, Client: cl, Mobiles: againMobiles(len(r.Mobiles))}
	return pg, sh, cl, nil
}

// sendAgainData is the Send again page: a field for each of the share's
// mobiles (one at least, maxPhones at most), so none is lost on the way.
type sendAgainData struct {
	Share   store.Share
	Client  store.Client
	Mobiles []int
}

func againMobiles(n int) []int {
	out := make([]int, min(max(n, 1), maxPhones))
	for i := range out {
		out[i] = i
	}
	return out
}

// mobileField names the Send again field of the i-th mobile.
func mobileField(i int) string { return "mobile_" + strconv.Itoa(i) }

func (h *Handler) sendAgainForm(c echo.Context) error {
	pg, _, _, err := h.sendAgainPage(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "share_again", pg)
}

// sendAgain makes a new share (new link) of the same files for corrected details; the old link stops.
func (h *Handler) sendAgain(c echo.Context) error {
	pg, sh, cl, err := h.sendAgainPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	p, _ := h.currentPractice()
	r := sh.Recipients[0]
	r.Name = f.name("name", 100, true)
	r.Email = f.email("email", true)
	r.Lang = f.choice("lang", "en", "fr")
	r.Mobiles = nil
	// The new link is the client's own only while it goes to the client's
	// address: sent again to a lawyer, it leaves the client's portal, where
	// the client would see that person's history and could stop their link.
	r.ClientID = 0
	if cl.Email != "" && strings.EqualFold(r.Email, cl.Email) {
		r.ClientID = cl.ID
	}
	posted := 0
	for i := range maxPhones {
		name := mobileField(i)
		if _, sent := c.Request().PostForm[name]; sent {
			posted = i + 1
		}
		raw := f.text(name, 40, false)
		if raw == "" {
			continue
		}
		e164, mobile, ok := parsePhone(raw, p.PhoneRegion)
		switch {
		case !ok:
			f.fail(name, "clients.phone_invalid")
		case !mobile:
			f.fail(name, "share.not_mobile")
		case !slices.Contains(r.Mobiles, e164):
			r.Mobiles = append(r.Mobiles, e164)
		}
	}
	if !f.ok() {
		d := pg.Data.(sendAgainData)
		d.Mobiles = againMobiles(max(posted, len(d.Mobiles)))
		pg.Data = d
		return h.invalid(c, "share_again", pg, f)
	}
	lifetime, _ := h.shareSettings()
	nsh, _, err := h.shares.SendAgain(sh.ID, share.Draft{StaffID: currentUser(c).ID, Recipients: []store.ShareRecipient{r}, Lifetime: lifetime}, h.mail.ComposeShare)
	if errors.Is(err, share.ErrEnded) {
		return h.backToShare(c, sh, "flash.share_ended")
	} else if err != nil {
		return err
	}
	h.wakeOutbox()
	return h.backToShare(c, nsh, h.shareSentFlash(r, nsh.Visibility))
}

// docShareView is one share on a timeline (the client record's, or the portal's Documents).
type docShareView struct {
	store.Share
	// State is the state as of now (a share past its date reads expired before the sweep marks it).
	State     store.ShareState
	Recipient store.ShareRecipient
	Mobiles   []string
	Files     []shareFile
	Events    []historyLine
	Created   string
	Expires   string
	Ended     string
}

// Live reports whether the share can still be opened.
func (v docShareView) Live() bool {
	return v.State == store.ShareActive || v.State == store.ShareLocked
}

// shareViews lists the document shares of a client record that v may see, newest first.
func (h *Handler) shareViews(pg *views.Page, v access.Viewer, clientID uint64) ([]docShareView, error) {
	shares, err := h.access.Shares(v, clientID)
	if err != nil {
		return nil, err
	}
	if err := h.shares.CurrentLive(shares); err != nil {
		return nil, err
	}
	p, _ := h.currentPractice()
	var out []docShareView
	for _, sh := range shares {
		if sh.Kind != store.ShareFiles {
			continue
		}
		v := docShareView{Share: sh, State: h.shares.State(sh), Recipient: sh.Recipients[0],
			Created: pg.DateTime(sh.CreatedAt), Expires: pg.DateTime(sh.ExpiresAt)}
		if !sh.EndedAt.IsZero() {
			v.Ended = pg.DateTime(sh.EndedAt)
		}
		for _, m := range v.Recipient.Mobiles {
			v.Mobiles = append(v.Mobiles, displayPhone(m, p.PhoneRegion))
		}
		for i, id := range sh.Snapshot {
			f := shareFile{N: i + 1}
			if b, err := h.store.Blob(id); err == nil {
				f.Name, f.Size = b.Name, humanSize(pg.Localizer, b.Size)
			}
			v.Files = append(v.Files, f)
		}
		// The "sent" event names the files, so a purged share still says what it held.
		evs, err := h.shares.Events(sh.ID)
		if err != nil {
			return nil, err
		}
		v.Events = historyLines(pg.Localizer, pg, evs, nil)
		out = append(out, v)
	}
	return out, nil
}
