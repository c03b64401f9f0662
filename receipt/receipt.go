// Package receipt draws the PDF receipt of a paid appointment. Every string
// arrives already in the client's language; the embedded DejaVu Sans font
// renders French accents and the euro sign.
package receipt

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	_ "image/jpeg" // logo formats
	"image/png"
	"io"
	"time"

	"github.com/go-pdf/fpdf"
	_ "golang.org/x/image/webp"
)

//go:embed fonts/DejaVuSans.ttf
var regular []byte

//go:embed fonts/DejaVuSans-Bold.ttf
var bold []byte

// Line is one labelled value of the receipt. Below puts the value on its own
// full-width line under the label, for a value too long to sit beside it
// (a SHA-256 in hex).
type Line struct {
	Label, Value string
	Below        bool
}

// Receipt is what the PDF shows.
type Receipt struct {
	Lang     string
	Title    string // "Receipt" / "Reçu"
	Number   string // "Receipt no. 12"
	Practice string
	// Issuer is what identifies the practice under its name: address lines,
	// phone, email, SIRET.
	Issuer []string
	Logo   []byte // PNG, JPEG or WebP; optional
	Brand  [3]int // RGB of the practice colour
	Lines  []Line
	Total  Line
	// Notes follow the total: the VAT line, for one.
	Notes []string
	// Picture is an optional PNG shown under the lines with its label (the
	// signature on a signing certificate, which is drawn with this same layout).
	Picture      []byte
	PictureLabel string
	Footer       string
	CreatedAt    time.Time // fixed so the same receipt gives the same bytes
}

// Pixel bounds of the images drawn: a receipt must stay quick and small in
// memory whatever was stored (logos are bounded at upload since, but not
// those stored before).
const (
	maxLogoPixels    = 1 << 20
	maxPicturePixels = 4 << 20
)

// decodeBounded decodes an image of at most maxPixels pixels; ok is false otherwise.
func decodeBounded(data []byte, maxPixels int) (image.Image, bool) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxPixels {
		return nil, false
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err == nil
}

// Write renders r as a one-page A4 PDF. It does not fail on what the text
// holds: characters no embedded font has are replaced visibly, and
// right-to-left text is drawn in the order it is read.
func Write(w io.Writer, r Receipt) (err error) {
	defer func() {
		// fpdf panics on some inputs; a receipt is answered with an error, never a crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("receipt: %v", p)
		}
	}()
	r.Title, r.Number, r.Practice, r.Footer, r.PictureLabel = printable(r.Title), printable(r.Number), printable(r.Practice), printable(r.Footer), printable(r.PictureLabel)
	r.Total = Line{Label: printable(r.Total.Label), Value: printable(r.Total.Value)}
	lines := make([]Line, len(r.Lines))
	for i, l := range r.Lines {
		lines[i] = Line{Label: printable(l.Label), Value: printable(l.Value), Below: l.Below}
	}
	r.Lines = lines
	r.Issuer, r.Notes = printables(r.Issuer), printables(r.Notes)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(r.CreatedAt)
	pdf.SetModificationDate(r.CreatedAt)
	pdf.SetCatalogSort(true)
	pdf.SetLang(r.Lang)
	pdf.SetTitle(r.Number, true)
	pdf.SetAuthor(r.Practice, true)
	pdf.AddUTF8FontFromBytes("dejavu", "", regular)
	pdf.AddUTF8FontFromBytes("dejavu", "B", bold)
	pdf.SetMargins(20, 20, 20)
	pdf.AddPage()

	y := 20.0
	if len(r.Logo) > 0 {
		if img, ok := decodeBounded(r.Logo, maxLogoPixels); ok {
			var buf bytes.Buffer
			if png.Encode(&buf, img) == nil {
				opts := fpdf.ImageOptions{ImageType: "PNG"}
				pdf.RegisterImageOptionsReader("logo", opts, &buf)
				pdf.ImageOptions("logo", 20, y, 0, 18, false, opts, 0, "")
				y += 22
			}
		}
	}
	pdf.SetTextColor(r.Brand[0], r.Brand[1], r.Brand[2])
	pdf.SetFont("dejavu", "B", 16)
	pdf.SetXY(20, y)
	pdf.CellFormat(0, 8, r.Practice, "", 1, "L", false, 0, "")
	pdf.SetTextColor(80, 87, 94)
	pdf.SetFont("dejavu", "", 10)
	for _, l := range r.Issuer {
		pdf.CellFormat(0, 5, l, "", 1, "L", false, 0, "")
	}
	pdf.SetTextColor(29, 35, 39)
	pdf.SetFont("dejavu", "B", 22)
	pdf.Ln(6)
	pdf.CellFormat(0, 10, r.Title, "", 1, "L", false, 0, "")
	pdf.SetFont("dejavu", "", 12)
	pdf.CellFormat(0, 7, r.Number, "", 1, "L", false, 0, "")
	pdf.Ln(6)

	for _, l := range r.Lines {
		drawLine(pdf, l)
	}
	pdf.Ln(4)
	if r.Total.Label != "" {
		pdf.SetFont("dejavu", "B", 14)
		pdf.CellFormat(55, 10, r.Total.Label, "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 10, r.Total.Value, "", 1, "R", false, 0, "")
	}
	pdf.SetFont("dejavu", "", 10)
	for _, n := range r.Notes {
		pdf.MultiCell(0, 6, n, "", "L", false)
	}
	if len(r.Picture) > 0 {
		if img, ok := decodeBounded(r.Picture, maxPicturePixels); ok {
			var buf bytes.Buffer
			if png.Encode(&buf, img) == nil {
				pdf.SetFont("dejavu", "B", 11)
				pdf.CellFormat(0, 8, r.PictureLabel, "", 1, "L", false, 0, "")
				opts := fpdf.ImageOptions{ImageType: "PNG"}
				pdf.RegisterImageOptionsReader("picture", opts, &buf)
				w := 80.0
				hgt := w * float64(img.Bounds().Dy()) / float64(max(1, img.Bounds().Dx()))
				pdf.ImageOptions("picture", pdf.GetX(), pdf.GetY(), w, hgt, true, opts, 0, "")
			}
		}
	}
	pdf.Ln(10)
	pdf.SetFont("dejavu", "", 9)
	pdf.SetTextColor(80, 87, 94)
	pdf.MultiCell(0, 5, r.Footer, "", "L", false)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	return pdf.Output(w)
}

