// Package gsm7 writes text in the GSM 7-bit default alphabet (3GPP TS 23.038,
// the basic set and its extension table), the one alphabet in which a text
// message carries 160 characters per segment. A single character outside it
// makes the whole message UCS-2, 70 characters per segment: a security code
// that reads "Cabinet : votre code" with a no-break space would cost two
// messages. Text maps what French typography and names bring (no-break
// spaces, curly apostrophes, guillemets, ê, ç, œ) to the nearest characters
// of the alphabet.
package gsm7

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Segment is how many septets one text message carries.
const Segment = 160

// basic is the default alphabet in code order (0x00–0x7F); 0x1B, the escape
// to the extension table, is no character and stands as a NUL here.
const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x00ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// extension holds the characters of the extension table a text may use,
// each sent as the escape and a code: two septets. The form feed is left
// out, as a message has no pages.
const extension = "^{}\\[~]|€"

var basicSet = func() map[rune]bool {
	m := make(map[rune]bool, 128)
	for _, r := range basic {
		if r != 0 {
			m[r] = true
		}
	}
	return m
}()

// Septets reports how many septets s takes, an extension character counting
// two, and whether every character of s is in the alphabet.
func Septets(s string) (n int, ok bool) {
	ok = true
	for _, r := range s {
		switch {
		case basicSet[r]:
			n++
		case strings.ContainsRune(extension, r):
			n += 2
		default:
			n++
			ok = false
		}
	}
	return n, ok
}

// nearest replaces the characters whose decomposition does not give the
// right one: typography, ligatures and letters the alphabet lacks whole.
var nearest = map[rune]string{
	'\t': " ", '\u00a0': " ", '\u1680': " ", '\u2000': " ", '\u2001': " ", '\u2002': " ", '\u2003': " ",
	'\u2004': " ", '\u2005': " ", '\u2006': " ", '\u2007': " ", '\u2008': " ", '\u2009': " ", '\u200a': " ",
	'\u2028': "\n", '\u2029': "\n", '\u202f': " ", '\u205f': " ", '\u3000': " ",
	// Invisible characters go: a soft hyphen, zero-width spaces and joiners, a byte order mark.
	'\u00ad': "", '\u200b': "", '\u200c': "", '\u200d': "", '\u2060': "", '\ufeff': "",
	'’': "'", '‘': "'", '‚': "'", '‛': "'", '′': "'", '`': "'", '´': "'", '‹': "'", '›': "'",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`, '«': `"`, '»': `"`,
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-", '⁄': "/",
	'…': "...", '•': "-", '·': ".", '×': "x", '÷': "/", '°': "o",
	'œ': "oe", 'Œ': "OE", 'ç': "c", 'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ı': "i",
	'©': "(c)", '®': "(R)",
}

// Text returns s in the alphabet: a character of it stays, one outside is
// replaced by the nearest (a no-break space by a space, ’ by ', « » by ",
// ê by e, œ by oe, ç by c), and one with nothing near by "?".
func Text(s string) string {
	if _, ok := Septets(s); ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	// Composed first: an e followed by a combining acute is é, which the alphabet has.
	for _, r := range norm.NFC.String(s) {
		write(&b, r)
	}
	return b.String()
}

// write puts r, or what stands for it, in b.
func write(b *strings.Builder, r rune) {
	if in(r) {
		b.WriteRune(r)
		return
	}
	if to, ok := nearest[r]; ok {
		b.WriteString(to)
		return
	}
	switch {
	case unicode.IsControl(r):
		b.WriteByte(' ')
		return
	case unicode.Is(unicode.Mn, r):
		return // an accent left on its own
	}
	// A letter with an accent the alphabet lacks (ê, â, î, ô, û, ë, ï, á)
	// decomposes into its base letter and the accent, which goes; a
	// compatibility form (ﬁ, ², ½, ™) into plain characters.
	var buf [utf8.UTFMax]byte
	d := norm.NFKD.Bytes(buf[:utf8.EncodeRune(buf[:], r)])
	if len(d) == 0 || string(d) == string(r) {
		b.WriteByte('?')
		return
	}
	for _, c := range string(d) {
		switch {
		case unicode.Is(unicode.Mn, c):
		case in(c):
			b.WriteRune(c)
		case nearest[c] != "":
			b.WriteString(nearest[c])
		default:
			b.WriteByte('?')
		}
	}
}

// in reports whether r is in the alphabet, basic set or extension.
func in(r rune) bool { return basicSet[r] || strings.ContainsRune(extension, r) }
