// Package markdown turns the Markdown staff write on slides into HTML that is
// safe to put in a page: goldmark renders it, bluemonday keeps only plain
// formatting and http(s)/mailto links, so a <script> or a javascript: link
// written on a slide comes out inert.
package markdown

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// MaxSource is the longest Markdown accepted for one slide.
const MaxSource = 20000

var (
	md = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Table, extension.Linkify))
	// policy is built once: bluemonday policies are safe for concurrent use.
	policy = func() *bluemonday.Policy {
		// No img: images come only from the slide's own upload, because a remote
		// image would tell another server that the slide was viewed.
		p := bluemonday.NewPolicy()
		p.AllowElements("p", "br", "strong", "em", "del", "ul", "ol", "li", "blockquote", "code", "pre",
			"h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td")
		p.AllowAttrs("href").OnElements("a")
		p.AllowURLSchemes("http", "https", "mailto")
		p.RequireParseableURLs(true)
		p.RequireNoReferrerOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		return p
	}()
)

// HTML renders Markdown to sanitized HTML.
func HTML(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark does not fail on any input; show nothing rather than raw text if it ever does.
		return ""
	}
	out := policy.SanitizeBytes(buf.Bytes())
	return template.HTML(out) // #nosec: sanitized by bluemonday just above
}
