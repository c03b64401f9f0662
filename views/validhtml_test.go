package views

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hxAttr finds an htmx attribute written without its data- prefix (hx-get,
// hx-target…), or a script's selector of one ([hx-…]). The W3C Nu checker
// reports every such attribute as an error; htmx reads data-hx-* as well.
var hxAttr = regexp.MustCompile(`(?:^|[^\w-])hx-[a-z]+(?:-[a-z]+)*`)

// TestHTMXAttributesValidate fails on any htmx attribute without its data-
// prefix in the templates and in the pages' own scripts and HTML (the
// vendored htmx.min.js aside, which reads both spellings).
func TestHTMXAttributesValidate(t *testing.T) {
	check := func(name, text string) {
		for i, line := range strings.Split(text, "\n") {
			if m := hxAttr.FindString(line); m != "" {
				t.Errorf("%s:%d: %q: write it data-%s, which validates", name, i+1, strings.TrimSpace(m), strings.TrimLeft(m, " \t\"'<[(,"))
			}
		}
	}
	n := 0
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := files.ReadFile(p)
		check("views/"+p, string(raw))
		n++
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	static, _ := filepath.Glob(filepath.Join("..", "static", "*"))
	for _, p := range static {
		if ext := filepath.Ext(p); (ext != ".js" && ext != ".html") || filepath.Base(p) == "htmx.min.js" {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check("static/"+filepath.Base(p), string(raw))
		n++
	}
	if n < 60 {
		t.Fatalf("only %d files looked at", n)
	}
}

// TestEveryPageSkipsToItsMain: each page layout starts with a link that
// skips to the page's main content, and every page drawn in the viewer's
// layout, which leaves <main> to the page, has the main it points to.
func TestEveryPageSkipsToItsMain(t *testing.T) {
	for _, p := range []string{"layouts/base.html", "partials/vlayout.html"} {
		raw, err := files.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), `<a class="skip" href="#main">`) {
			t.Errorf("views/%s has no link that skips to #main", p)
		}
	}
	pages, err := fs.Glob(files, "pages/*.html")
	if err != nil || len(pages) < 40 {
		t.Fatalf("pages: %d %v", len(pages), err)
	}
	viewer := 0
	for _, p := range pages {
		raw, _ := files.ReadFile(p)
		if !strings.Contains(string(raw), `{{template "vlayout" .}}`) {
			continue
		}
		viewer++
		if !strings.Contains(string(raw), `<main id="main"`) {
			t.Errorf("views/%s uses the viewer's layout without <main id=\"main\">", p)
		}
	}
	if viewer < 2 {
		t.Fatalf("only %d pages in the viewer's layout", viewer)
	}
}
