package certificate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // slide images may be WebP

	"foyer/locales"
	"foyer/markdown"
	"foyer/preso"
	"foyer/receipt"
	"foyer/store"
)

// document is everything a certificate's PDF shows, gathered by Issue.
type document struct {
	ID       string // canonical
	IssuedAt time.Time
	Evidence preso.Evidence
	Practice store.Practice
	Logo     []byte
	Zone     *time.Location
	// VerifyURL is the practice's /verify, PEMURL its seal's certificate.
	VerifyURL, PEMURL string
	Fingerprint       string
	// Image returns a slide image's bytes by its SHA-256 (hex).
	Image func(digest string) ([]byte, error)
}

// Layout of the page, in mm.
const (
	margin     = 18.0
	labelWidth = 52.0
	lineH      = 5.2
	// maxImageSide bounds the pixels of a slide image drawn in the appendix:
	// enough for print, and it keeps a certificate of 200 slides small
	// enough to send back to /verify.
	maxImageSide = 1600
	// maxImagePixels refuses to decode an image larger than this (a bomb).
	maxImagePixels = 40 << 20
)

// pdfWriter draws a certificate with the receipts' fonts and text rules.
type pdfWriter struct {
	pdf *fpdf.Fpdf
	l   *locales.Localizer
	d   document
	n   int // images registered
}

// render draws d in l's language as an A4 PDF.
func render(w io.Writer, d document, l *locales.Localizer) (err error) {
	defer func() {
		// fpdf panics on some inputs: a certificate fails, the process stays.
		if p := recover(); p != nil {
			err = fmt.Errorf("certificate: %v", p)
		}
	}()
	pdf := fpdf.New("P", "mm", "A4", "")
	p := &pdfWriter{pdf: pdf, l: l, d: d}
	pdf.SetCreationDate(d.IssuedAt)
	pdf.SetModificationDate(d.IssuedAt)
	pdf.SetCatalogSort(true)
	pdf.SetLang(l.Lang)
	pdf.SetTitle(receipt.Printable(l.T("certificate.title")+" "+FormatID(d.ID)), true)
	pdf.SetAuthor(receipt.Printable(d.Practice.Name), true)
	// The ID in plain ASCII in the document's information, where /verify
	// finds it in a file whose bytes changed.
	pdf.SetKeywords(idMarker+d.ID, false)
	regular, bold := receipt.Fonts()
	pdf.AddUTF8FontFromBytes("dejavu", "", regular)
	pdf.AddUTF8FontFromBytes("dejavu", "B", bold)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin+6)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont("dejavu", "", 8)
		pdf.SetTextColor(80, 87, 94)
		pdf.CellFormat(0, 5, p.text(l.T("certificate.page_footer", "ID", FormatID(d.ID), "Page", strconv.Itoa(pdf.PageNo()), "Pages", "{nb}")), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	p.header()
	p.signature()
	p.signed()
	p.trail()
	p.meaning()
	p.appendix()
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	return pdf.Output(w)
}

// idMarker precedes the certificate ID in the PDF's keywords.
const idMarker = "foyer-certificate:"

func (p *pdfWriter) text(s string) string { return receipt.Printable(s) }

// when is a time in the practice's zone, to the second.
func (p *pdfWriter) when(t time.Time) string {
	t = t.In(p.d.Zone)
	return p.l.T("certificate.datetime", "Date", p.l.Date(t), "Time", t.Format(p.l.T("certificate.time_layout")))
}

// utc is a time in UTC, as ISO 8601 writes it.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func (p *pdfWriter) header() {
	pdf, d := p.pdf, p.d
	y := margin
	if len(d.Logo) > 0 {
		if name, w, h, ok := p.image(d.Logo, 600); ok {
			hgt := 16.0
			pdf.ImageOptions(name, margin, y, hgt*w/h, hgt, false, fpdf.ImageOptions{}, 0, "")
			y += hgt + 4
		}
	}
	r, g, b := brand(d.Practice.BrandColor)
	pdf.SetTextColor(r, g, b)
	pdf.SetFont("dejavu", "B", 15)
	pdf.SetXY(margin, y)
	pdf.CellFormat(0, 8, p.text(d.Practice.Name), "", 1, "L", false, 0, "")
	pdf.SetTextColor(29, 35, 39)
	pdf.Ln(3)
	pdf.SetFont("dejavu", "B", 21)
	pdf.MultiCell(0, 9, p.text(p.l.T("certificate.title")), "", "L", false)
	pdf.SetFont("dejavu", "", 11)
	pdf.MultiCell(0, 6, p.text(p.l.T("certificate.kind")), "", "L", false)
	pdf.Ln(3)
	p.line(p.l.T("certificate.cert_id"), FormatID(d.ID), true)
	p.line(p.l.T("certificate.issued"), p.when(d.IssuedAt)+" · "+utc(d.IssuedAt), false)
}

