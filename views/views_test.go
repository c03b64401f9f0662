package views

import (
	"html/template"
	"strings"
	"sync"
	"testing"
)

// TestEveryTemplateParses parses every page and email: pages are parsed on
// first use, so without this a template that does not parse would only show
// when someone opens its page.
func TestEveryTemplateParses(t *testing.T) {
	e, err := New(template.FuncMap{"asset": func(string) string { return "" }, "dict": func(...any) map[string]any { return nil },
		"inc": func(int) int { return 0 }, "add": func(int, int) int { return 0 }, "mul": func(int, int) int { return 0 }, "hasPrefix": strings.HasPrefix})
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

// TestBrokenPageFailsItsRender: a page that does not parse answers an error
// (a 500 page), not a panic nor half a page.
func TestBrokenPageFailsItsRender(t *testing.T) {
	e, err := New(template.FuncMap{"asset": func(string) string { return "" }, "dict": func(...any) map[string]any { return nil },
		"inc": func(int) int { return 0 }, "add": func(int, int) int { return 0 }, "mul": func(int, int) int { return 0 }, "hasPrefix": strings.HasPrefix})
	if err != nil {
		t.Fatal(err)
	}
	e.pages["broken"] = &lazy[*template.Template]{parse: func() (*template.Template, error) {
		return template.Must(e.base.Clone()).Parse(`{{define "content"}}{{if}}{{end}}`)
	}}
	var b strings.Builder
	for range 2 { // the error is kept, not parsed again
		if err := e.Render(&b, "broken", false, nil); err == nil {
			t.Fatal("a page that does not parse rendered")
		}
	}
	if b.Len() != 0 {
		t.Fatalf("wrote %q", b.String())
	}
}

// TestPagesParseConcurrently: the first requests after a start parse their
// pages at the same moment, each cloning the one layout (run with -race).
func TestPagesParseConcurrently(t *testing.T) {
	e, err := New(template.FuncMap{"asset": func(string) string { return "" }, "dict": func(...any) map[string]any { return nil },
		"inc": func(int) int { return 0 }, "add": func(int, int) int { return 0 }, "mul": func(int, int) int { return 0 }, "hasPrefix": strings.HasPrefix})
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
