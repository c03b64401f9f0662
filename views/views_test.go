package views

import (
	"html/template"
	"io/fs"
	"path"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

var testFuncs = template.FuncMap{"asset": func(string) string { return "" }, "dict": func(...any) map[string]any { return nil },
	"inc": func(int) int { return 0 }, "add": func(int, int) int { return 0 }, "mul": func(int, int) int { return 0 }, "hasPrefix": strings.HasPrefix,
	"slideImage": func(uint64, uint64, string) string { return "" }}

// TestEveryTemplateParses: New parses every page, each joins its layout into
// a whole page, and NewMail parses every email.
func TestEveryTemplateParses(t *testing.T) {
	e, err := New(testFuncs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMail()
	if err != nil {
		t.Fatal(err)
	}
	if len(e.pages) < 40 || len(m.html) < 1 || len(m.text) != len(m.html) {
		t.Fatalf("found %d pages and %d/%d emails: the embedded files are not all seen", len(e.pages), len(m.html), len(m.text))
	}
	for name, p := range e.pages {
		tp, err := p.get()
		if err != nil {
			t.Error(err)
			continue
		}
		if tp.Lookup("layout") == nil || tp.Lookup("content") == nil {
			t.Errorf("page %s: no layout or content template", name)
		}
	}
	for name := range m.html {
		if m.html[name].Lookup("layout") == nil || m.text[name] == nil {
			t.Errorf("email %s: no layout or no text part", name)
		}
	}
}

// withFile is the embedded templates with one file replaced (or added).
func withFile(t *testing.T, name, content string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := files.ReadFile(p)
		m[p] = &fstest.MapFile{Data: raw}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m[name] = &fstest.MapFile{Data: []byte(content)}
	return m
}

// TestABrokenTemplateStopsTheStart: a page or partial that does not parse
// is an error of New, naming the file, not an error page later.
func TestABrokenTemplateStopsTheStart(t *testing.T) {
	for _, tc := range []struct{ file, content string }{
		{"pages/clients.html", `{{define "content"}}{{if}}{{end}}`},
		{"pages/new_page.html", `{{define "content"}}{{nosuchfunc .}}{{end}}`},
		{"partials/field.html", `{{define "field"}}{{range}}{{end}}`},
	} {
		_, err := parse(withFile(t, tc.file, tc.content), testFuncs)
		if err == nil {
			t.Errorf("%s broken, yet the templates parsed", tc.file)
			continue
		}
		if base := strings.TrimSuffix(path.Base(tc.file), ".html"); !strings.Contains(err.Error(), base) {
			t.Errorf("%s broken: the error does not name it: %v", tc.file, err)
		}
	}
	if _, err := parse(withFile(t, "pages/new_page.html", `{{define "content"}}fine{{end}}`), testFuncs); err != nil {
		t.Errorf("a good new page: %v", err)
	}
}

// TestPagesParseConcurrently: the first requests after a start join their
// pages to the layout at the same moment, each cloning it (run with -race).
func TestPagesParseConcurrently(t *testing.T) {
	e, err := New(testFuncs)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for name := range e.pages {
		for range 2 {
			wg.Go(func() {
				if _, err := e.page(name); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for name, p := range e.pages {
		if tp, _ := p.get(); tp == nil || tp.Lookup("content") == nil {
			t.Errorf("page %s has no content after parsing concurrently", name)
		}
	}
}