// Column widths of a line, in mm: the label wraps inside its own column, so
// a long label ("SHA-256 des diapositives signées") never runs into its value.
const (
	labelWidth = 55.0
	lineHeight = 6.0
)

// drawLine draws one labelled value with a rule under it. The label and the
// value each wrap in their column; the row is as tall as the taller of the two.
func drawLine(pdf *fpdf.Fpdf, l Line) {
	left, _, right, _ := pdf.GetMargins()
	pageW, _ := pdf.GetPageSize()
	full := pageW - left - right
	pdf.SetFont("dejavu", "B", 11)
	if l.Below {
		pdf.MultiCell(full, lineHeight+1, l.Label, "", "L", false)
		pdf.SetFont("dejavu", "", 10)
		pdf.MultiCell(full, lineHeight+1, l.Value, "B", "L", false)
		return
	}
	labels := pdf.SplitText(l.Label, labelWidth-2)
	pdf.SetFont("dejavu", "", 11)
	values := pdf.SplitText(l.Value, full-labelWidth-2)
	rows := max(len(labels), len(values), 1)
	h := float64(rows)*lineHeight + 2
	// A row is never cut by the page end: it moves to the next page whole.
	_, pageH := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	if pdf.GetY()+h > pageH-max(bottom, 20) {
		pdf.AddPage()
	}
	x, y := left, pdf.GetY()
	pdf.SetFont("dejavu", "B", 11)
	for i, t := range labels {
		pdf.SetXY(x, y+1+float64(i)*lineHeight)
		pdf.CellFormat(labelWidth, lineHeight, t, "", 0, "L", false, 0, "")
	}
	pdf.SetFont("dejavu", "", 11)
	for i, t := range values {
		pdf.SetXY(x+labelWidth, y+1+float64(i)*lineHeight)
		pdf.CellFormat(full-labelWidth, lineHeight, t, "", 0, "L", false, 0, "")
	}
	pdf.Line(x, y+h, x+full, y+h)
	pdf.SetXY(x, y+h)
}

// printables makes each of a list of strings printable, in a new slice.
func printables(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = printable(s)
	}
	return out
}
