package locales

import (
	"strings"
	"unicode"
)

// French typography, decided here alone: Load applies it to every French
// message, so translators type ordinary spaces and straight apostrophes, and
// pages, emails and PDFs all get the same text. Text messages undo it on
// their way out (package gsm7): a no-break space is outside the alphabet
// that fits 160 characters in one text.
const (
	nbsp  = '\u00a0' // before a colon, between a number and its unit
	nnbsp = '\u202f' // before ; ! ? and inside « »
)

// Typeset applies the language's typography to a text written with ordinary
// spaces: for French, a narrow no-break space before ; ! ? and inside « », a
// no-break space before : and between a number and its unit, and ’ for '.
// Only spaces and apostrophes change; template actions ({{.Name}}) are left
// as they are, and a space is put in only where French wants one and the
// text has none ("Note: …", "«Bilan»"). Other languages are left alone.
func (l *Localizer) Typeset(s string) string {
	if l.Lang != "fr" {
		return s
	}
	return typesetFrench(s)
}

func typesetFrench(s string) string {
	in := []rune(s)
	out := make([]rune, 0, len(in)+8)
	for i := 0; i < len(in); i++ {
		r := in[i]
		switch {
		case r == '{' && i+1 < len(in) && in[i+1] == '{':
			// A template action is copied whole: its spaces are Go's.
			end := i + 2
			for end+1 < len(in) && (in[end] != '}' || in[end+1] != '}') {
				end++
			}
			if end+1 >= len(in) {
				return string(append(out, in[i:]...))
			}
			out = append(out, in[i:end+2]...)
			i = end + 1
		case isSpace(r):
			j := i
			for j < len(in) && isSpace(in[j]) {
				j++
			}
			next := rune(0)
			if j < len(in) {
				next = in[j]
			}
			switch {
			case next == ';' || next == '!' || next == '?' || next == '»':
				out = append(out, nnbsp)
			case next == ':':
				out = append(out, nbsp)
			case len(out) > 0 && out[len(out)-1] == '«':
				out = append(out, nnbsp)
			case numberEnds(out) && unitAt(in[j:]):
				out = append(out, nbsp)
			default:
				out = append(out, in[i:j]...)
			}
			i = j - 1
		case r == '\'':
			out = append(out, '’')
		case r == '»':
			if len(out) > 0 && !isSpace(out[len(out)-1]) && out[len(out)-1] != '\n' {
				out = append(out, nnbsp)
			}
			out = append(out, r)
		case r == ';' || r == '!' || r == '?' || r == ':':
			// "Note: …" as typed in English; not "https://", "14:05" or "?!".
			if closesWord(out) && endsClause(in[i+1:]) {
				if r == ':' {
					out = append(out, nbsp)
				} else {
					out = append(out, nnbsp)
				}
			}
			out = append(out, r)
		case r == '«':
			out = append(out, r)
			if i+1 < len(in) && !isSpace(in[i+1]) && in[i+1] != '\n' {
				out = append(out, nnbsp)
			}
		default:
			out = append(out, r)
		}
	}
	return string(out)
}

// isSpace reports a space on a line, as typed or already typeset.
func isSpace(r rune) bool { return r == ' ' || r == nbsp || r == nnbsp || r == '\u2009' }

// closesWord reports whether text ends with what punctuation sticks to in
// English: a letter, a digit, a closing bracket or quote, a template action.
func closesWord(text []rune) bool {
	if len(text) == 0 {
		return false
	}
	r := text[len(text)-1]
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(")]}»”’", r)
}

// endsClause reports whether punctuation followed by rest ends a clause:
// nothing, a space or a line break, or more punctuation after it.
func endsClause(rest []rune) bool {
	return len(rest) == 0 || isSpace(rest[0]) || strings.ContainsRune("\n\r\t)]”", rest[0])
}

// numberEnds reports whether text ends with a number: a digit, or a
// template action, where messages put their counts.
func numberEnds(text []rune) bool {
	n := len(text)
	return n > 0 && (unicode.IsDigit(text[n-1]) || n > 1 && text[n-1] == '}' && text[n-2] == '}')
}

// units are the units a number keeps on its line: of time, size and money.
var units = map[string]bool{
	"ms": true, "s": true, "min": true, "h": true, "seconde": true, "secondes": true, "minute": true, "minutes": true,
	"heure": true, "heures": true, "jour": true, "jours": true, "semaine": true, "semaines": true, "mois": true,
	"an": true, "ans": true, "année": true, "années": true, "octet": true, "octets": true, "Ko": true, "Mo": true,
	"Go": true, "To": true, "Kio": true, "Mio": true, "Gio": true, "Tio": true, "px": true, "pixels": true,
	"%": true, "€": true, "$": true, "£": true, "CHF": true,
}

// unitAt reports whether text starts with a unit standing as a word
// ("10 min", not "10 mineurs"; "2 h", not "2 h’s").
func unitAt(text []rune) bool {
	if len(text) > 0 && strings.ContainsRune("%€$£", text[0]) {
		return true
	}
	n := 0
	for n < len(text) && unicode.IsLetter(text[n]) {
		n++
	}
	if n == 0 || n < len(text) && strings.ContainsRune("'’-", text[n]) {
		return false
	}
	return units[string(text[:n])]
}
