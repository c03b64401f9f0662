package handlers

import (
	"net/http"
	"testing"
)

// TestLangRedirectStaysOnSite: /lang goes back only to a path of this site,
// read as a browser reads a URL (WHATWG): tabs and newlines vanish,
// backslashes are slashes, a scheme alone leaves.
func TestLangRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.setUp()
	b := a.browser()
	for next, want := range map[string]string{
		"/clients?q=du":         "/clients?q=du",
		"/portal/account":       "/portal/account",
		"/clients#top":          "/clients",
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"/\r\n/evil.example":    "/",
		"\t//evil.example":      "/",
		" //evil.example":       "/",
		"//evil.example":        "/",
		"///evil.example":       "/",
		"/\\evil.example":       "/",
		"\\/evil.example":       "/",
		"\\\\evil.example":      "/",
		"/\t\\evil.example":     "/",
		"https:evil.example":    "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"evil.example":          "/",
		"/\x00/evil.example":    "/",
		"":                      "/",
	} {
		r := b.post("/lang", formOf("lang", "en", "next", next))
		if r.Code != http.StatusSeeOther || r.Header().Get("Location") != want {
			t.Errorf("next=%q: %d Location %q, want %q", next, r.Code, r.Header().Get("Location"), want)
		}
	}
}
