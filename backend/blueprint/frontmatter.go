package blueprint

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"factorydesk/backend"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// document is a Markdown file split into its YAML front matter and its body.
type document struct {
	yaml     []byte // the front matter, without its --- lines
	yamlLine int    // line of the file holding the first front matter line
	body     []byte // everything after the closing --- line
	bodyLine int    // line of the file holding the first body line
}

// errNoFrontMatter and errUnclosed say why a file could not be split.
var (
	errNoFrontMatter = errors.New("no front matter: start the file with a --- line, the YAML front matter, then a closing --- line")
	errUnclosed      = errors.New("front matter is not closed: add a --- line after it")
)

// Bounds says where the parts of a blueprint or role file lie, as byte
// offsets into the file.
type Bounds struct {
	YAMLStart int // first byte of the front matter, after the opening --- line
	YAMLEnd   int // first byte of the closing --- line
	BodyStart int // first byte after the closing --- line
	BodyLine  int // 1-based line of the file holding BodyStart
}

// SplitFrontMatter finds the front matter of src, which may start with a
// UTF-8 byte order mark: a first line "---", the YAML, then a "---" or "..."
// line.
func SplitFrontMatter(src []byte) (Bounds, error) {
	if len(src) > MaxFileBytes {
		return Bounds{}, errors.New(sizeMessage("the file", len(src), MaxFileBytes))
	}
	bom := 0
	if bytes.HasPrefix(src, []byte("\ufeff")) {
		bom = 3
	}
	lines := bytes.SplitAfter(src[bom:], []byte("\n"))
	if !isFence(lines[0], false) {
		return Bounds{}, errNoFrontMatter
	}
	off := bom + len(lines[0])
	for i := 1; i < len(lines); i++ {
		if isFence(lines[i], true) {
			return Bounds{YAMLStart: bom + len(lines[0]), YAMLEnd: off, BodyStart: off + len(lines[i]), BodyLine: i + 2}, nil
		}
		off += len(lines[i])
	}
	return Bounds{}, errUnclosed
}

// CheckLimits reports a front matter (its YAML, and the lexer's tokens of
// it) over the limits of CheckSize or nesting deeper than MaxNestingDepth,
// for readers of front matter other than Parse; they call CheckSize before
// they lex it.
func CheckLimits(yamlText []byte, tokens token.Tokens) error {
	if err := CheckSize(yamlText); err != nil {
		return err
	}
	if tk, depth := tooDeep(tokens, MaxNestingDepth); tk != nil {
		return fmt.Errorf("the front matter nests %d levels deep at its line %d, over the limit of %d: flatten it", depth, tk.Position.Line, MaxNestingDepth)
	}
	return nil
}

// splitDocument separates the front matter of src from its body.
func splitDocument(src []byte) (document, error) {
	b, err := SplitFrontMatter(src)
	if err != nil {
		return document{}, err
	}
	return document{yaml: src[b.YAMLStart:b.YAMLEnd], yamlLine: 2, body: src[b.BodyStart:], bodyLine: b.BodyLine}, nil
}

// isFence reports whether line is a front matter delimiter.
func isFence(line []byte, closing bool) bool {
	s := strings.TrimRight(string(line), " \t\r\n")
	return s == "---" || (closing && s == "...")
}

// pos is a 1-based line and column in a file.
type pos struct{ line, col int }

// linter collects the diagnostics of one file; positions of YAML nodes are
// moved by offset lines to land on the file's lines.
type linter struct {
	path   string
	offset int
	diags  backend.Diagnostics
	parsed *ast.File // the front matter parsed already, if it was
}

// add records a diagnostic at p.
func (l *linter) add(p pos, format string, args ...any) {
	l.diags = append(l.diags, backend.Diagnostic{Path: l.path, Line: p.line, Col: p.col, Message: fmt.Sprintf(format, args...)})
}

