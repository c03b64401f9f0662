package views

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	texttemplate "text/template"
)

// Mail holds the email templates, each a text part (its first line the
// subject) and an HTML part in the mail layout. They are few and small, so
// all are parsed at once by NewMail: a broken one stops the start.
type Mail struct {
	html map[string]*template.Template
	text map[string]*texttemplate.Template
}

// NewMail parses every email template under mail/.
func NewMail() (*Mail, error) {
	m := &Mail{html: map[string]*template.Template{}, text: map[string]*texttemplate.Template{}}
	base, err := template.New("").ParseFS(files, "mail/layout.html")
	if err != nil {
		return nil, fmt.Errorf("views: mail layout: %w", err)
	}
	htmls, _ := fs.Glob(files, "mail/*.html")
	for _, p := range htmls {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" {
			continue
		}
		// Cloning before any execution cannot fail.
		if m.html[name], err = template.Must(base.Clone()).ParseFS(files, p); err != nil {
			return nil, fmt.Errorf("views: %s: %w", p, err)
		}
		if m.text[name], err = texttemplate.ParseFS(files, "mail/"+name+".txt"); err != nil {
			return nil, fmt.Errorf("views: mail/%s.txt: %w", name, err)
		}
	}
	return m, nil
}

// Render writes an email: the subject (first line of the text template), the
// text part and the HTML part. An unknown email is a programming error and panics.
func (m *Mail) Render(name string, data any) (subject, text, html string, err error) {
	tt, ok := m.text[name]
	if !ok {
		panic("views: no mail named " + name)
	}
	var tb, hb bytes.Buffer
	if err = tt.Execute(&tb, data); err != nil {
		return
	}
	if err = m.html[name].ExecuteTemplate(&hb, "layout", data); err != nil {
		return
	}
	subject, text, _ = strings.Cut(tb.String(), "\n")
	return strings.TrimSpace(subject), strings.TrimLeft(text, "\n"), hb.String(), nil
}
