package handlers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/locales"
	"foyer/receipt"
	"foyer/store"
)

// Signing: the signing slide of a shared preso asks for a typed full name, a
// drawn signature (or the typed name only, for keyboard users or without
// JavaScript) and consent. The signature is stored with the time, how the
// signer was verified, their browser and IP, and the SHA-256 of the snapshot
// they saw; staff download a certificate stating all of it.

const (
	maxDrawingBytes = 200 << 10
	maxDrawingSide  = 2000
)

// signView tells the signing slide whether this viewer already signed it.
func (h *Handler) signView(c echo.Context, v *presoVisit, slide store.Slide) (*signView, error) {
	sv := &signView{Action: v.Base + "/sign"}
	vw, _, err := h.viewing(c, v)
	if err != nil {
		return nil, err
	}
	sigs, err := h.store.ShareSignatures(v.Share.ID)
	if err != nil {
		return nil, err
	}
	me := signer(vw, slide.ID)
	for _, s := range sigs {
		if s.SameSigner(me) {
			sv.Signed, sv.Name = true, s.Name
			sv.SignedAt = h.page(c, "").DateTime(s.At)
		}
	}
	return sv, nil
}

// signer is what a viewing tells of who signs: the contact it is for (verified
// by a code or picked from the list), the name a visitor gave, or nobody.
func signer(vw store.Viewing, slideID uint64) store.Signature {
	sig := store.Signature{ShareID: vw.ShareID, PresoID: vw.PresoID, ViewingID: vw.ID, SnapshotID: vw.SnapshotID,
		SlideID: slideID, Verification: vw.Verification, ContactID: vw.ContactID, Browser: vw.Browser}
	switch {
	case vw.ContactID != 0:
		sig.ContactName = vw.Name
	case vw.Anonymous:
		sig.Anonymous = true
	default:
		sig.DeclaredName = vw.Name
	}
	if sig.Verified() {
		sig.VerifiedTo = vw.VerifiedTo
	}
	return sig
}

// signerIdentity says who a signature's viewing was for and how it was
// checked, apart from the typed name: "Claire Martin, verified by a code sent
// to the mobile ending in 678", or plainly that nobody was verified.
func (h *Handler) signerIdentity(l *locales.Localizer, sig store.Signature) string {
	if sig.Verified() {
		how := l.T("preso.verified_" + sig.Verification)
		if to := sig.VerifiedTo; to != "" {
			if sig.Verification == string(store.ChannelSMS) {
				how = l.T("sign.verified_to_mobile", "Digits", lastMasked(to))
			} else {
				how = l.T("sign.verified_to_email", "Address", to)
			}
		}
		if sig.ContactName == "" {
			return l.T("sign.identity_unrecorded", "How", how)
		}
		return l.T("sign.identity_verified", "Name", sig.ContactName, "How", how)
	}
	switch {
	case sig.ContactName != "":
		return l.T("sign.identity_picked", "Name", sig.ContactName)
	case sig.DeclaredName != "":
		return l.T("sign.identity_declared", "Name", sig.DeclaredName)
	case sig.Anonymous:
		return l.T("sign.identity_anonymous")
	}
	return l.T("preso.verified_none")
}

// nameDiffers is the warning (message ID) for a typed name that is not the
// name of the contact the viewing was for, "" when it is or there is none.
func nameDiffers(sig store.Signature) string {
	switch {
	case !sig.NameDiffers():
		return ""
	case sig.Verified():
		return "sign.name_differs"
	}
	return "sign.name_differs_picked"
}

// lastMasked is what a masked number shows of it ("678" of "••• ••• 678").
func lastMasked(masked string) string {
	if i := strings.LastIndexByte(masked, ' '); i >= 0 {
		return masked[i+1:]
	}
	return masked
}

// withViewing completes a signature stored before it kept the contact: the
// viewing it came from still says whom it was for.
func (h *Handler) withViewing(sig store.Signature) store.Signature {
	if sig.ContactName != "" || sig.DeclaredName != "" || sig.Anonymous {
		return sig
	}
	vw, err := h.store.Viewing(sig.ViewingID)
	if err != nil {
		return sig
	}
	from := signer(vw, sig.SlideID)
	sig.ContactID, sig.ContactName, sig.DeclaredName, sig.Anonymous = from.ContactID, from.ContactName, from.DeclaredName, from.Anonymous
	if sig.Verified() && sig.VerifiedTo == "" {
		sig.VerifiedTo = from.VerifiedTo
	}
	return sig
}

// browserLine is the browser and system a viewing recorded, without the
// separator left over when the system is unknown ("curl 7 ·").
func browserLine(s string) string {
	parts := strings.Split(s, "·")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}

