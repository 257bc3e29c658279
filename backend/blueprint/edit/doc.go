// Package edit changes blueprint and role files the way a careful person
// would: each edit operation splices new text into the file's bytes at the
// byte ranges of the YAML parser's tokens, in the file's own style
// (indentation, flow or block lists, quoting, line endings), then parses
// the result again and compares it with the model the operation intends,
// refusing the edit when they differ. The front matter is never written by
// re-encoding it; only Format, which `factory fmt` calls, lays a file out
// anew.
package edit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Kind says which format a document follows.
type Kind string

// The kinds of documents.
const (
	KindBlueprint Kind = "blueprint"
	KindRole      Kind = "role"
)

// KindOf returns the kind of the workspace file at rel: a role under
// blueprints/roles/, else a blueprint.
func KindOf(rel string) Kind {
	if strings.HasPrefix(strings.ReplaceAll(rel, `\`, "/"), "blueprints/roles/") || strings.Contains(rel, "/roles/") {
		return KindRole
	}
	return KindBlueprint
}

// Document is a blueprint or role file opened for editing: its bytes, where
// its front matter and body lie, and an index of the front matter giving the
// byte range of every node.
type Document struct {
	kind   Kind
	src    []byte
	bounds blueprint.Bounds
	root   *node     // the top-level mapping; nil when the front matter is empty
	file   *ast.File // the YAML library's tree of the front matter (CRLF read as LF)
	model  any       // the front matter as plain values; nil until loadModel
	eol    string
	lines  []int // offsets of the start of each line of src
	// comments are the byte ranges of the front matter's comments.
	comments []span
}

// span is a byte range [start, end) of a file.
type span struct{ start, end int }

// Hash returns the sha256 hex of b, a blueprint's version.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Open indexes src and reads its model. It fails (EINVALID) when the file
// has no front matter or its YAML does not parse; the error then says where.
func Open(kind Kind, src []byte) (*Document, error) {
	d, err := open(kind, src)
	if err != nil {
		return nil, err
	}
	if err := d.loadModel(); err != nil {
		return nil, err
	}
	return d, nil
}

// open indexes src without reading its model, as linting needs.
func open(kind Kind, src []byte) (*Document, error) {
	b, err := blueprint.SplitFrontMatter(src)
	if err != nil {
		return nil, backend.Errorf(backend.EINVALID, "%s", err.Error())
	}
	d := &Document{kind: kind, src: src, bounds: b, eol: "\n"}
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		d.eol = "\r\n"
	}
	d.lines = lineStarts(src)
	if err := d.index(); err != nil {
		return nil, err
	}
	return d, nil
}

// Bytes returns the document's bytes.
func (d *Document) Bytes() []byte { return d.src }

// Kind returns the document's kind.
func (d *Document) Kind() Kind { return d.kind }

// lineStarts returns the offset of the start of each line of src.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' && i+1 <= len(src) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOf returns the 0-based line holding offset off.
func (d *Document) lineOf(off int) int {
	return sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off }) - 1
}

// lineStart returns the offset of the start of the line holding off.
func (d *Document) lineStart(off int) int { return d.lines[d.lineOf(off)] }

// lineEnd returns the offset just after the line break ending the line that
// holds off (the end of the file when it has none).
func (d *Document) lineEnd(off int) int {
	l := d.lineOf(off)
	if l+1 < len(d.lines) {
		return d.lines[l+1]
	}
	return len(d.src)
}

// column returns the 0-based byte column of off in its line.
func (d *Document) column(off int) int { return off - d.lineStart(off) }

// index parses the front matter and builds the node index and the model.
func (d *Document) index() error {
	raw := d.src[d.bounds.YAMLStart:d.bounds.YAMLEnd]
	if err := blueprint.CheckSize(raw); err != nil {
		return backend.Errorf(backend.EINVALID, "%v", err)
	}
	norm, crs := normalize(raw)
	toks := lexer.Tokenize(string(norm))
	if err := blueprint.CheckLimits(raw, toks); err != nil {
		return backend.Errorf(backend.EINVALID, "%v", err)
	}
	spans, comments, err := align(norm, toks)
	if err != nil {
		return err
	}
	toFile := func(off int) int {
		return d.bounds.YAMLStart + off + sort.SearchInts(crs, off)
	}
	for _, c := range comments {
		d.comments = append(d.comments, span{toFile(c.start), toFile(c.end)})
	}
	f, err := parser.Parse(toks, 0)
	if err != nil {
		return yamlError(err)
	}
	if len(f.Docs) > 1 {
		return backend.Errorf(backend.EINVALID, "front matter holds several YAML documents: keep one")
	}
	d.file = f
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil
	}
	body := f.Docs[0].Body
	bld := &builder{d: d, spans: spans, toFile: toFile}
	root, err := bld.build(body)
	if err != nil {
		return err
	}
	if root.kind != kindMap {
		return backend.Errorf(backend.EINVALID, "front matter: want a mapping of keys")
	}
	d.root = root
	return nil
}

// loadModel reads the front matter's plain values.
func (d *Document) loadModel() error {
	if d.model != nil {
		return nil
	}
	d.model = map[string]any{}
	if d.file == nil || len(d.file.Docs) == 0 || d.file.Docs[0].Body == nil {
		return nil
	}
	var v any
	if err := yaml.NodeToValue(d.file.Docs[0].Body, &v); err != nil {
		return yamlError(err)
	}
	switch m := plain(v).(type) {
	case map[string]any:
		d.model = m
	case nil:
	default:
		return backend.Errorf(backend.EINVALID, "front matter: want a mapping of keys")
	}
	return nil
}

// plainModel returns the model read by Open.
func (d *Document) plainModel() map[string]any {
	m, _ := d.model.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// yamlError wraps a YAML library error as EINVALID.
func yamlError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		return backend.Errorf(backend.EINVALID, "yaml: %s", ye.GetMessage())
	}
	return backend.Errorf(backend.EINVALID, "yaml: %v", err)
}

// normalize turns CRLF line breaks into LF, so that the YAML library counts
// lines right, and returns the offsets (in the result) of each LF that lost
// its CR.
func normalize(raw []byte) ([]byte, []int) {
	if !bytes.Contains(raw, []byte("\r\n")) {
		return raw, nil
	}
	out := make([]byte, 0, len(raw))
	var crs []int
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\r' && i+1 < len(raw) && raw[i+1] == '\n' {
			crs = append(crs, len(out))
			continue
		}
		out = append(out, raw[i])
	}
	return out, crs
}

// align finds the byte range of each token in src. The lexer's Origin of a
// token is its text with the white space around it; the text itself, found
// in order in src, gives the range. Comments' ranges are returned apart.
func align(src []byte, toks token.Tokens) (map[*token.Token]span, []span, error) {
	spans := make(map[*token.Token]span, len(toks))
	var comments []span
	cur := 0
	for _, tk := range toks {
		text := strings.Trim(tk.Origin, " \t\r\n")
		if text == "" {
			continue
		}
		for cur < len(src) && isSpace(src[cur]) {
			cur++
		}
		if !bytes.HasPrefix(src[cur:], []byte(text)) {
			return nil, nil, backend.Errorf(backend.EINTERNAL,
				"cannot edit this front matter safely: the YAML reader lost track of the text at line %d", tk.Position.Line)
		}
		s := span{cur, cur + len(text)}
		spans[tk] = s
		if tk.Type == token.CommentType {
			comments = append(comments, s)
		}
		cur = s.end
	}
	return spans, comments, nil
}

// isSpace reports white space between tokens.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// plain turns decoded YAML into plain values: map[string]any, []any,
// string, int64 (uint64 beyond), float64, bool and nil.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[keyString(k)] = plain(e)
		}
		return out
	case yaml.MapSlice:
		out := make(map[string]any, len(x))
		for _, it := range x {
			out[keyString(it.Key)] = plain(it.Value)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case int:
		return int64(x)
	case int64:
		return x
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return x
	case float32:
		return float64(x)
	}
	return v
}

// keyString returns a decoded mapping key as text.
func keyString(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return fmt.Sprint(k)
}

// Plain turns a value decoded from YAML (or JSON) into the plain values
// edits take: map[string]any, []any, string, int64, float64, bool, nil.
func Plain(v any) any { return plain(v) }
