// Package views parses Foyer's html/template files once at start-up and renders
// pages (whole, or their content alone for HTMX) and emails.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	texttemplate "text/template"
)

//go:embed layouts pages partials mail
var files embed.FS

// Engine holds every parsed template.
type Engine struct {
	pages    map[string]*template.Template
	mailHTML map[string]*template.Template
	mailText map[string]*texttemplate.Template
}

// New parses every page with the layout and partials, and every email.
// funcs must provide "asset".
func New(funcs template.FuncMap) (*Engine, error) {
	e := &Engine{pages: map[string]*template.Template{}, mailHTML: map[string]*template.Template{}, mailText: map[string]*texttemplate.Template{}}
	base, err := template.New("").Funcs(funcs).ParseFS(files, "layouts/*.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("views: layout: %w", err)
	}
	pages, _ := fs.Glob(files, "pages/*.html")
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(files, p)
		if err != nil {
			return nil, fmt.Errorf("views: %s: %w", p, err)
		}
		e.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	mailBase, err := template.New("").ParseFS(files, "mail/layout.html")
	if err != nil {
		return nil, fmt.Errorf("views: mail layout: %w", err)
	}
	htmls, _ := fs.Glob(files, "mail/*.html")
	for _, p := range htmls {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(mailBase.Clone()).ParseFS(files, p)
		if err != nil {
			return nil, fmt.Errorf("views: %s: %w", p, err)
		}
		e.mailHTML[name] = t
		tt, err := texttemplate.ParseFS(files, "mail/"+name+".txt")
		if err != nil {
			return nil, fmt.Errorf("views: mail/%s.txt: %w", name, err)
		}
		e.mailText[name] = tt
	}
	return e, nil
}

// Has reports whether a page is registered.
func (e *Engine) Has(page string) bool { _, ok := e.pages[page]; return ok }

// Render writes a page (callers pass a buffer, so a failed template never sends half a page): the whole document, or only its "content" block when partial.
// An unknown page is a programming error and panics.
func (e *Engine) Render(w io.Writer, page string, partial bool, data any) error {
	t, ok := e.pages[page]
	if !ok {
		panic("views: no page named " + page)
	}
	name := "layout"
	if partial {
		name = "content"
	}
	return t.ExecuteTemplate(w, name, data)
}

// RenderBlock writes one named block of a page (an HTMX fragment such as a table row).
func (e *Engine) RenderBlock(w io.Writer, page, block string, data any) error {
	t, ok := e.pages[page]
	if !ok {
		panic("views: no page named " + page)
	}
	return t.ExecuteTemplate(w, block, data)
}

// Mail renders an email: the subject (first line of the text template), the text part and the HTML part.
func (e *Engine) Mail(name string, data any) (subject, text, html string, err error) {
	tt, ok := e.mailText[name]
	if !ok {
		panic("views: no mail named " + name)
	}
	var tb, hb bytes.Buffer
	if err = tt.Execute(&tb, data); err != nil {
		return
	}
	if err = e.mailHTML[name].ExecuteTemplate(&hb, "layout", data); err != nil {
		return
	}
	subject, text, _ = strings.Cut(tb.String(), "\n")
	return strings.TrimSpace(subject), strings.TrimLeft(text, "\n"), hb.String(), nil
}
