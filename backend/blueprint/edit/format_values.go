package edit

import (
	"sort"
	"strings"
)

// leaf reports whether a node is written on its key's line: a scalar that
// fits one line, an alias, or a collection written in flow style (a list
// or mapping of scalars with no comment inside; never a step).
func (f *formatter) leaf(n *node, v any, what string) bool {
	switch n.kind {
	case kindAlias, kindScalar:
		s, isStr := v.(string)
		return !isStr || !strings.Contains(s, "\n") || !literalSafe(s)
	case kindSeq:
		return len(n.items) == 0 || f.st.flatValue(v) && !f.commented(n)
	}
	return len(n.entries) == 0 || what != "step" && f.st.flatValue(v) && !f.commented(n)
}

// commented reports whether a comment goes above or after an entry or item
// inside a block collection.
func (f *formatter) commented(n *node) bool {
	if n.flow {
		return false
	}
	for _, e := range n.entries {
		if len(f.heads[e.key.start]) > 0 || f.trail[e.key.start] != "" {
			return true
		}
	}
	for _, it := range n.items {
		if len(f.heads[it.dash.start]) > 0 || f.trail[it.dash.start] != "" {
			return true
		}
	}
	return false
}

// flow writes a node in flow style on one line; inFlow says it is inside a
// flow collection.
func (f *formatter) flow(n *node, v any, what string, inFlow bool) string {
	prefix := ""
	if n.anchor != "" {
		prefix = "&" + n.anchor + " "
	}
	switch n.kind {
	case kindAlias:
		return "*" + n.alias
	case kindSeq:
		l, _ := v.([]any)
		parts := make([]string, len(n.items))
		for i, it := range n.items {
			parts[i] = f.flow(it.value, at(l, i), itemKind(what), true)
		}
		return prefix + "[" + strings.Join(parts, ", ") + "]"
	case kindMap:
		m, _ := v.(map[string]any)
		parts := []string{}
		for _, e := range f.ordered(n, what) {
			parts = append(parts, f.st.key(e.name, true)+": "+f.flow(e.value, m[e.name], childKind(what, e.name), true))
		}
		return prefix + "{" + strings.Join(parts, ", ") + "}"
	}
	if n.empty && v == nil {
		return strings.TrimSpace(prefix)
	}
	if s, ok := v.(string); ok && inFlow && strings.ContainsAny(s, " *") {
		return prefix + doubleQuote(s) // commands and globs read best quoted in a list
	}
	return prefix + f.st.scalar(v, stylePlain, inFlow)
}

// at returns l[i], or nil.
func at(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

// ordered returns a mapping's entries in the documented order of what, the
// others after them as they were.
func (f *formatter) ordered(n *node, what string) []*entry {
	order := orderOf(what)
	out := append([]*entry(nil), n.entries...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, oki := order[out[i].name]
		rj, okj := order[out[j].name]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return false
	})
	return out
}

// mapping writes a block mapping at indent.
func (f *formatter) mapping(n *node, m map[string]any, indent int, what string) {
	for _, e := range f.ordered(n, what) {
		at := e.key.start
		f.lead(at, indent)
		f.value(indent, f.st.key(e.name, false)+":", at, e.value, m[e.name], childKind(what, e.name))
	}
}

// value writes "head value" for a key or a dash at indent: the value on
// the line when it fits there, else below it.
func (f *formatter) value(indent int, head string, at int, n *node, v any, what string) {
	switch {
	case n.empty && v == nil && n.anchor == "":
		f.line(indent, f.withTrail(at, head))
	case f.leaf(n, v, what):
		f.line(indent, f.withTrail(at, head+" "+f.flow(n, v, what, false)))
	case n.kind == kindScalar:
		lit := f.st.literal(v.(string), indent+2)
		header, rest, _ := strings.Cut(lit, f.st.eol)
		f.line(indent, f.withTrail(at, head+" "+f.anchorText(n)+header))
		f.buf.WriteString(rest + f.st.eol)
		f.kept = strings.HasSuffix(header, "+")
	case n.kind == kindMap:
		f.line(indent, f.withTrail(at, strings.TrimRight(head+" "+f.anchorText(n), " ")))
		f.mapping(n, v.(map[string]any), indent+2, what)
	default:
		f.line(indent, f.withTrail(at, strings.TrimRight(head+" "+f.anchorText(n), " ")))
		f.sequence(n, v.([]any), indent+2, what)
	}
}

// anchorText returns "&name " for an anchored node.
func (f *formatter) anchorText(n *node) string {
	if n.anchor == "" {
		return ""
	}
	return "&" + n.anchor + " "
}

// sequence writes a block sequence with its dashes at indent.
func (f *formatter) sequence(n *node, l []any, indent int, what string) {
	for i, it := range n.items {
		at := it.dash.start
		v := at2(l, i)
		f.lead(at, indent)
		m, isMap := v.(map[string]any)
		if it.value.kind != kindMap || it.value.anchor != "" || f.leaf(it.value, v, itemKind(what)) || !isMap {
			f.value(indent, "-", at, it.value, v, itemKind(what))
			continue
		}
		// A mapping item: its first key on the dash's line, the comments
		// above that key above the dash.
		first := f.ordered(it.value, itemKind(what))[0].key.start
		for _, k := range []int{first, it.value.entries[0].key.start} {
			for _, c := range f.heads[k] {
				f.line(indent, c)
			}
			delete(f.heads, k)
			delete(f.blank, k)
		}
		start := f.buf.Len()
		f.mapping(it.value, m, indent+2, itemKind(what))
		f.buf.Bytes()[start+indent] = '-'
	}
}

// at2 returns l[i], or nil.
func at2(l []any, i int) any { return at(l, i) }
