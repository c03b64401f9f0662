package store

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lower-cases s and strips accents, so "Éloïse" matches "eloise".
func Fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s) // nothing to strip; skips building the transformer
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// digits keeps the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Query is a parsed search: every term must appear in a record's search text.
type Query struct {
	terms []string
}

// ParseQuery folds and splits a search box's text; a term with digits also
// matches phone numbers written with spaces or dots.
func ParseQuery(q string) Query {
	// A query made only of phone characters is one number, however it is spaced.
	if d := digits(q); len(d) >= 3 && strings.Trim(q, "0123456789 +.-()/") == "" {
		return Query{terms: []string{d}}
	}
	var terms []string
	for _, f := range strings.Fields(Fold(q)) {
		if d := digits(f); len(d) >= 3 && len(d) >= len(f)-2 {
			f = d
		}
		terms = append(terms, f)
	}
	return Query{terms: terms}
}

// Empty reports whether the query matches everything.
func (q Query) Empty() bool { return len(q.terms) == 0 }

func (q Query) match(text string) bool {
	for _, t := range q.terms {
		if !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
