package preso

import "testing"

func TestBrowserLine(t *testing.T) {
	for in, want := range map[string]string{
		"curl 7 · ":          "curl 7",
		"Chrome 130 · Linux": "Chrome 130 · Linux",
		" · Windows":         "Windows",
		"":                   "",
		"Firefox 120 ·  · ":  "Firefox 120",
	} {
		if got := BrowserLine(in); got != want {
			t.Errorf("BrowserLine(%q) = %q, want %q", in, got, want)
		}
	}
}
