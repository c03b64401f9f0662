package share

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The merge fields of a share email template.
const (
	FieldLink         = "SECURE_SHARE_LINK"
	FieldDisclaimer   = "SECURE_SHARE_DISCLAIMER"
	FieldRecipient    = "RECIPIENT_NAME"
	FieldPractice     = "PRACTICE_NAME"
	FieldMessage      = "MESSAGE"
	maxTemplateLength = 10000
)

// Fields lists the merge fields a template may use.
var Fields = []string{FieldLink, FieldDisclaimer, FieldRecipient, FieldPractice, FieldMessage}

// ErrNoLink: the template lacks [[SECURE_SHARE_LINK]], so its email would carry no link.
var ErrNoLink = errors.New("share: the template has no [[SECURE_SHARE_LINK]]")

// ErrTemplateTooLong: the template is longer than 10,000 characters.
var ErrTemplateTooLong = errors.New("share: the template is too long")

// UnknownFieldError names a merge field the template uses that does not exist.
type UnknownFieldError struct{ Field string }

func (e *UnknownFieldError) Error() string {
	return fmt.Sprintf("share: unknown merge field [[%s]]", e.Field)
}

// CheckTemplate refuses a template with an unknown or unclosed field, or without the link.
func CheckTemplate(tmpl string) error {
	if utf8.RuneCountInString(tmpl) > maxTemplateLength {
		return ErrTemplateTooLong
	}
	link := false
	rest := tmpl
	for {
		i := strings.Index(rest, "[[")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i+2:], "]]")
		if j < 0 {
			return &UnknownFieldError{Field: shorten(rest[i+2:])}
		}
		name := rest[i+2 : i+2+j]
		if !isField(name) {
			return &UnknownFieldError{Field: shorten(name)}
		}
		link = link || name == FieldLink
		rest = rest[i+2+j+2:]
	}
	if !link {
		return ErrNoLink
	}
	return nil
}

func shorten(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		return string(r[:40]) + "…"
	}
	return s
}

func isField(name string) bool {
	for _, f := range Fields {
		if f == name {
			return true
		}
	}
	return false
}

// Merge replaces each merge field of a checked template by its value, in one
// pass: a value that itself looks like a field (a message holding
// "[[SECURE_SHARE_LINK]]") is left as typed, never expanded.
func Merge(tmpl string, values map[string]string) string {
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "[[")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i+2:], "]]")
		if j < 0 {
			break
		}
		name := rest[i+2 : i+2+j]
		if !isField(name) {
			b.WriteString(rest[:i+2])
			rest = rest[i+2:]
			continue
		}
		b.WriteString(rest[:i])
		b.WriteString(values[name])
		rest = rest[i+2+j+2:]
	}
	b.WriteString(rest)
	return b.String()
}

// maxNameBytes is the longest file name kept (most file systems allow 255 bytes).
const maxNameBytes = 255

// CleanName makes an uploaded file's name safe to store, show and send back in
// Content-Disposition: the last path element only, no control characters (CR,
// LF, NUL…) or bidirectional overrides (which can disguise "exe.pdf" as
// "fdp.exe"), no leading dots, at most 255 bytes of valid UTF-8 keeping the
// extension. What is left empty becomes fallback.
func CleanName(name, fallback string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base("/" + name)
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u200b', r == '\ufeff',
			r == '"', r == '/', unicode.In(r, unicode.Zl, unicode.Zp):
			return -1
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimSpace(name)
	if len(name) > maxNameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || !utf8.ValidString(ext) {
			ext = ""
		}
		stem := name[:maxNameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = strings.TrimSpace(stem) + ext
	}
	if name == "" || name == "." || name == ".." {
		return fallback
	}
	return name
}
