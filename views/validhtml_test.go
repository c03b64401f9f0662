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
