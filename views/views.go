// Package views parses Foyer's html/template files (the layout at start-up,
// each page once, when first shown) and renders pages (whole, or their
// content alone for HTMX) and emails (see Mail).
package views

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
)

//go:embed layouts pages partials mail
var files embed.FS

// Engine holds the page templates: the layout and partials parsed at start,
// each page parsed on its first use.
//
// Parsing all 49 pages at start took about 10 ms and kept 49 deep copies of
// the layout and partials in memory (a page is a clone of the layout with its
// own blocks), most of them for pages an idle server never shows. The files
// are embedded, so a page that does not parse is found by
// TestEveryTemplateParses rather than at start.
type Engine struct {
	base  *template.Template
	pages map[string]*lazy[*template.Template]
}

// lazy is a template parsed once, on first use.
type lazy[T any] struct {
	once  sync.Once
	parse func() (T, error)
	t     T
	err   error
}

func (l *lazy[T]) get() (T, error) {
	l.once.Do(func() { l.t, l.err = l.parse() })
	return l.t, l.err
}

// New parses the layout and partials and finds every page, to be parsed when
// first rendered. funcs must provide "asset".
func New(funcs template.FuncMap) (*Engine, error) {
	e := &Engine{pages: map[string]*lazy[*template.Template]{}}
	var err error
	e.base, err = template.New("").Funcs(funcs).ParseFS(files, "layouts/*.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("views: layout: %w", err)
	}
	pages, _ := fs.Glob(files, "pages/*.html")
	for _, p := range pages {
		e.pages[strings.TrimSuffix(path.Base(p), ".html")] = &lazy[*template.Template]{parse: func() (*template.Template, error) {
			// Cloning before any execution cannot fail; Clone locks the layout.
			t, err := template.Must(e.base.Clone()).ParseFS(files, p)
			if err != nil {
				return nil, fmt.Errorf("views: %s: %w", p, err)
			}
			return t, nil
		}}
	}
	return e, nil
}

// Has reports whether a page is registered.
func (e *Engine) Has(page string) bool { _, ok := e.pages[page]; return ok }

// page returns a parsed page; an unknown page is a programming error and panics.
func (e *Engine) page(name string) (*template.Template, error) {
	l, ok := e.pages[name]
	if !ok {
		panic("views: no page named " + name)
	}
	return l.get()
}

// Render writes a page (callers pass a buffer, so a failed template never sends half a page): the whole document, or only its "content" block when partial.
// An unknown page is a programming error and panics.
func (e *Engine) Render(w io.Writer, page string, partial bool, data any) error {
	t, err := e.page(page)
	if err != nil {
		return err
	}
	name := "layout"
	if partial {
		name = "content"
	}
	return t.ExecuteTemplate(w, name, data)
}

// RenderBlock writes one named block of a page (an HTMX fragment such as a table row).
func (e *Engine) RenderBlock(w io.Writer, page, block string, data any) error {
	t, err := e.page(page)
	if err != nil {
		return err
	}
	return t.ExecuteTemplate(w, block, data)
}
