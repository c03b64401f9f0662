// Package views parses Foyer's html/template files (every one at start-up:
// a broken template stops the start) and renders pages (whole, or their
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

// Engine holds the page templates, every one parsed at start.
//
// A page runs as a copy of the layout and partials with its own blocks
// added: html/template escapes a template in place at its first run, so
// pages cannot share one layout. Those copies are made when a page is first
// shown, from trees parsed at start: copying the layout for all 51 pages
// took about 15 ms and kept 7 MB, mostly for pages an idle server never
// shows, while parsing every file alone takes about 5 ms and finds any that
// does not parse (BenchmarkStart).
type Engine struct {
	base  *template.Template
	pages map[string]*page
}

// page is one page's own templates, parsed at start, joined to a copy of
// the layout on first use.
type page struct {
	own  *template.Template
	base *template.Template
	once sync.Once
	t    *template.Template
	err  error
}

func (p *page) get() (*template.Template, error) {
	p.once.Do(func() {
		// Cloning a layout that is never run itself cannot fail; Clone locks it.
		t := template.Must(p.base.Clone())
		for _, own := range p.own.Templates() {
			if own.Tree == nil {
				continue // the unnamed root of the page's own set
			}
			if _, err := t.AddParseTree(own.Name(), own.Tree); err != nil {
				p.err = fmt.Errorf("views: %s: %w", own.Name(), err)
				return
			}
		}
		p.t = t
	})
	return p.t, p.err
}

// New parses the layout, the partials and every page. funcs must provide
// "asset" and the other functions the templates call.
func New(funcs template.FuncMap) (*Engine, error) { return parse(files, funcs) }

func parse(fsys fs.FS, funcs template.FuncMap) (*Engine, error) {
	e := &Engine{pages: map[string]*page{}}
	var err error
	e.base, err = template.New("").Funcs(funcs).ParseFS(fsys, "layouts/*.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("views: layout: %w", err)
	}
	pages, _ := fs.Glob(fsys, "pages/*.html")
	for _, p := range pages {
		own, err := template.New("").Funcs(funcs).ParseFS(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("views: %s: %w", p, err)
		}
		e.pages[strings.TrimSuffix(path.Base(p), ".html")] = &page{own: own, base: e.base}
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
