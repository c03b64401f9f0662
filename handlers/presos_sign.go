package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/locales"
	"foyer/preso"
	"foyer/receipt"
	"foyer/store"
)

// Signing: the signing slide of a shared preso asks for a typed full name, a
// drawn signature (or the typed name only, for keyboard users or without
// JavaScript) and consent. The signature is stored with the time, how the
// signer was verified, their browser and IP, and the SHA-256 of the snapshot
// they saw; staff download a certificate stating all of it.

// signView tells the signing slide whether this viewer already signed it.
func (h *Handler) signView(c echo.Context, v *linkVisit, vw store.Viewing, slide store.Slide) (*signView, error) {
	sv := &signView{Action: v.Base + "/sign"}
	sig, err := h.presos.Signed(vw, slide.ID)
	if err != nil || sig == nil {
		return sv, err
	}
	sv.Signed, sv.Name = true, sig.Name
	sv.SignedAt = h.page(c, "").DateTime(sig.At)
	return sv, nil
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
	switch preso.NameMismatch(sig) {
	case preso.NameDiffersVerified:
		return "sign.name_differs"
	case preso.NameDiffersPicked:
		return "sign.name_differs_picked"
	}
	return ""
}

// lastMasked is what a masked number shows of it ("678" of "••• ••• 678").
func lastMasked(masked string) string {
	if i := strings.LastIndexByte(masked, ' '); i >= 0 {
		return masked[i+1:]
	}
	return masked
}

// signingMessages are the messages of a signing's field errors.
var signingMessages = map[error]string{
	preso.ErrDrawingInvalid: "sign.drawing_invalid",
	preso.ErrDrawingMissing: "sign.drawing_missing",
	preso.ErrNoConsent:      "sign.consent_missing",
}

// presoSign records a signature on the signing slide.
func (h *Handler) presoSign(c echo.Context, v *linkVisit, snap store.Snapshot) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	slideID, _ := strconv.ParseUint(c.FormValue("slide"), 10, 64)
	if preso.SigningSlide(snap, slideID) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	in := preso.Signing{SlideID: slideID, Name: f.text("name", 120, true), Drawing: c.FormValue("drawing"),
		TypedOnly: f.checkbox("typed_only"), Consent: f.checkbox("consent"), IP: c.RealIP()}
	vw, token, err := h.viewing(c, v, snap)
	if err != nil {
		return err
	}
	n := 0
	if f.ok() {
		n, err = h.presos.Sign(v.Visit, snap, vw, in)
	} else {
		_, err = preso.CheckSigning(in) // every field's message at once
	}
	var fe preso.FieldErrors
	if errors.As(err, &fe) || !f.ok() {
		for _, e := range fe {
			f.fail(e.Field, signingMessages[e.Err])
		}
		n = preso.SigningSlide(snap, slideID)
		d, _ := h.viewerPage(c, snap.Title, snap.Slides, n, v.Base+"/slides/", v.Base+"/images/")
		d.Beacon, d.Viewing = v.Base+"/beacon", token
		d.Sign = &signView{Action: v.Base + "/sign"}
		pg := h.page(c, "viewer.title")
		pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
		pg.Data, pg.Form, pg.Errors, pg.ErrArgs = d, f.vals, f.errs, f.args
		return h.render(c, http.StatusUnprocessableEntity, "viewer", pg)
	} else if err != nil {
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
	sig, err := h.presos.Signature(p, id)
	if errors.Is(err, preso.ErrNotFound) {
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
		receipt.Line{Label: l.T("certificate.browser"), Value: preso.BrowserLine(sig.Browser)},
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
