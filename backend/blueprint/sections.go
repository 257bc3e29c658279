package blueprint

import (
	"bytes"
	"strconv"
	"strings"

	"factorydesk/backend"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Slug returns the stable section id of a heading title: lowercase letters,
// digits and dashes, spaces and underscores turned into dashes, other
// characters dropped, runs of dashes collapsed, no dash at either end.
// A title with nothing left gives "section". Parse makes ids unique within a
// file by adding -1, -2, ... to repeated ones, as GitHub does.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == ' ', r == '-', r == '_', r == '\t', r == '/':
			dash = true
		}
	}
	if b.Len() == 0 {
		return "section"
	}
	return b.String()
}

// heading is a heading found in the body, before ids are made unique.
type heading struct {
	title string
	level int
	line  int // line in the file
}

// Sections returns the sections of a Markdown body that starts at line
// firstLine of its file, with the ids Parse gives them.
func Sections(body []byte, firstLine int) []backend.Section { return sections(body, firstLine) }

// sections returns the sections of a Markdown body that starts at line
// firstLine of its file.
func sections(body []byte, firstLine int) []backend.Section {
	lines := bytes.SplitAfter(body, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	lastLine := firstLine + len(lines) - 1
	hs := headings(body, firstLine)
	out := make([]backend.Section, len(hs))
	used := map[string]bool{}
	for i, h := range hs {
		end := lastLine
		for _, next := range hs[i+1:] {
			if next.level <= h.level {
				end = next.line - 1
				break
			}
		}
		out[i] = backend.Section{
			ID:    uniqueSlug(Slug(h.title), used),
			Title: h.title,
			Level: h.level,
			Line:  h.line,
			End:   end,
			Text:  string(bytes.Join(lines[h.line-firstLine:end-firstLine+1], nil)),
		}
	}
	return out
}

// uniqueSlug returns base, or base-1, base-2, ... when taken, and marks it
// used.
func uniqueSlug(base string, used map[string]bool) string {
	id := base
	for n := 1; used[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	used[id] = true
	return id
}

// headings parses body with goldmark and returns its headings in document
// order.
func headings(body []byte, firstLine int) []heading {
	doc := goldmark.New().Parser().Parse(text.NewReader(body))
	var hs []heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !ok || !entering {
			return ast.WalkContinue, nil
		}
		hs = append(hs, heading{title: inlineText(h, body), level: h.Level, line: firstLine + HeadingLine(h, body)})
		return ast.WalkSkipChildren, nil
	})
	return hs
}

// HeadingLine returns the 0-based line of body where goldmark's heading h
// starts.
func HeadingLine(h *ast.Heading, body []byte) int {
	off := h.Pos()
	if off < 0 && h.Lines().Len() > 0 {
		off = h.Lines().At(0).Start
	}
	if off <= 0 {
		return 0
	}
	return bytes.Count(body[:min(off, len(body))], []byte("\n"))
}

// inlineText returns the plain text of a node's inline children.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch v := c.(type) {
		case *ast.Text:
			b.Write(v.Segment.Value(src))
			if v.SoftLineBreak() || v.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(v.Value)
		case *ast.AutoLink:
			b.Write(v.Label(src))
		case *ast.RawHTML:
		default:
			b.WriteString(inlineText(c, src))
		}
	}
	return strings.TrimSpace(b.String())
}
