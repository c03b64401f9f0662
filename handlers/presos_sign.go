package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/preso"
	"foyer/store"
)

// Signing: the signing slide of a shared preso asks for a typed full name, a
// drawn signature (or the typed name only, for keyboard users or without
// JavaScript) and consent. The signature is stored with the time, how the
// signer was verified, their browser and IP, and the SHA-256 of the snapshot
// they saw; staff download a certificate stating all of it.

// signView tells the signing slide whether this viewer already signed it.
func (h *Handler) signView(c echo.Context, v *linkVisit, vw store.Viewing, slide store.Slide) (*signView, error) {
	sv := &signView{Action: urlFor(routeLinkSign, v.Token), Note: signNote(vw)}
	sig, err := h.presos.Signed(vw, slide.ID)
	if err != nil || sig == nil {
		return sv, err
	}
	sv.Signed, sv.Name = true, sig.Name
	sv.SignedAt = h.page(c, "").DateTime(sig.At)
	return sv, nil
}

// signNote is the message ID of what a signature proves, as the signer
// came in: beyond the code they received, or, for someone who picked their
// name or went on without one and was asked no code, not who they are.
func signNote(vw store.Viewing) string {
	if vw.Verified() {
		return "sign.simple_note"
	}
	return "sign.simple_note_no_code"
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
		return errBadRequest
	}
	l := h.loc(c)
	in := preso.Signing{SlideID: slideID, Name: f.name("name", 120, true), Drawing: c.FormValue("drawing"),
		TypedOnly: f.checkbox("typed_only"), Consent: f.checkbox("consent"), IP: c.RealIP(), Lang: l.Lang, ConsentText: l.T("sign.consent")}
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
		d, _ := h.viewerPage(c, snap.Title, snap.Slides, n, linkSlides(v))
		d.Beacon, d.Viewing = urlFor(routeLinkBeacon, v.Token), token
		d.Sign = &signView{Action: urlFor(routeLinkSign, v.Token), Note: signNote(vw)}
		pg := h.page(c, "viewer.title")
		pg.User, pg.Account, pg.DeliveryWarning = nil, nil, ""
		pg.Data, pg.Form, pg.Errors, pg.ErrArgs = d, f.vals, f.errs, f.args
		return h.render(c, http.StatusUnprocessableEntity, "viewer", pg)
	} else if err != nil {
		return err
	}
	return h.redirect(c, urlFor(routeLinkSlide, v.Token, n))
}

// presoSignature loads the signature of the path, made on preso p.
func (h *Handler) presoSignature(c echo.Context, p store.Preso) (store.Signature, error) {
	id, _ := strconv.ParseUint(c.Param("sig"), 10, 64)
	sig, err := h.presos.Signature(p, id)
	if errors.Is(err, preso.ErrNotFound) {
		return sig, errNotFound
	}
	return sig, err
}

// signingCertificate is the signing certificate (PDF) staff download: issued
// once (package certificate), the same bytes ever after.
func (h *Handler) signingCertificate(c echo.Context) error {
	cert, err := h.signatureCertificate(c, "pdf")
	if err != nil {
		return err
	}
	r, err := h.store.OpenBlob(cert.BlobID)
	if err != nil {
		return err
	}
	defer r.Close()
	l := h.catalog.Get(cert.Lang)
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return h.serveDownload(c, fmt.Sprintf("%s-%d.pdf", l.T("certificate.file_name"), cert.SignatureID), "application/pdf", cert.IssuedAt, r)
}

// signingSeal is the certificate's detached CMS signature (.p7s), named as
// the PDF is, so openssl's command in the certificate reads them as saved.
func (h *Handler) signingSeal(c echo.Context) error {
	cert, err := h.signatureCertificate(c, "p7s")
	if err != nil {
		return err
	}
	l := h.catalog.Get(cert.Lang)
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return h.serveDownload(c, fmt.Sprintf("%s-%d.p7s", l.T("certificate.file_name"), cert.SignatureID), "application/pkcs7-signature", cert.IssuedAt, bytes.NewReader(cert.P7S))
}