// section starts a titled part of the certificate.
func (p *pdfWriter) section(title string) {
	pdf := p.pdf
	_, pageH := pdf.GetPageSize()
	if pdf.GetY() > pageH-margin-40 {
		pdf.AddPage()
	}
	pdf.Ln(5)
	pdf.SetFont("dejavu", "B", 13)
	pdf.SetTextColor(29, 35, 39)
	pdf.MultiCell(0, 7, p.text(title), "", "L", false)
	pdf.Ln(1)
}

// line draws one labelled value; the label and the value each wrap in their column.
func (p *pdfWriter) line(label, value string, strong bool) {
	pdf := p.pdf
	label, value = p.text(label), p.text(value)
	full := p.width()
	pdf.SetFont("dejavu", "B", 10)
	labels := pdf.SplitText(label, labelWidth-2)
	style := ""
	if strong {
		style = "B"
	}
	pdf.SetFont("dejavu", style, 10)
	values := splitLines(pdf, value, full-labelWidth-2)
	h := float64(max(len(labels), len(values), 1))*lineH + 2
	_, pageH := pdf.GetPageSize()
	if pdf.GetY()+h > pageH-margin-6 {
		pdf.AddPage()
	}
	x, y := margin, pdf.GetY()
	pdf.SetFont("dejavu", "B", 10)
	for i, t := range labels {
		pdf.SetXY(x, y+1+float64(i)*lineH)
		pdf.CellFormat(labelWidth, lineH, t, "", 0, "L", false, 0, "")
	}
	pdf.SetFont("dejavu", style, 10)
	for i, t := range values {
		pdf.SetXY(x+labelWidth, y+1+float64(i)*lineH)
		pdf.CellFormat(full-labelWidth, lineH, t, "", 0, "L", false, 0, "")
	}
	pdf.SetDrawColor(210, 214, 218)
	pdf.Line(x, y+h, x+full, y+h)
	pdf.SetXY(x, y+h)
}

// hashLine draws a digest under its label, small enough to hold on one
// line, so that it can be read, copied and compared whole.
func (p *pdfWriter) hashLine(label, value string) {
	pdf := p.pdf
	p.room(14)
	pdf.SetFont("dejavu", "B", 10)
	pdf.MultiCell(0, lineH+0.5, p.text(label), "", "L", false)
	size := 8.5
	pdf.SetFont("dejavu", "", size)
	for size > 6 && pdf.GetStringWidth(value) > p.width() {
		size -= 0.5
		pdf.SetFont("dejavu", "", size)
	}
	pdf.MultiCell(0, lineH, value, "B", "L", false)
}

// splitLines wraps text to width, keeping its own line breaks, and cuts a
// word longer than the width (a hash) where it must.
func splitLines(pdf *fpdf.Fpdf, s string, width float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if para == "" {
			out = append(out, "")
			continue
		}
		out = append(out, pdf.SplitText(para, width)...)
	}
	return out
}

func (p *pdfWriter) width() float64 {
	w, _ := p.pdf.GetPageSize()
	return w - 2*margin
}

// para writes a paragraph at size pt.
func (p *pdfWriter) para(s string, size float64, style string) {
	p.pdf.SetFont("dejavu", style, size)
	p.pdf.MultiCell(0, size*0.5, p.text(s), "", "L", false)
}

