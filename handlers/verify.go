package handlers

import (
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/certificate"
	"foyer/journal"
	"foyer/store"
)

// /verify: anyone checks that a signing certificate was issued by this
// practice, unchanged. It takes the certificate's PDF (and its .p7s) or its
// ID, and answers with certificate.Check: authentic, altered, known or
// unknown, with the stored facts of that one certificate and nothing else.
// Public, CSRF-protected, size-limited, and rate-limited per address.

// verifyBodyLimit bounds a check's request: the PDF, its .p7s and the form.
const verifyBodyLimit = certificate.MaxPDF + certificate.MaxP7S + 64<<10

// limitVerify bounds the checks one address asks for: each reads up to
// MaxPDF bytes, hashes them and verifies a signature. (An ID is 128 random
// bits: guessing is hopeless whatever the rate.)
var limitVerify = policy{every: 6 * time.Second, burst: 10}

// certCheckData is what the page shows.
type certCheckData struct {
	// Fingerprint is the SHA-256 of the practice's seal certificate.
	Fingerprint string
	Result      *certCheckResult
}

// certCheckResult is a check's answer, in the visitor's words.
type certCheckResult struct {
	Outcome string
	ID      string
	// The stored facts of the certificate found.
	Title, Signer, Identity, SignedAt, IssuedAt, PDFSHA, SnapshotSHA string
	Stamp                                                            string
	P7SGiven, P7SValid                                               bool
}

func (h *Handler) certCheckPage(c echo.Context, status int, f *form, res *certCheckResult) error {
	pg := h.portalPage(c, "certcheck.title")
	pg.User, pg.Account = nil, nil
	seal, err := h.certs.Seal()
	if err != nil {
		return err
	}
	pg.Data = certCheckData{Fingerprint: seal.Fingerprint(), Result: res}
	if f != nil {
		pg.Form, pg.Errors, pg.ErrArgs = f.vals, f.errs, f.args
	}
	return h.render(c, status, "verify", pg)
}

// certCheckForm is GET /verify.
func (h *Handler) certCheckForm(c echo.Context) error {
	return h.certCheckPage(c, http.StatusOK, nil, nil)
}

// certCheck is POST /verify: a file (with or without its .p7s), or an ID.
func (h *Handler) certCheck(c echo.Context) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	if !h.limits.allow("verify-ip:"+limitAddr(c), limitVerify) {
		f.fail("_form", "signin.too_many")
		return h.certCheckPage(c, http.StatusTooManyRequests, f, nil)
	}
	pdf, problem := readUpload(c, "pdf", certificate.MaxPDF)
	typed := f.text("id", 80, false)
	var check certificate.Check
	switch {
	case problem == "missing" && typed != "":
		var ok bool
		if check, ok, err = h.certs.CheckID(typed); err != nil {
			return err
		} else if !ok && certificate.IDShaped(typed) {
			f.fail("id", "certcheck.id_typo")
		} else if !ok {
			f.fail("id", "certcheck.id_invalid")
		}
	case problem == "missing":
		f.fail("pdf", "certcheck.nothing")
	case problem != "":
		f.failWith("pdf", "certcheck.pdf_"+problem, "Size", humanSize(h.loc(c), certificate.MaxPDF))
	}
	var p7s []byte
	if problem == "" {
		var p7sProblem string
		if p7s, p7sProblem = readUpload(c, "p7s", certificate.MaxP7S); p7sProblem != "" && p7sProblem != "missing" {
			f.failWith("p7s", "certcheck.p7s_"+p7sProblem, "Size", humanSize(h.loc(c), certificate.MaxP7S))
		}
	}
	if !f.ok() {
		return h.certCheckPage(c, http.StatusUnprocessableEntity, f, nil)
	}
	if problem == "" {
		// Hashing and verifying take a turn like drawing a PDF does.
		select {
		case h.pdfSlots <- struct{}{}:
		case <-c.Request().Context().Done():
			return httpError(http.StatusServiceUnavailable, "error.server")
		}
		check, err = h.certs.CheckFile(pdf, p7s)
		<-h.pdfSlots
		if err != nil {
			return err
		}
	}
	return h.certCheckPage(c, http.StatusOK, f, h.certCheckResult(c, check))
}

// certCheckResult puts a check in the visitor's language.
func (h *Handler) certCheckResult(c echo.Context, ch certificate.Check) *certCheckResult {
	res := &certCheckResult{Outcome: string(ch.Outcome), ID: ch.ID, P7SGiven: ch.P7SGiven, P7SValid: ch.P7SValid}
	cert := ch.Certificate
	if cert == nil {
		return res
	}
	l, zone := h.loc(c), h.zone()
	res.Title, res.Signer = cert.Title, cert.Signature.Name
	res.Identity = certificate.Identity(l, cert.Signature)
	res.SignedAt = l.DateTime(cert.Signature.At.In(zone))
	res.IssuedAt = l.DateTime(cert.IssuedAt.In(zone))
	res.PDFSHA, res.SnapshotSHA = cert.PDFSHA256, cert.Signature.SnapshotSHA256
	if !ch.Stamp.At.IsZero() {
		res.Stamp = l.T("certcheck.stamp", "When", l.DateTime(ch.Stamp.At.In(zone)), "TSA", ch.Stamp.By)
	}
	return res
}

// readUpload reads an uploaded file of at most max bytes; problem is
// "missing", "too_big" or "" (then data holds it).
func readUpload(c echo.Context, field string, max int64) (data []byte, problem string) {
	fh, err := c.FormFile(field)
	if err != nil || fh.Size == 0 {
		return nil, "missing"
	}
	if fh.Size > max {
		return nil, "too_big"
	}
	file, err := fh.Open()
	if err != nil {
		return nil, "missing"
	}
	defer file.Close()
	data, err = io.ReadAll(io.LimitReader(file, max+1))
	if err != nil || int64(len(data)) > max {
		return nil, "too_big"
	}
	return data, ""
}

// practicePEM serves the practice's seal certificate, for openssl's -CAfile.
func (h *Handler) practicePEM(c echo.Context) error {
	seal, err := h.certs.Seal()
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Disposition", `attachment; filename="practice.pem"`)
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "application/x-pem-file", seal.PEM())
}

// signatureCertificate issues (if it was not yet) and returns the
// certificate of a signature of the preso in the path, and journals its
// download (kind: "pdf" or "p7s") about the signer's client alone: the
// preso's other contacts had nothing of theirs read.
func (h *Handler) signatureCertificate(c echo.Context, kind string) (store.Certificate, error) {
	p, err := h.loadPresoQuietly(c)
	if err != nil {
		return store.Certificate{}, err
	}
	sig, err := h.presoSignature(c, p)
	if err != nil {
		return store.Certificate{}, err
	}
	select {
	case h.pdfSlots <- struct{}{}:
	case <-c.Request().Context().Done():
		return store.Certificate{}, httpError(http.StatusServiceUnavailable, "error.server")
	}
	defer func() { <-h.pdfSlots }()
	cert, err := h.certs.Of(c.Request().Context(), sig.ID)
	if err == nil {
		h.record(c, journal.Entry{ClientID: sig.ContactID, Action: journal.CertificateDownload, ItemID: sig.ID, Detail: kind})
	}
	return cert, err
}
