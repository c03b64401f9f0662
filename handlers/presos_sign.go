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
	for _, s := range sigs {
		if s.ViewingID == vw.ID && s.SlideID == slide.ID && s.SnapshotID == v.Snap.ID {
			sv.Signed, sv.Name = true, s.Name
			sv.SignedAt = h.page(c, "").DateTime(s.At)
		}
	}
	return sv, nil
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
		pg.Data, pg.Form, pg.Errors = d, f.vals, f.errs
		return h.render(c, http.StatusUnprocessableEntity, "viewer", pg)
	}
	sig := store.Signature{ShareID: v.Share.ID, PresoID: v.Share.SubjectID, ViewingID: vw.ID, SnapshotID: v.Snap.ID,
		SnapshotSHA256: v.Snap.SHA256, SlideID: slideID, Name: name, Drawing: drawing, Consent: true,
		Verification: vw.Verification, Browser: vw.Browser, IP: c.RealIP(), At: h.now().UTC()}
	if err := h.store.AddSignature(&sig); err != nil {
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
			{Label: l.T("certificate.when"), Value: l.DateTime(sig.At.In(h.zone()))},
			{Label: l.T("certificate.verification"), Value: l.T("preso.verified_" + sig.Verification)},
			{Label: l.T("certificate.signature"), Value: drawn},
			{Label: l.T("certificate.consent"), Value: l.T("certificate.consent_given")},
			{Label: l.T("certificate.browser"), Value: sig.Browser},
			{Label: l.T("certificate.ip"), Value: sig.IP},
			{Label: l.T("certificate.document"), Value: p.Title},
			{Label: l.T("certificate.sha256"), Value: sig.SnapshotSHA256},
		},
		Picture:      sig.Drawing,
		PictureLabel: l.T("certificate.drawing"),
		Footer:       l.T("certificate.footer", "Practice", pr.Name),
		CreatedAt:    sig.At,
	}
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