func (p *pdfWriter) signature() {
	l, ev := p.l, p.d.Evidence
	sig := ev.Signature
	p.section(l.T("certificate.the_signature"))
	p.line(l.T("certificate.signer"), sig.Name, true)
	p.line(l.T("certificate.identity"), Identity(l, sig), false)
	switch preso.NameMismatch(sig) {
	case preso.NameDiffersVerified:
		p.line(l.T("certificate.warning"), l.T("sign.name_differs"), true)
	case preso.NameDiffersPicked:
		p.line(l.T("certificate.warning"), l.T("sign.name_differs_picked"), true)
	}
	p.line(l.T("certificate.when"), p.when(sig.At)+" · "+utc(sig.At), false)
	drawn := l.T("certificate.typed_only")
	if len(sig.Drawing) > 0 {
		drawn = l.T("certificate.drawn")
	}
	p.line(l.T("certificate.signature"), drawn, false)
	consent := sig.ConsentText
	if consent == "" {
		consent = l.T("certificate.consent_unrecorded")
	} else {
		consent = l.T("certificate.consent_quoted", "Text", consent)
	}
	p.line(l.T("certificate.consent"), consent, false)
	p.line(l.T("certificate.browser"), orUnknown(l, sig.Browser), false)
	p.line(l.T("certificate.ip"), orUnknown(l, sig.IP), false)
	if len(sig.Drawing) > 0 {
		if name, w, h, ok := p.image(sig.Drawing, maxImageSide); ok {
			pdf := p.pdf
			pdf.Ln(2)
			pdf.SetFont("dejavu", "B", 10)
			pdf.CellFormat(0, 6, p.text(l.T("certificate.drawing")), "", 1, "L", false, 0, "")
			dw := 70.0
			dh := dw * h / w
			p.room(dh + 2)
			pdf.ImageOptions(name, margin, pdf.GetY(), dw, dh, true, fpdf.ImageOptions{}, 0, "")
		}
	}
}

func orUnknown(l *locales.Localizer, s string) string {
	if s == "" {
		return l.T("certificate.unknown")
	}
	return s
}

// room moves to a new page unless h mm are left on this one.
func (p *pdfWriter) room(h float64) {
	_, pageH := p.pdf.GetPageSize()
	if p.pdf.GetY()+h > pageH-margin-6 {
		p.pdf.AddPage()
	}
}

func (p *pdfWriter) signed() {
	l, ev := p.l, p.d.Evidence
	p.section(l.T("certificate.what_signed"))
	p.line(l.T("certificate.document"), ev.Title, true)
	if ev.Snapshot.ID != 0 {
		p.line(l.T("certificate.slides"), l.N("certificate.slides_count", len(ev.Snapshot.Slides)), false)
	} else {
		p.line(l.T("certificate.slides"), l.T("certificate.slides_gone"), false)
	}
	p.hashLine(l.T("certificate.sha256"), ev.Signature.SnapshotSHA256)
}

func (p *pdfWriter) trail() {
	l, pdf := p.l, p.pdf
	p.section(l.T("certificate.trail"))
	p.para(l.T("certificate.trail_intro", "Zone", p.d.Zone.String()), 9, "")
	pdf.Ln(1)
	full := p.width()
	colA, colB := 36.0, 38.0
	head := func() {
		pdf.SetFont("dejavu", "B", 9)
		pdf.SetFillColor(238, 241, 244)
		pdf.CellFormat(colA, 6, p.text(l.T("certificate.col_local")), "", 0, "L", true, 0, "")
		pdf.CellFormat(colB, 6, "UTC", "", 0, "L", true, 0, "")
		pdf.CellFormat(full-colA-colB, 6, p.text(l.T("certificate.col_event")), "", 1, "L", true, 0, "")
	}
	head()
	for _, st := range p.d.Evidence.Trail {
		what := p.text(stepText(l, st))
		pdf.SetFont("dejavu", "", 9)
		rows := splitLines(pdf, what, full-colA-colB-2)
		h := float64(len(rows))*4.4 + 2
		_, pageH := pdf.GetPageSize()
		if pdf.GetY()+h > pageH-margin-6 {
			pdf.AddPage()
			head()
			pdf.SetFont("dejavu", "", 9)
		}
		x, y := margin, pdf.GetY()
		local := st.At.In(p.d.Zone)
		pdf.SetXY(x, y+1)
		pdf.CellFormat(colA, 4.4, p.text(l.Date(local)), "", 0, "L", false, 0, "")
		pdf.SetXY(x, y+5.4)
		pdf.CellFormat(colA, 4.4, local.Format(l.T("certificate.time_layout")), "", 0, "L", false, 0, "")
		pdf.SetXY(x+colA, y+1)
		pdf.SetFont("dejavu", "", 8)
		pdf.CellFormat(colB, 4.4, utc(st.At), "", 0, "L", false, 0, "")
		pdf.SetFont("dejavu", "", 9)
		for i, r := range rows {
			pdf.SetXY(x+colA+colB, y+1+float64(i)*4.4)
			pdf.CellFormat(full-colA-colB, 4.4, r, "", 0, "L", false, 0, "")
		}
		h = max(h, 11)
		pdf.SetDrawColor(225, 229, 233)
		pdf.Line(x, y+h, x+full, y+h)
		pdf.SetXY(x, y+h)
	}
}

