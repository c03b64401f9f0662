// Package markdown turns the Markdown staff write on slides into HTML that is
// safe to put in a page: goldmark renders it, bluemonday keeps only plain
// formatting and http(s)/mailto links, so a <script> or a javascript: link
// written on a slide comes out inert.
package markdown

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
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

// BlockKind is what a block of text is, for a document that is not a web
// page (a PDF).
type BlockKind int

// The kinds of block Blocks returns.
const (
	Paragraph BlockKind = iota
	Heading
	Item  // one item of a list; Level says how deep
	Quote // a paragraph inside a blockquote
	Code
	Rule
)

// Block is one block of a slide's text.
type Block struct {
	Kind BlockKind
	// Level is a heading's level, or a list item's depth (1 for the outer list).
	Level int
	// Marker is a list item's bullet or number ("•", "2.").
	Marker string
	Text   string
}

// Blocks renders Markdown as plain text blocks: what a reader sees on the
// slide, without markup (a link keeps its text and shows its address).
func Blocks(src string) []Block {
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	var out []Block
	var walk func(n ast.Node, depth int, quoted bool)
	walk = func(n ast.Node, depth int, quoted bool) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch b := c.(type) {
			case *ast.Heading:
				out = append(out, Block{Kind: Heading, Level: b.Level, Text: inlineText(b, source)})
			case *ast.Paragraph, *ast.TextBlock:
				k := Paragraph
				if quoted {
					k = Quote
				}
				out = append(out, Block{Kind: k, Text: inlineText(b, source)})
			case *ast.Blockquote:
				walk(b, depth, true)
			case *ast.List:
				n := b.Start
				for it := b.FirstChild(); it != nil; it = it.NextSibling() {
					marker := "•"
					if b.IsOrdered() {
						marker = strconv.Itoa(n) + "."
						n++
					}
					first := len(out)
					walk(it, depth+1, quoted)
					if first < len(out) && out[first].Kind != Item {
						out[first].Kind, out[first].Level, out[first].Marker = Item, depth+1, marker
					}
				}
			case *ast.FencedCodeBlock, *ast.CodeBlock:
				var sb strings.Builder
				lines := c.Lines()
				for i := range lines.Len() {
					seg := lines.At(i)
					sb.Write(seg.Value(source))
				}
				out = append(out, Block{Kind: Code, Text: strings.TrimRight(sb.String(), "\n")})
			case *ast.ThematicBreak:
				out = append(out, Block{Kind: Rule})
			case *east.Table:
				for row := b.FirstChild(); row != nil; row = row.NextSibling() {
					var cells []string
					for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
						cells = append(cells, inlineText(cell, source))
					}
					out = append(out, Block{Kind: Paragraph, Text: strings.Join(cells, " | ")})
				}
			default:
				walk(c, depth, quoted)
			}
		}
	}
	walk(doc, 0, false)
	return out
}

// inlineText is the text of an inline run: emphasis dropped, a line break
// kept, a link's address after its text when they differ.
func inlineText(n ast.Node, source []byte) string {
	var sb strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		switch t := c.(type) {
		case *ast.Text:
			if entering {
				sb.Write(t.Segment.Value(source))
				if t.HardLineBreak() {
					sb.WriteString("\n")
				} else if t.SoftLineBreak() {
					sb.WriteString(" ")
				}
			}
		case *ast.String:
			if entering {
				sb.Write(t.Value)
			}
		case *ast.CodeSpan:
			if entering {
				for ch := t.FirstChild(); ch != nil; ch = ch.NextSibling() {
					if tx, ok := ch.(*ast.Text); ok {
						sb.Write(tx.Segment.Value(source))
					}
				}
				return ast.WalkSkipChildren, nil
			}
		case *ast.Link:
			if !entering {
				if dest := string(t.Destination); dest != "" && !strings.HasSuffix(sb.String(), dest) {
					sb.WriteString(" (" + dest + ")")
				}
			}
		case *ast.AutoLink:
			if entering {
				sb.Write(t.URL(source))
			}
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(sb.String())
}
