package edit

import (
	"bytes"
	"fmt"
	"strings"

	"factorydesk/backend"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// nodeKind is the shape of a node.
type nodeKind int

const (
	kindScalar nodeKind = iota
	kindMap
	kindSeq
	kindAlias
)

// scalarStyle is how a scalar is written.
type scalarStyle int

const (
	stylePlain scalarStyle = iota
	styleSingle
	styleDouble
	styleLiteral
	styleFolded
)

// node is one YAML value of the front matter with its byte range in the
// file. start includes an anchor or tag written before the value; vstart is
// where the value itself starts. An empty value (a key with nothing after
// its colon) has start == end at the position after the colon, and empty
// set.
type node struct {
	kind    nodeKind
	flow    bool
	style   scalarStyle
	start   int
	vstart  int
	end     int
	empty   bool
	text    string // a scalar's value as the parser read it
	anchor  string // the anchor the node defines
	alias   string // the anchor an alias node names
	tagged  bool
	entries []*entry // of a mapping
	items   []*item  // of a sequence
	open    span     // the [ or { of a flow collection
	close   span     // the ] or } of a flow collection
}

// entry is one key: value of a mapping.
type entry struct {
	key   *node
	name  string // the key's text
	colon span
	value *node
}

// start returns where the entry starts: its key.
func (e *entry) start() int { return e.key.start }

// end returns where the entry ends: the end of its value.
func (e *entry) end() int { return e.value.end }

// item is one element of a sequence; dash is the range of its "-" in a
// block sequence.
type item struct {
	dash  span
	value *node
}

// start returns where the item starts: its dash, or its value in a flow
// sequence.
func (it *item) start() int {
	if it.dash.end > 0 {
		return it.dash.start
	}
	return it.value.start
}

// builder turns the YAML library's syntax tree into nodes.
type builder struct {
	d      *Document
	spans  map[*token.Token]span
	toFile func(int) int
}

// tokenSpan returns the file range of tk; ok is false for a token the
// parser made up (an implicit null).
func (b *builder) tokenSpan(tk *token.Token) (span, bool) {
	s, ok := b.spans[tk]
	if !ok {
		return span{}, false
	}
	return span{b.toFile(s.start), b.toFile(s.end)}, true
}

// build returns the node for n.
func (b *builder) build(n ast.Node) (*node, error) {
	switch v := n.(type) {
	case *ast.AnchorNode:
		return b.wrap(v.Start, v.Name.GetToken(), v.Value, func(nd *node) { nd.anchor = v.Name.GetToken().Value })
	case *ast.TagNode:
		return b.wrap(v.Start, v.Start, v.Value, func(nd *node) { nd.tagged = true })
	case *ast.AliasNode:
		s, _ := b.tokenSpan(v.Start)
		e, _ := b.tokenSpan(v.Value.GetToken())
		return &node{kind: kindAlias, start: s.start, vstart: s.start, end: e.end, alias: v.Value.GetToken().Value}, nil
	case *ast.MappingNode:
		return b.mapping(v.Values, v.IsFlowStyle, v.Start, v.End)
	case *ast.MappingValueNode:
		return b.mapping([]*ast.MappingValueNode{v}, false, nil, nil)
	case *ast.SequenceNode:
		return b.sequence(v)
	case *ast.LiteralNode:
		return b.literal(v)
	case *ast.MappingKeyNode:
		return b.wrap(v.Start, v.Start, v.Value, func(*node) {})
	}
	return b.scalar(n)
}

// wrap builds the value under an anchor, tag or explicit key indicator
// (from tk to last) and moves its start to the indicator.
func (b *builder) wrap(tk, last *token.Token, value ast.Node, set func(*node)) (*node, error) {
	nd, err := b.build(value)
	if err != nil {
		return nil, err
	}
	if s, ok := b.tokenSpan(tk); ok {
		if nd.empty {
			nd.end, nd.vstart = s.end, s.end
			if l, ok := b.tokenSpan(last); ok {
				nd.end, nd.vstart = l.end, l.end
			}
		}
		nd.start = s.start
	}
	set(nd)
	return nd, nil
}

// scalar builds a scalar node.
func (b *builder) scalar(n ast.Node) (*node, error) {
	tk := n.GetToken()
	nd := &node{kind: kindScalar}
	s, ok := b.tokenSpan(tk)
	if !ok {
		nd.empty = true
		return nd, nil
	}
	nd.start, nd.vstart, nd.end, nd.text = s.start, s.start, s.end, tk.Value
	switch tk.Type {
	case token.SingleQuoteType:
		nd.style = styleSingle
	case token.DoubleQuoteType:
		nd.style = styleDouble
	}
	return nd, nil
}

// literal builds a block scalar: from its | or > to the end of its text.
func (b *builder) literal(v *ast.LiteralNode) (*node, error) {
	h, ok := b.tokenSpan(v.Start)
	if !ok {
		return nil, backend.Errorf(backend.EINTERNAL, "block scalar without a position")
	}
	nd := &node{kind: kindScalar, style: styleLiteral, start: h.start, vstart: h.start, end: h.end}
	if v.Start.Type == token.FoldedType {
		nd.style = styleFolded
	}
	if v.Value != nil {
		if s, ok := b.tokenSpan(v.Value.GetToken()); ok {
			nd.end = s.end
		}
	}
	if strings.Contains(v.Start.Value, "+") {
		nd.end = b.keptEnd(nd.end)
	}
	return nd, nil
}

// keptEnd returns the end of a block scalar that keeps its final line
// breaks: the end of its last blank line, before that line's break.
func (b *builder) keptEnd(end int) int {
	d := b.d
	limit := d.bounds.YAMLEnd
	p := d.lineEnd(end)
	for p < limit {
		next := d.lineEnd(p)
		if len(bytes.TrimRight(d.src[p:next], " \r\n")) > 0 {
			break
		}
		end = next - 1
		if end > p && d.src[end-1] == '\r' {
			end--
		}
		p = next
	}
	return end
}

// mapping builds a mapping from its entries.
func (b *builder) mapping(values []*ast.MappingValueNode, flow bool, open, close *token.Token) (*node, error) {
	nd := &node{kind: kindMap, flow: flow}
	for _, mv := range values {
		e, err := b.entry(mv)
		if err != nil {
			return nil, err
		}
		nd.entries = append(nd.entries, e)
	}
	if flow {
		o, ok1 := b.tokenSpan(open)
		c, ok2 := b.tokenSpan(close)
		if !ok1 || !ok2 {
			return nil, backend.Errorf(backend.EINTERNAL, "flow mapping without its braces")
		}
		nd.open, nd.close = o, c
		nd.start, nd.vstart, nd.end = o.start, o.start, c.end
		return nd, nil
	}
	if len(nd.entries) == 0 {
		return nil, backend.Errorf(backend.EINTERNAL, "empty block mapping")
	}
	nd.start, nd.vstart = nd.entries[0].start(), nd.entries[0].start()
	nd.end = nd.entries[len(nd.entries)-1].end()
	return nd, nil
}

// entry builds one key: value.
func (b *builder) entry(mv *ast.MappingValueNode) (*entry, error) {
	key, err := b.build(mv.Key)
	if err != nil {
		return nil, err
	}
	colon, ok := b.tokenSpan(mv.Start)
	if !ok {
		return nil, backend.Errorf(backend.EINTERNAL, "mapping entry without its colon")
	}
	val, err := b.build(mv.Value)
	if err != nil {
		return nil, err
	}
	if val.empty && val.end == 0 {
		val.start, val.vstart, val.end = colon.end, colon.end, colon.end
	}
	e := &entry{key: key, colon: colon, value: val, name: keyText(mv.Key)}
	return e, nil
}

// keyText returns the text of a mapping key.
func keyText(n ast.Node) string {
	for {
		switch v := n.(type) {
		case *ast.MappingKeyNode:
			n = v.Value
			continue
		case *ast.AnchorNode:
			n = v.Value
			continue
		case *ast.TagNode:
			n = v.Value
			continue
		case *ast.StringNode:
			return v.Value
		}
		if n == nil || n.GetToken() == nil {
			return ""
		}
		return n.GetToken().Value
	}
}

// sequence builds a sequence.
func (b *builder) sequence(v *ast.SequenceNode) (*node, error) {
	nd := &node{kind: kindSeq, flow: v.IsFlowStyle}
	for i, val := range v.Values {
		it := &item{}
		if !v.IsFlowStyle {
			if i >= len(v.Entries) {
				return nil, backend.Errorf(backend.EINTERNAL, "sequence item %d without its dash", i+1)
			}
			d, ok := b.tokenSpan(v.Entries[i].Start)
			if !ok {
				return nil, backend.Errorf(backend.EINTERNAL, "sequence item %d without its dash", i+1)
			}
			it.dash = d
		}
		vn, err := b.build(val)
		if err != nil {
			return nil, err
		}
		if vn.empty && vn.end == 0 {
			vn.start, vn.vstart, vn.end = it.dash.end, it.dash.end, it.dash.end
		}
		it.value = vn
		nd.items = append(nd.items, it)
	}
	if v.IsFlowStyle {
		o, ok1 := b.tokenSpan(v.Start)
		c, ok2 := b.tokenSpan(v.End)
		if !ok1 || !ok2 {
			return nil, backend.Errorf(backend.EINTERNAL, "flow sequence without its brackets")
		}
		nd.open, nd.close = o, c
		nd.start, nd.vstart, nd.end = o.start, o.start, c.end
		return nd, nil
	}
	if len(nd.items) == 0 {
		return nil, backend.Errorf(backend.EINTERNAL, "empty block sequence")
	}
	nd.start, nd.vstart = nd.items[0].dash.start, nd.items[0].dash.start
	nd.end = nd.items[len(nd.items)-1].value.end
	if nd.end < nd.items[len(nd.items)-1].dash.end {
		nd.end = nd.items[len(nd.items)-1].dash.end
	}
	return nd, nil
}

// stepID returns the id a step item's mapping gives, or "".
func (it *item) stepID() string {
	if e := it.value.get("id"); e != nil && e.value.kind == kindScalar {
		return e.value.text
	}
	return ""
}

// get returns the entry of a mapping node with the given key.
func (n *node) get(key string) *entry {
	if n == nil || n.kind != kindMap {
		return nil
	}
	for _, e := range n.entries {
		if e.name == key {
			return e
		}
	}
	return nil
}

// String describes a node for debugging.
func (n *node) String() string {
	return fmt.Sprintf("node{kind:%d flow:%v %d..%d}", n.kind, n.flow, n.start, n.end)
}