// stepText is the words of one line of the audit trail.
func stepText(l *locales.Localizer, st preso.Step) string {
	id := "certificate.step_" + string(st.Kind)
	var s string
	switch st.Kind {
	case preso.StepLinkCreated, preso.StepLinkRefreshed, preso.StepLinkExtended, preso.StepLinkUnlocked:
		s = l.T(id, "Staff", orUnknown(l, st.Staff))
	case preso.StepCodeSent, preso.StepVerified:
		s = l.T(id+"_"+channelOf(st.Channel), "To", orUnknown(l, st.To))
	case preso.StepPicked, preso.StepDeclared:
		s = l.T(id, "Name", st.Name)
	case preso.StepSlide:
		if st.Slide == 0 {
			s = l.T("certificate.step_slide_gone", "Time", l.Duration(time.Duration(st.Millis)*time.Millisecond))
		} else {
			s = l.T(id, "N", st.Slide, "Title", st.Title, "Time", l.Duration(time.Duration(st.Millis)*time.Millisecond))
		}
	default:
		s = l.T(id)
	}
	var extra []string
	if st.Browser != "" {
		extra = append(extra, l.T("certificate.from_browser", "Browser", st.Browser))
	}
	if st.IP != "" {
		extra = append(extra, l.T("certificate.from_ip", "IP", st.IP))
	}
	if len(extra) > 0 {
		s += "\n" + strings.Join(extra, " · ")
	}
	return s
}

// channelOf is "sms" or "email", the channels a code goes by.
func channelOf(c string) string {
	if c == string(store.ChannelEmail) {
		return "email"
	}
	return "sms"
}

func (p *pdfWriter) meaning() {
	l := p.l
	p.section(l.T("certificate.meaning"))
	for _, k := range []string{"certificate.meaning_kind", "certificate.meaning_proves", "certificate.meaning_not"} {
		p.para(l.T(k), 9.5, "")
		p.pdf.Ln(1.5)
	}
	p.section(l.T("certificate.check"))
	p.para(l.T("certificate.check_how", "URL", p.d.VerifyURL, "ID", FormatID(p.d.ID)), 9.5, "")
	p.pdf.Ln(1.5)
	p.para(l.T("certificate.check_openssl", "PEM", p.d.PEMURL), 9.5, "")
	p.pdf.Ln(1)
	p.para("openssl cms -verify -binary -inform DER -in "+l.T("certificate.file_name")+".p7s -content "+l.T("certificate.file_name")+".pdf -CAfile practice.pem -out /dev/null", 8.5, "B")
	p.pdf.Ln(1)
	p.hashLine(l.T("certificate.fingerprint"), p.d.Fingerprint)
}

func (p *pdfWriter) appendix() {
	l, pdf, snap := p.l, p.pdf, p.d.Evidence.Snapshot
	if snap.ID == 0 {
		return
	}
	pdf.AddPage()
	pdf.SetFont("dejavu", "B", 16)
	pdf.MultiCell(0, 8, p.text(l.T("certificate.appendix")), "", "L", false)
	p.para(l.T("certificate.appendix_intro", "Title", snap.Title), 9.5, "")
	for i, sl := range snap.Slides {
		p.room(30)
		pdf.Ln(4)
		pdf.SetDrawColor(180, 186, 192)
		pdf.Line(margin, pdf.GetY(), margin+p.width(), pdf.GetY())
		pdf.Ln(2)
		pdf.SetFont("dejavu", "B", 12)
		pdf.MultiCell(0, 6, p.text(l.T("certificate.slide_heading", "N", i+1, "Count", len(snap.Slides), "Title", sl.Title)), "", "L", false)
		if sl.Kind == store.SlideSigning {
			p.para(l.T("certificate.slide_signing"), 9, "")
		}
		for _, b := range markdown.Blocks(sl.Body) {
			p.block(b)
		}
		if sl.Image != "" {
			p.slideImage(sl.Image)
		}
	}
}

