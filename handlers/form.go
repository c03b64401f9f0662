package handlers

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"foyer/auth"
)

// form reads and validates submitted fields, collecting one message ID per bad field.
type form struct {
	c    echo.Context
	vals map[string]string
	errs map[string]string
	// args holds the values a field's message needs, such as a length limit.
	args map[string][]any
}

// maxEcho bounds what a field too long for its limit shows back: the whole of
// what a person typed or pasted, but not megabytes sent by a script.
const maxEcho = 10_000

func newForm(c echo.Context) (*form, error) {
	if _, err := c.FormParams(); err != nil {
		return nil, errBadRequest
	}
	return &form{c: c, vals: map[string]string{}, errs: map[string]string{}}, nil
}

func (f *form) fail(field, id string) {
	if _, seen := f.errs[field]; !seen {
		f.errs[field] = id
	}
}

// failWith records a message that takes arguments, such as the limit a value broke.
func (f *form) failWith(field, id string, args ...any) {
	if _, seen := f.errs[field]; seen {
		return
	}
	f.errs[field] = id
	if f.args == nil {
		f.args = map[string][]any{}
	}
	f.args[field] = args
}

// tooLong says the limit and shows back what was typed, uncut, so nothing is lost.
func (f *form) tooLong(name, v string, max int) {
	f.failWith(name, "form.too_long", "Max", max)
	if utf8.RuneCountInString(v) > maxEcho {
		v = string([]rune(v)[:maxEcho])
	}
	f.vals[name] = v
}

func (f *form) ok() bool { return len(f.errs) == 0 }

// text reads a one-line text field: valid UTF-8, no control characters, at most max characters.
func (f *form) text(name string, max int, required bool) string {
	raw := f.c.FormValue(name)
	if !utf8.ValidString(raw) {
		f.fail(name, "form.invalid_text")
		return ""
	}
	v := strings.TrimSpace(raw)
	if utf8.RuneCountInString(v) > max {
		f.tooLong(name, v, max)
		return ""
	}
	f.vals[name] = v
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		f.fail(name, "form.invalid_text")
		return ""
	}
	if required && v == "" {
		f.fail(name, "form.required")
	}
	return v
}

// name reads a person's name: a one-line text field (see text) that also
// holds no invisible character. Names are what staff, signing certificates
// and /verify show as who someone is: a bidi override would show "Chloe
// \u202eRLO" as "Chloe OLR", a zero-width space would make two names that
// read the same differ. Every form where a person types a name reads it here.
func (f *form) name(field string, max int, required bool) string {
	v := f.text(field, max, required)
	if strings.IndexFunc(v, invisible) >= 0 {
		f.fail(field, "form.invalid_text")
		return ""
	}
	return v
}

