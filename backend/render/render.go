// Package render turns the Markdown of blueprints and roles into HTML that
// is safe to show in the app: GitHub-flavoured Markdown (tables, task
// lists, strikethrough, autolinks) with goldmark, raw HTML left out, the
// output sanitised with bluemonday, and each heading given the id of its
// section, the name a step's `uses` gives it.
package render

import (
	"bytes"
	"fmt"
	"html"
	"regexp"

	"factorydesk/backend/blueprint"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Result is a rendered document.
type Result struct {
	HTML     string    `json:"html"`
	Sections []Section `json:"sections"`
	// Refused says why the body was not rendered: it is over the size or
	// nesting limits of a blueprint's body (see blueprint.CheckBody), which
	// bound the Markdown parser's time. HTML then says so too.
	Refused string `json:"refused,omitempty"`
}

// Section is one heading: its id (the HTML anchor, and what `uses` names),
// title, level and the 1-based lines of the file it spans.
type Section struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Level int    `json:"level"`
	Line  int    `json:"line"`
	End   int    `json:"end"`
}

// Renderer renders Markdown; it is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New returns a Renderer.
func New() *Renderer {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").OnElements("input")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+#.-]+$`)).OnElements("code")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("td", "th")
	gfm := goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.TaskList,
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)))
	return &Renderer{md: goldmark.New(gfm), policy: p}
}

// Markdown renders a blueprint or role file (its front matter is left out)
// or plain Markdown. Section lines count from the start of the file. A body
// over the size or nesting limits of a blueprint's is not parsed.
func (r *Renderer) Markdown(src []byte) Result {
	body, first := src, 1
	if b, err := blueprint.SplitFrontMatter(src); err == nil {
		body, first = src[b.BodyStart:], b.BodyLine
	}
	if line, _, err := blueprint.CheckBody(body); err != nil {
		msg := fmt.Sprintf("line %d: %v", first+line, err)
		return Result{HTML: "<p>Not rendered: " + html.EscapeString(msg) + "</p>", Sections: []Section{}, Refused: msg}
	}
	secs := blueprint.Sections(body, first)
	byLine := make(map[int]string, len(secs))
	out := Result{Sections: make([]Section, len(secs))}
	for i, s := range secs {
		byLine[s.Line] = s.ID
		out.Sections[i] = Section{ID: s.ID, Title: s.Title, Level: s.Level, Line: s.Line, End: s.End}
	}
	doc := r.md.Parser().Parse(text.NewReader(body))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !ok || !entering {
			return ast.WalkContinue, nil
		}
		if id, ok := byLine[first+blueprint.HeadingLine(h, body)]; ok {
			h.SetAttributeString("id", []byte(id))
		}
		return ast.WalkSkipChildren, nil
	})
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, body, doc); err != nil {
		buf.Reset()
	}
	out.HTML = r.policy.Sanitize(buf.String())
	return out
}