// sorted returns the diagnostics ordered by line, then column.
func (l *linter) sorted() backend.Diagnostics {
	sort.SliceStable(l.diags, func(i, j int) bool {
		a, b := l.diags[i], l.diags[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l.diags
}

// pos returns the file position where node n starts.
func (l *linter) pos(n ast.Node) pos {
	switch v := n.(type) {
	case *ast.MappingNode:
		if len(v.Values) > 0 {
			return l.pos(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return l.pos(v.Key)
	}
	if n == nil || n.GetToken() == nil {
		return pos{1, 1}
	}
	p := n.GetToken().Position
	return pos{p.Line + l.offset, p.Column}
}

// valuePos returns the position of a key's value, or of the key when the
// value is empty.
func (l *linter) valuePos(mv *ast.MappingValueNode) pos {
	v := unwrap(mv.Value)
	if v == nil || v.GetToken() == nil {
		return l.pos(mv.Key)
	}
	if _, null := v.(*ast.NullNode); null && v.GetToken().Position.Line == 0 {
		return l.pos(mv.Key)
	}
	return l.pos(v)
}

// parseYAML parses the front matter and returns its top-level mapping; a
// syntax error is recorded with the YAML library's position.
func (l *linter) parseYAML(src []byte) ([]*ast.MappingValueNode, bool) {
	if l.parsed != nil {
		return l.entries(l.parsed)
	}
	if err := CheckSize(src); err != nil {
		l.add(pos{l.offset + 1, 1}, "%s", err.Error())
		return nil, false
	}
	tokens := lexer.Tokenize(string(bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))))
	if tk, depth := tooDeep(tokens, MaxNestingDepth); tk != nil {
		l.add(pos{tk.Position.Line + l.offset, tk.Position.Column},
			"the front matter nests %d levels deep here, over the limit of %d: flatten it", depth, MaxNestingDepth)
		return nil, false
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		var ye yaml.Error
		p := pos{l.offset + 1, 1}
		msg := err.Error()
		if errors.As(err, &ye) {
			msg = ye.GetMessage()
			if t := ye.GetToken(); t != nil {
				p = pos{t.Position.Line + l.offset, t.Position.Column}
			}
		}
		msg = strings.ReplaceAll(l.fileRefs(msg), "\t", `\t`)
		if strings.Contains(msg, `'\t'`) {
			msg += ": indent with spaces"
		}
		l.add(p, "yaml: %s", msg)
		return nil, false
	}
	return l.entries(f)
}

// entries returns the top-level mapping of a parsed front matter.
func (l *linter) entries(f *ast.File) ([]*ast.MappingValueNode, bool) {
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, true
	}
	if len(f.Docs) > 1 {
		l.add(l.pos(f.Docs[1].Body), "front matter holds several YAML documents: keep one")
	}
	root := unwrap(f.Docs[0].Body)
	entries, isMap := mapping(root)
	if !isMap {
		l.add(l.pos(root), "front matter: want a mapping of keys, got %s", kind(root))
		return nil, false
	}
	return entries, true
}

// yamlRef matches a position in a YAML library message, like [4:5].
var yamlRef = regexp.MustCompile(`at \[(\d+):(\d+)\]`)

// fileRefs rewrites the front matter positions of a YAML library message
// into file lines.
func (l *linter) fileRefs(msg string) string {
	return yamlRef.ReplaceAllStringFunc(msg, func(m string) string {
		sub := yamlRef.FindStringSubmatch(m)
		line, _ := strconv.Atoi(sub[1])
		return "at line " + strconv.Itoa(line+l.offset)
	})
}

// unwrap returns the node under anchors and tags.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

// mapping returns the entries of a mapping node.
func mapping(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := unwrap(n).(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

// kind names the type of a YAML node the way messages do.
func kind(n ast.Node) string {
	switch unwrap(n).(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.StringNode, *ast.LiteralNode:
		return "string"
	case *ast.IntegerNode:
		return "integer"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number"
	case *ast.BoolNode:
		return "boolean"
	case *ast.SequenceNode:
		return "list"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "mapping"
	case *ast.AliasNode:
		return "alias"
	}
	return "value"
}

// isNull reports whether n is absent or an explicit null.
func isNull(n ast.Node) bool {
	switch unwrap(n).(type) {
	case nil, *ast.NullNode:
		return true
	}
	return false
}

// scalar returns the text of a scalar node: strings as they are, numbers and
// booleans as written.
func scalar(n ast.Node) (string, bool) {
	switch v := unwrap(n).(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// keyName returns the text of a mapping key.
func keyName(mv *ast.MappingValueNode) string {
	if s, ok := scalar(mv.Key); ok {
		return s
	}
	return strings.TrimSpace(mv.Key.String())
}
