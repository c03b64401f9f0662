package handlers

import (
	"net/http"
	"net/textproto"
	"strings"
)

// cookieValue is the value of the request's cookie name, read as net/http
// reads it (quotes taken off, a value with a byte no cookie may hold
// skipped) without parsing every cookie into a new record: a page asks for
// five or six cookies, and each http.Request.Cookie parses them all.
func cookieValue(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		if !strings.Contains(line, name) {
			continue
		}
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			k, v, _ := strings.Cut(part, "=")
			if textproto.TrimString(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if validCookieValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// validCookieValue reports whether v holds only bytes a cookie value may
// (RFC 6265, with space and comma as net/http allows them).
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// mayHoldCookie reports whether the request may hold a cookie whose name
// starts with prefix: a cheap test before working out a cookie's name (a
// keyed hash) for a browser that holds none of the kind, as most do.
func mayHoldCookie(r *http.Request, prefix string) bool {
	for _, line := range r.Header["Cookie"] {
		if strings.Contains(line, prefix) {
			return true
		}
	}
	return false
}