// invisible reports whether r changes how text is shown without being seen:
// format characters (bidi embeddings, overrides, isolates and marks,
// zero-width spaces, the byte-order mark, the soft hyphen) and the line and
// paragraph separators. The zero-width non-joiner and joiner are let
// through: Persian and Indic names are spelled with them, and they change
// how letters join, never their order.
func invisible(r rune) bool {
	if r == '\u200c' || r == '\u200d' {
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// email reads an email address (a bare address, no display name).
func (f *form) email(name string, required bool) string {
	v := f.text(name, 254, required)
	if v == "" {
		return ""
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || addr.Name != "" || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		f.fail(name, "form.email_invalid")
		return ""
	}
	return v
}

// choice reads a field that must be one of allowed.
func (f *form) choice(name string, allowed ...string) string {
	v := f.text(name, 64, true)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	if _, bad := f.errs[name]; !bad {
		f.fail(name, "form.choice_invalid")
	}
	return ""
}

// newPassword reads a password being chosen and applies the policy.
func (f *form) newPassword(name string) string {
	v := f.c.FormValue(name)
	switch auth.CheckPolicy(v) {
	case auth.PasswordTooShort:
		f.fail(name, "password.too_short")
	case auth.PasswordTooLong:
		f.fail(name, "password.too_long")
	case auth.PasswordCommon:
		f.fail(name, "password.common")
	case auth.PasswordInvalid:
		f.fail(name, "form.invalid_text")
	default:
		return v
	}
	return ""
}

// password reads a password being checked (sign-in, confirmation): any text up to a bound.
func (f *form) password(name string) string {
	v := f.c.FormValue(name)
	switch {
	case v == "":
		f.fail(name, "form.required")
	case len(v) > 4*auth.MaxPasswordLen:
		f.failWith(name, "form.too_long", "Max", 4*auth.MaxPasswordLen)
	default:
		return v
	}
	return ""
}

func (f *form) checkbox(name string) bool {
	v := f.c.FormValue(name) == "1"
	if v {
		f.vals[name] = "1"
	}
	return v
}

// multiline reads a text area: like text, but line breaks and tabs are fine.
func (f *form) multiline(name string, max int) string {
	raw := f.c.FormValue(name)
	if !utf8.ValidString(raw) {
		f.fail(name, "form.invalid_text")
		return ""
	}
	v := strings.TrimSpace(strings.ReplaceAll(raw, "\r\n", "\n"))
	if utf8.RuneCountInString(v) > max {
		f.tooLong(name, v, max)
		return ""
	}
	f.vals[name] = v
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		f.fail(name, "form.invalid_text")
		return ""
	}
	return v
}

// date reads a YYYY-MM-DD date (what an input of type date sends).
func (f *form) date(name string, required bool) (time.Time, string) {
	v := f.text(name, 10, required)
	if v == "" {
		return time.Time{}, ""
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		f.fail(name, "form.date_invalid")
		return time.Time{}, ""
	}
	return d, v
}

// birthDate reads a date of birth: a real date, not in the future, not before 1900.
func (f *form) birthDate(name string, now time.Time) string {
	d, v := f.date(name, false)
	switch {
	case v == "":
		return ""
	case d.After(now):
		f.fail(name, "clients.birth_future")
	case d.Year() < 1900:
		f.fail(name, "clients.birth_too_old")
	}
	return v
}

// id reads a positive whole number such as a record ID.
func (f *form) id(name string, required bool) uint64 {
	v := f.text(name, 20, required)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		f.fail(name, "form.choice_invalid")
		return 0
	}
	return n
}

// money reads an amount such as 80, 80.50 or 80,50 and returns cents.
func (f *form) money(name string, required bool) int64 {
	v := f.text(name, 20, required)
	if v == "" {
		return 0
	}
	cents, ok := parseMoney(v)
	if !ok {
		f.fail(name, "form.money_invalid")
	}
	return cents
}

// parseMoney reads 80, 80.5, 80,50, 1 234,50 or €80 as cents, up to a million.
func parseMoney(v string) (int64, bool) {
	s := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "€", "", "$", "", "£", "").Replace(v)
	if s == "" {
		return 0, false
	}
	s = strings.Replace(s, ",", ".", 1)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if hasFrac && len(frac) == 1 {
		frac += "0"
	}
	if !hasFrac {
		frac = "00"
	}
	w, err1 := strconv.ParseUint(whole, 10, 32)
	fr, err2 := strconv.ParseUint(frac, 10, 8)
	if err1 != nil || err2 != nil || len(frac) != 2 || w > 1_000_000 {
		return 0, false
	}
	return int64(w)*100 + int64(fr), true
}

// minutes reads a whole number of minutes from 0 to max; an empty field keeps def.
func (f *form) minutes(name string, max, def int) int {
	v := f.text(name, 4, false)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		f.fail(name, "form.minutes_invalid")
		return def
	}
	return n
}

// number reads a whole number from lo to hi; out of range or not a number,
// the field gets msg (which names the range).
func (f *form) number(name string, lo, hi int, msg string) int {
	v := f.text(name, 6, true)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		f.failWith(name, msg, "Min", lo, "Max", hi)
		return 0
	}
	return n
}