// decodeDrawing reads the drawn signature the page sends as a PNG data URL.
func decodeDrawing(v string) ([]byte, bool) {
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(v, prefix) || len(v) > maxDrawingBytes*4/3+len(prefix) {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(v[len(prefix):])
	if err != nil || len(raw) > maxDrawingBytes {
		return nil, false
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxDrawingSide || cfg.Height > maxDrawingSide {
		return nil, false
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		return nil, false
	}
	return raw, true
}

// presoSign records a signature on the signing slide.
func (h *Handler) presoSign(c echo.Context) error {
	v, err := h.openPresoShare(c)
	if errors.Is(err, errNoVisit) {
		return h.redirect(c, v.Base)
	} else if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	slideID, _ := strconv.ParseUint(c.FormValue("slide"), 10, 64)
	n := 0
	for i, s := range v.Snap.Slides {
		if s.ID == slideID && s.Kind == store.SlideSigning {
			n = i + 1
		}
	}
	if n == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	name := f.text("name", 120, true)
	consent := f.checkbox("consent")
	typedOnly := f.checkbox("typed_only")
	var drawing []byte
	if raw := c.FormValue("drawing"); raw != "" && !typedOnly {
		var ok bool
		if drawing, ok = decodeDrawing(raw); !ok {
			f.fail("drawing", "sign.drawing_invalid")
		}
	} else if !typedOnly {
		f.fail("drawing", "sign.drawing_missing")
	}
	if !consent {
		f.fail("consent", "sign.consent_missing")
	}
	vw, token, err := h.viewing(c, v)
	if err != nil {
		return err
	}
	if !f.ok() {
		d, _ := h.viewerPage(c, v.Snap.Title, v.Snap.Slides, n, v.Base+"/slides/", v.Base+"/images/")
		d.Beacon, d.Viewing = v.Base+"/beacon", token
		d.Sign = &signView{Action: v.Base + "/sign"}
		pg := h.page(c, "viewer.title")
		pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
		pg.Data, pg.Form, pg.Errors, pg.ErrArgs = d, f.vals, f.errs, f.args
		return h.render(c, http.StatusUnprocessableEntity, "viewer", pg)
	}
	sig := signer(vw, slideID)
	sig.ShareID, sig.PresoID, sig.SnapshotID, sig.SnapshotSHA256 = v.Share.ID, v.Share.SubjectID, v.Snap.ID, v.Snap.SHA256
	sig.Name, sig.Drawing, sig.Consent, sig.IP, sig.At = name, drawing, true, c.RealIP(), h.now().UTC()
	// A second signing from the same viewing (or the same verified contact)
	// adds nothing: the slide shows the signature already made.
	if err := h.store.AddSignature(&sig); err != nil && !errors.Is(err, store.ErrAlreadySigned) {
		return err
	}
	return h.redirect(c, fmt.Sprintf("%s/slides/%d", v.Base, n))
}

// signingCertificate is the PDF staff download: who signed what, when, how verified.
func (h *Handler) signingCertificate(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	id, _ := strconv.ParseUint(c.Param("sig"), 10, 64)
	sig, err := h.store.Signature(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sig.PresoID != p.ID) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	pr, _ := h.currentPractice()
	l := h.catalog.Get(pr.DefaultLang)
	var logo []byte
	if pr.LogoType != "" {
		logo, _, _ = h.store.Logo()
	}
	r, g, b := parseHex(pr.BrandColor)
	sig = h.withViewing(sig)
	drawn := l.T("certificate.typed_only")
	if len(sig.Drawing) > 0 {
		drawn = l.T("certificate.drawn")
	}
	doc := receipt.Receipt{
		Lang:     l.Lang,
		Title:    l.T("certificate.title"),
		Number:   l.T("certificate.number", "No", sig.ID, "Title", p.Title),
		Practice: pr.Name,
		Logo:     logo,
		Brand:    [3]int{int(r), int(g), int(b)},
		Lines: []receipt.Line{
			{Label: l.T("certificate.signer"), Value: sig.Name},
			{Label: l.T("certificate.identity"), Value: h.signerIdentity(l, sig)},
		},
		Picture:      sig.Drawing,
		PictureLabel: l.T("certificate.drawing"),
		Footer:       l.T("certificate.footer", "Practice", pr.Name),
		CreatedAt:    sig.At,
	}
	if msg := nameDiffers(sig); msg != "" {
		doc.Lines = append(doc.Lines, receipt.Line{Label: l.T("certificate.warning"), Value: l.T(msg)})
	}
	doc.Lines = append(doc.Lines,
		receipt.Line{Label: l.T("certificate.when"), Value: l.DateTime(sig.At.In(h.zone()))},
		receipt.Line{Label: l.T("certificate.signature"), Value: drawn},
		receipt.Line{Label: l.T("certificate.consent"), Value: l.T("certificate.consent_given")},
		receipt.Line{Label: l.T("certificate.browser"), Value: browserLine(sig.Browser)},
		receipt.Line{Label: l.T("certificate.ip"), Value: sig.IP},
		receipt.Line{Label: l.T("certificate.document"), Value: p.Title},
		// The hash is too long to sit beside its label: it gets a line of its own.
		receipt.Line{Label: l.T("certificate.sha256"), Value: sig.SnapshotSHA256, Below: true},
	)
	var buf bytes.Buffer
	if err := h.writePDF(c, &buf, doc); err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d.pdf"`, l.T("certificate.file_name"), sig.ID))
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Blob(http.StatusOK, "application/pdf", buf.Bytes())
}
