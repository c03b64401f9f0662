package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/receipt"
	"foyer/store"
)

// sendReceipt renders a paid appointment's receipt in the client's language.
func (h *Handler) sendReceipt(c echo.Context, ap store.Appointment, cl store.Client) error {
	rec, err := h.receiptDoc(ap, cl)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.writePDF(c.Request().Context(), &buf, rec); err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d.pdf"`, h.catalog.Get(cl.Lang).T("receipt.file_name"), ap.ReceiptNo))
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Blob(http.StatusOK, "application/pdf", buf.Bytes())
}

// receiptDoc is a paid appointment's receipt in the client's language.
func (h *Handler) receiptDoc(ap store.Appointment, cl store.Client) (receipt.Receipt, error) {
	p, _ := h.currentPractice()
	l := h.catalog.Get(cl.Lang)
	zone := h.zone()
	practitioner := ""
	if st, err := h.store.Staff(ap.PractitionerID); err == nil {
		practitioner = st.Name
		if n := st.ProfessionalNo; n != "" {
			scheme := "RPPS"
			if len(n) != 11 {
				scheme = "ADELI"
			}
			practitioner += "\n" + l.T("receipt.professional_no", "Scheme", scheme, "No", n)
		}
	}
	client := cl.Name()
	if cl.Address != "" {
		client += "\n" + cl.Address
	}
	issuer := p.ContactLines()
	if p.SIRET != "" {
		issuer = append(issuer, l.T("receipt.siret", "SIRET", formatSIRET(p.SIRET)))
	}
	var notes []string
	if p.VATNote != "" {
		notes = append(notes, p.VATNote)
	}
	var logo []byte
	if p.LogoType != "" {
		var err error
		if logo, _, err = h.store.Logo(); err != nil && !errors.Is(err, store.ErrNotFound) {
			return receipt.Receipt{}, err
		}
	}
	r, g, b := parseHex(p.BrandColor)
	rec := receipt.Receipt{
		Lang:     l.Lang,
		Title:    l.T("receipt.title"),
		Number:   l.T("receipt.number", "No", ap.ReceiptNo),
		Practice: p.Name,
		Issuer:   issuer,
		Logo:     logo,
		Brand:    [3]int{int(r), int(g), int(b)},
		Lines: []receipt.Line{
			{Label: l.T("receipt.client"), Value: client},
			{Label: l.T("receipt.session_date"), Value: l.DateTime(ap.Start.In(zone))},
			{Label: l.T("receipt.service"), Value: l.T("receipt.service_"+string(ap.Kind), "Minutes", ap.Minutes)},
			{Label: l.T("receipt.practitioner"), Value: practitioner},
			{Label: l.T("receipt.payment_date"), Value: l.Date(ap.PaidAt.In(zone))},
		},
		Total:     receipt.Line{Label: l.T("receipt.amount"), Value: l.Money(ap.FeeCents, ap.Currency)},
		Notes:     notes,
		Footer:    l.T("receipt.footer", "Practice", p.Name),
		CreatedAt: ap.PaidAt,
	}
	return rec, nil
}

// staffReceipt serves a receipt to staff who may see the session.
func (h *Handler) staffReceipt(c echo.Context) error {
	return h.receipt(c, staffViewer(c))
}

// receipt serves the receipt of the route's paid session to v, if v may see
// it (access.Policy.Receipt), else 404.
func (h *Handler) receipt(c echo.Context, v access.Viewer) error {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	ap, cl, err := h.access.Receipt(v, id)
	if err != nil {
		return accessErr(err)
	}
	return h.sendReceipt(c, ap, cl)
}

// writePDF draws a receipt-layout PDF once a turn is free: PDF work is
// capped at one per CPU, so a burst of downloads cannot exhaust memory. A
// request whose client leaves while waiting gives up its place.
func (h *Handler) writePDF(ctx context.Context, w io.Writer, doc receipt.Receipt) error {
	select {
	case h.pdfSlots <- struct{}{}:
	case <-ctx.Done():
		return httpError(http.StatusServiceUnavailable, "error.server")
	}
	defer func() { <-h.pdfSlots }()
	return receipt.Write(w, doc)
}

// formatSIRET groups a SIRET as it is usually printed: 732 829 320 00074.
func formatSIRET(s string) string {
	if len(s) != 14 {
		return s
	}
	return s[:3] + " " + s[3:6] + " " + s[6:9] + " " + s[9:]
}
