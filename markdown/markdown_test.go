package markdown

import (
	"strings"
	"testing"
)

func TestHTMLKeepsFormattingAndDropsScripts(t *testing.T) {
	for _, tc := range []struct {
		src       string
		want, bad []string
	}{
		{"# Plan\n\n**bold** and *it* [site](https://example.org)", []string{"<h1>Plan</h1>", "<strong>bold</strong>", `href="https://example.org"`, `rel="noreferrer noopener"`}, nil},
		{"<script>alert(1)</script>\n\nok", []string{"ok"}, []string{"<script", "alert(1)"}},
		{"[click](javascript:alert(1))", []string{"click"}, []string{"javascript:"}},
		{`<a href="javascript:alert(1)">x</a> <img src=x onerror=alert(1)>`, nil, []string{"javascript:", "onerror", "<img"}},
		{"![tracker](https://evil.example/p.png)", nil, []string{"<img", "evil.example"}},
		{"[m](mailto:a@example.org)", []string{`href="mailto:a@example.org"`}, nil},
	} {
		got := string(HTML(tc.src))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q: output %q lacks %q", tc.src, got, w)
			}
		}
		for _, b := range tc.bad {
			if strings.Contains(got, b) {
				t.Errorf("%q: output %q has %q", tc.src, got, b)
			}
		}
	}
}

func FuzzHTML(f *testing.F) {
	f.Add("# t\n\n<script>x</script>[a](javascript:b)")
	f.Fuzz(func(t *testing.T, src string) {
		got := strings.ToLower(string(HTML(src)))
		if strings.Contains(got, "<script") || strings.Contains(got, `href="javascript`) || strings.Contains(got, "<img") || strings.Contains(got, "<iframe") {
			t.Fatalf("unsafe output for %q: %q", src, got)
		}
	})
}
