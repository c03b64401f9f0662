package handlers

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// linkAttrRe finds the paths templates write into links, forms and htmx
// attributes: a value starting with "/", whatever template actions it holds.
var linkAttrRe = regexp.MustCompile(`(?:href|action|src|data-hx-(?:get|post|put|delete|patch))="(/(?:[^"{]|\{\{.*?\}\})*)"`)

// choiceRe is a choice inside a path: {{if ...}}a{{else}}b{{end}} or {{if ...}}a{{end}}.
var choiceRe = regexp.MustCompile(`\{\{if [^}]*\}\}((?:[^{]|\{\{[$.][^}]*\}\})*)(?:\{\{else\}\}((?:[^{]|\{\{[$.][^}]*\}\})*))?\{\{end\}\}`)

// expand is every path a template's path may become: each choice taken
// both ways.
func expand(path string) []string {
	m := choiceRe.FindStringSubmatchIndex(path)
	if m == nil {
		return []string{path}
	}
	var out []string
	for _, alt := range []string{path[m[2]:m[3]], altOf(path, m)} {
		out = append(out, expand(path[:m[0]]+alt+path[m[1]:])...)
	}
	return out
}

func altOf(path string, m []int) string {
	if m[4] < 0 {
		return ""
	}
	return path[m[4]:m[5]]
}

// actionRe is one template action inside a path ({{.ID}}, {{$c.ID}}...).
var actionRe = regexp.MustCompile(`\{\{[^}]*\}\}`)

// TestTemplateLinksAreRoutes: every path a template writes, with its
// template actions standing for parameters, is a route the app serves, so
// a link written in a page cannot drift from the route it names (handlers
// use urlFor with the named routes for the same reason).
func TestTemplateLinksAreRoutes(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	routes := func(path string) bool {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			c := a.e.NewContext(httptest.NewRequest(m, "/", nil), httptest.NewRecorder())
			a.e.Router().Find(m, path, c)
			if c.Path() != "" && c.Path() != "/*" {
				return true
			}
		}
		return false
	}
	if routes("/no-such-page/1/x") {
		t.Fatal("the check finds a route for anything")
	}
	n := 0
	err := filepath.WalkDir("../views", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range linkAttrRe.FindAllStringSubmatch(string(b), -1) {
			// A whole path given by the handler ({{.URL}}) is checked where it is made.
			if strings.HasPrefix(m[1], "/{{") {
				continue
			}
			for _, path := range expand(m[1]) {
				if i := strings.IndexAny(path, "?#"); i >= 0 {
					path = path[:i]
				}
				path = actionRe.ReplaceAllString(path, "1")
				n++
				if !routes(path) {
					t.Errorf("%s: %s is no route (%s)", p, m[1], path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d paths found in the templates", n)
	}
}
