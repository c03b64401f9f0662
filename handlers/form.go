package handlers

import (
	"net/http"
	"net/mail"
	"strings"
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
}

func newForm(c echo.Context) (*form, error) {
	if _, err := c.FormParams(); err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	return &form{c: c, vals: map[string]string{}, errs: map[string]string{}}, nil
}

func (f *form) fail(field, id string) {
	if _, seen := f.errs[field]; !seen {
		f.errs[field] = id
	}
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
		f.fail(name, "form.too_long")
		// Echo back no more than fits, never the whole megabyte.
		f.vals[name] = string([]rune(v)[:max])
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
		f.fail(name, "form.too_long")
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
