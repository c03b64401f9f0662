package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/locales"
	"foyer/privacy"
	"foyer/store"
	"foyer/views"
)

// pdfDocuments draws an export's PDFs as the receipt and certificate
// downloads do, one at a time with the other PDF work (writePDF).
type pdfDocuments struct {
	h   *Handler
	ctx context.Context
}

func (d pdfDocuments) Receipt(ap store.Appointment, cl store.Client) ([]byte, error) {
	doc, err := d.h.receiptDoc(ap, cl)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = d.h.writePDF(d.ctx, &buf, doc)
	return buf.Bytes(), err
}

// Certificate is the signing certificate issued for sig (package
// certificate): its PDF and its seal (.p7s), the same bytes staff download.
// Nil and nil before it is issued.
func (d pdfDocuments) Certificate(_ store.Preso, sig store.Signature) (pdf, p7s []byte, err error) {
	cert, err := d.h.store.CertificateOf(sig.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	r, err := d.h.store.OpenBlob(cert.BlobID)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), cert.P7S, nil
}

// sendExport writes a client's export zip as a download.
func (h *Handler) sendExport(c echo.Context, cl store.Client, l *locales.Localizer, by privacy.Actor) error {
	var buf bytes.Buffer
	if err := h.privacy.Export(&buf, cl.ID, l, pdfDocuments{h: h, ctx: c.Request().Context()}, by); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.zip", l.T("export.file_name"), strings.ReplaceAll(store.Fold(cl.Name()), " ", "-"))
	hd := c.Response().Header()
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, safeFileName(name)))
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Blob(http.StatusOK, "application/zip", buf.Bytes())
}

// safeFileName keeps the letters, digits, dots and dashes of a file name a
// header carries.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, s)
}

// exportClient is staff making a client's export (for a request by post or
// email): owners, admins and the client's practitioner, as for the record.
func (h *Handler) exportClient(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	return h.sendExport(c, cl, h.catalog.Get(cl.Lang), privacy.Actor{StaffID: currentUser(c).ID, Addr: c.RealIP()})
}

// myData is My Account → My data: the signed-in client's own export (their
// record, as the access policy gives it to them), in the portal's language.
func (h *Handler) myData(c echo.Context) error {
	cl, err := h.access.Client(portalViewer(c), currentAccount(c).ClientID, access.Read)
	if err != nil {
		return accessErr(err)
	}
	return h.sendExport(c, cl, h.loc(c), privacy.Actor{AccountID: currentAccount(c).ID, Addr: c.RealIP()})
}

// eraseData is what the erase confirmation shows: what goes, what stays.
type eraseData struct {
	Client store.Client
	// Erasure is what erasing the client would remove now (nothing yet
	// while the client is active).
	Erasure store.Erasure
}

// erasePage is "Erase this client": what will go and what will stay, and the
// client's name to type. Only the owner erases, and only an archived client.
func (h *Handler) erasePage(c echo.Context, cl store.Client) (*views.Page, error) {
	pg := h.page(c, "erase.title")
	d := eraseData{Client: cl}
	if cl.Archived {
		var err error
		if d.Erasure, err = h.privacy.Preview(cl.ID); errors.Is(err, store.ErrNotArchived) {
			d.Client.Archived = false // restored meanwhile
		} else if err != nil {
			return nil, err
		}
	}
	pg.Data = d
	return pg, nil
}

func (h *Handler) eraseForm(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	pg, err := h.erasePage(c, cl)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "erase", pg)
}

// eraseClient erases the archived client once their name is typed as shown.
// The page is read again only to show a refusal: a preview is an erasure
// rolled back, not worth running before the erasure itself.
func (h *Handler) eraseClient(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	typed := f.text("confirm_name", 210, true)
	switch {
	case !cl.Archived:
		f.fail("confirm_name", "erase.not_archived")
	case typed != "" && !sameName(typed, cl.Name()):
		f.fail("confirm_name", "erase.name_mismatch")
	}
	var out privacy.Erased
	if f.ok() {
		out, err = h.privacy.Erase(cl.ID, privacy.Actor{StaffID: currentUser(c).ID, Addr: c.RealIP()})
		if errors.Is(err, store.ErrNotArchived) {
			cl.Archived = false
			f.fail("confirm_name", "erase.not_archived")
		} else if err != nil {
			return err
		}
	}
	if !f.ok() {
		pg, err := h.erasePage(c, cl)
		if err != nil {
			return err
		}
		return h.invalid(c, "erase", pg, f)
	}
	h.log.Info("client erased", "client", cl.ID, "by", currentUser(c).ID, "compacted", out.Compacted)
	if out.Compacted {
		h.setFlash(c, "flash.client_erased")
	} else {
		h.setFlash(c, "flash.client_erased_later")
	}
	return h.redirect(c, "/clients?archived=1")
}

// sameName compares a typed name with a client's, ignoring case, accents and
// extra spaces: the check is that the owner means this client, not a spelling test.
func sameName(typed, name string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(store.Fold(s)), " ") }
	return norm(typed) == norm(name)
}
