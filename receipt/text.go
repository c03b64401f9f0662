package receipt

import (
	"strings"
	"unicode"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/bidi"
)

// missing stands for a character no embedded font can draw: visible, so the
// reader sees something was there, and never an error.
var missing = func() rune {
	if covered('\uFFFD') {
		return '\uFFFD'
	}
	return '?'
}()

var fontRegular, fontBold = mustParse(regular), mustParse(bold)

func mustParse(b []byte) *sfnt.Font {
	f, err := sfnt.Parse(b)
	if err != nil {
		panic("receipt: the embedded font does not parse: " + err.Error())
	}
	return f
}

// covered reports whether both embedded fonts have a glyph for r.
func covered(r rune) bool {
	var buf sfnt.Buffer
	for _, f := range []*sfnt.Font{fontRegular, fontBold} {
		if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
			return false
		}
	}
	return true
}

// printable is s ready for the PDF: control characters dropped, characters
// the fonts lack replaced visibly, and right-to-left text (Hebrew, Arabic)
// put in the order it is seen, since the PDF draws glyphs left to right.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			// Bidi marks and other format characters have no glyph.
		case covered(r):
			b.WriteRune(r)
		default:
			b.WriteRune(missing)
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = visual(l)
	}
	return strings.Join(lines, "\n")
}

// visual reorders one line from logical to visual order (rule L2 of the
// Unicode bidirectional algorithm) with the levels of the runs that
// golang.org/x/text/unicode/bidi finds. The paragraph direction is that of
// its first strong character.
func visual(line string) string {
	rtl := false
	for _, r := range line {
		if p, _ := bidi.LookupRune(r); p.Class() == bidi.L {
			break
		} else if c := p.Class(); c == bidi.R || c == bidi.AL {
			rtl = true
			break
		}
	}
	if !rtl && !hasRTL(line) {
		return line
	}
	var p bidi.Paragraph
	dir := bidi.LeftToRight
	if rtl {
		dir = bidi.RightToLeft
	}
	if _, err := p.SetString(line, bidi.DefaultDirection(dir)); err != nil {
		return line
	}
	ord, err := p.Order()
	if err != nil {
		return line
	}
	type cell struct {
		r     rune
		level int
	}
	var cells []cell
	for i := range ord.NumRuns() {
		run := ord.Run(i)
		level := 0
		switch {
		case run.Direction() == bidi.RightToLeft:
			level = 1
		case rtl:
			level = 2 // left-to-right text (numbers, Latin) inside a right-to-left line
		}
		for _, r := range run.String() {
			cells = append(cells, cell{r, level})
		}
	}
	for level := 2; level >= 1; level-- {
		for i := 0; i < len(cells); {
			if cells[i].level < level {
				i++
				continue
			}
			j := i
			for j < len(cells) && cells[j].level >= level {
				j++
			}
			for a, z := i, j-1; a < z; a, z = a+1, z-1 {
				cells[a], cells[z] = cells[z], cells[a]
			}
			i = j
		}
	}
	var b strings.Builder
	for _, c := range cells {
		r := c.r
		if c.level%2 == 1 {
			r = mirror(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hasRTL(s string) bool {
	for _, r := range s {
		if p, _ := bidi.LookupRune(r); p.Class() == bidi.R || p.Class() == bidi.AL {
			return true
		}
	}
	return false
}

// mirror gives the glyph a bracket shows in right-to-left text.
func mirror(r rune) rune {
	pairs := map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«'}
	if m, ok := pairs[r]; ok {
		return m
	}
	return r
}

// Printable is s ready for a PDF drawn with Fonts (see printable), for the
// other documents Foyer draws with the same fonts: signing certificates.
func Printable(s string) string { return printable(s) }

// Fonts returns the embedded DejaVu Sans, regular and bold.
func Fonts() (regularTTF, boldTTF []byte) { return regular, bold }
