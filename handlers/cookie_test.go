package handlers

import (
	"net/http"
	"testing"
)

// cookieValue reads what net/http's Request.Cookie reads.
func TestCookieValueAsNetHTTP(t *testing.T) {
	lines := [][]string{
		{"a=1; foyer_csrf=abc; b=2"},
		{"foyer_csrf=\"quoted\""},
		{"x=1", "foyer_csrf=second-line"},
		{"foyer_csrf=bad\\value; foyer_csrf=good"},
		{"  foyer_csrf = spaced ; c=3"},
		{"foyer_csrf="},
		{"foyer_csrfx=no; xfoyer_csrf=no"},
		{"foyer_csrf=a b,c"},
		{""},
		{"foyer_csrf=\"\""},
		{"foyer_csrf=é"},
	}
	for _, l := range lines {
		r := &http.Request{Header: http.Header{"Cookie": l}}
		want, err := r.Cookie("foyer_csrf")
		got, ok := cookieValue(r, "foyer_csrf")
		if (err == nil) != ok || (ok && got != want.Value) {
			t.Errorf("%q: got %q %v, net/http %v %v", l, got, ok, want, err)
		}
	}
}

func FuzzCookieValue(f *testing.F) {
	f.Add("a=1; foyer_csrf=abc; b=\"2\"")
	f.Add("\u00a0foyer_csrf=x")
	f.Fuzz(func(t *testing.T, line string) {
		r := &http.Request{Header: http.Header{"Cookie": {line}}}
		want, err := r.Cookie("foyer_csrf")
		got, ok := cookieValue(r, "foyer_csrf")
		if (err == nil) != ok || (ok && got != want.Value) {
			t.Errorf("%q: got %q %v, net/http %v %v", line, got, ok, want, err)
		}
	})
}