// block writes one block of a slide's text.
func (p *pdfWriter) block(b markdown.Block) {
	pdf := p.pdf
	pdf.Ln(1.5)
	switch b.Kind {
	case markdown.Heading:
		p.para(b.Text, max(10, 14-float64(b.Level)), "B")
	case markdown.Item:
		indent := 5.0 * float64(b.Level)
		pdf.SetFont("dejavu", "", 10)
		pdf.SetX(margin + indent - 4)
		pdf.CellFormat(4+float64(len(b.Marker))*1.2, 5, b.Marker, "", 0, "L", false, 0, "")
		pdf.SetLeftMargin(margin + indent + float64(len(b.Marker))*1.2)
		pdf.MultiCell(0, 5, p.text(b.Text), "", "L", false)
		pdf.SetLeftMargin(margin)
	case markdown.Quote:
		pdf.SetLeftMargin(margin + 6)
		pdf.SetX(margin + 6)
		p.para(b.Text, 10, "")
		pdf.SetLeftMargin(margin)
	case markdown.Code:
		pdf.SetFillColor(244, 246, 248)
		pdf.SetFont("dejavu", "", 9)
		pdf.MultiCell(0, 4.6, p.text(b.Text), "", "L", true)
	case markdown.Rule:
		pdf.SetDrawColor(200, 205, 210)
		pdf.Line(margin, pdf.GetY(), margin+p.width(), pdf.GetY())
	default:
		p.para(b.Text, 10, "")
	}
}

// slideImage draws a slide's image with its SHA-256, or says it is missing.
func (p *pdfWriter) slideImage(digest string) {
	l, pdf := p.l, p.pdf
	raw, err := p.d.Image(digest)
	pdf.Ln(2)
	if err != nil {
		p.para(l.T("certificate.image_missing", "SHA", digest), 9, "")
		return
	}
	sum := sha256.Sum256(raw)
	name, w, h, ok := p.image(raw, maxImageSide)
	if !ok {
		p.para(l.T("certificate.image_unreadable", "SHA", hex.EncodeToString(sum[:])), 9, "")
		return
	}
	dw := p.width()
	dh := dw * h / w
	if maxH := 150.0; dh > maxH {
		dh, dw = maxH, maxH*w/h
	}
	p.room(dh + 10)
	pdf.ImageOptions(name, margin, pdf.GetY(), dw, dh, true, fpdf.ImageOptions{}, 0, "")
	pdf.SetFont("dejavu", "", 8)
	pdf.SetTextColor(80, 87, 94)
	pdf.MultiCell(0, 4, p.text(l.T("certificate.image_sha", "SHA", hex.EncodeToString(sum[:]))), "", "L", false)
	pdf.SetTextColor(29, 35, 39)
}

// image registers an image for drawing, at most side pixels on its long
// side: a JPEG within bounds as it is, anything else decoded and encoded
// again (PNG where it has transparency, JPEG otherwise). It returns its
// name and size in pixels.
func (p *pdfWriter) image(raw []byte, side int) (name string, w, h float64, ok bool) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxImagePixels {
		return "", 0, 0, false
	}
	p.n++
	name = "img" + strconv.Itoa(p.n)
	if format == "jpeg" && max(cfg.Width, cfg.Height) <= side {
		opts := fpdf.ImageOptions{ImageType: "JPG"}
		p.pdf.RegisterImageOptionsReader(name, opts, bytes.NewReader(raw))
		return name, float64(cfg.Width), float64(cfg.Height), p.pdf.Ok()
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return "", 0, 0, false
	}
	b := img.Bounds()
	if long := max(b.Dx(), b.Dy()); long > side {
		dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*side/long, b.Dy()*side/long))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img = dst
	}
	var buf bytes.Buffer
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	if opaque(img) {
		opts.ImageType = "JPG"
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 88})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		return "", 0, 0, false
	}
	p.pdf.RegisterImageOptionsReader(name, opts, &buf)
	return name, float64(img.Bounds().Dx()), float64(img.Bounds().Dy()), p.pdf.Ok()
}

func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// brand reads the practice's colour (#rrggbb), Foyer's blue otherwise.
func brand(hex string) (int, int, int) {
	var r, g, b int
	if len(hex) == 7 && hex[0] == '#' {
		if _, err := fmt.Sscanf(hex[1:], "%02x%02x%02x", &r, &g, &b); err == nil {
			return r, g, b
		}
	}
	return 31, 78, 121
}
