package edit

import (
	"bytes"
	"strings"

	"factorydesk/backend/blueprint"
)

// slot says where a value sits: after a key's colon or an item's dash at
// column indent, in a flow collection or not, and which documented key
// order its mappings follow.
type slot struct {
	after  int // the end of the colon or dash before the value
	indent int // column of the key or the dash
	item   bool
	inFlow bool
	what   string
}

// replace writes v in place of the node n in slot s.
func (ed *editor) replace(n *node, s slot, v any) {
	st := ed.st
	ed.guard(n.end)
	prefer := stylePlain
	if n.kind == kindScalar && !n.empty {
		prefer = n.style
	}
	if s.inFlow {
		ed.add(n.start, n.end, st.inline(v, prefer, true, s.what))
		return
	}
	str, isStr := v.(string)
	keepsLine := n.kind == kindScalar && (n.style == styleLiteral || n.style == styleFolded) || n.flow || n.kind != kindMap && n.kind != kindSeq
	// Text after the value on its line (a comment) would end up inside a
	// block written there: write the value on one line instead.
	trailing := len(bytes.TrimSpace(ed.d.src[n.end:ed.d.lineEnd(n.end)])) > 0
	switch {
	case trailing && n.empty:
		text := st.inline(v, prefer, false, s.what)
		if isStr && strings.Contains(str, "\n") {
			text = doubleQuote(str)
		}
		ed.add(s.after, n.end, " "+text)
	case isStr && st.wantsBlock(v) && (trailing || !n.empty && n.style != styleLiteral && n.style != styleFolded && n.kind == kindScalar):
		// A multi-line string in place of a one-line scalar stays quoted.
		ed.add(n.start, n.end, doubleQuote(str))
	case trailing:
		ed.add(n.start, n.end, st.inline(v, prefer, false, s.what))
	case !st.wantsBlock(v) && keepsLine && !n.empty:
		ed.add(n.start, n.end, st.inline(v, prefer, false, s.what))
	case s.item:
		ed.add(s.after, n.end, st.itemText(v, s.indent, s.what))
	default:
		ed.add(s.after, n.end, st.after(v, s.indent, s.what))
	}
}

// patch changes the node n in slot s so that it holds v, touching as
// little text as it can: a mapping keeps the entries that stay, a list the
// items that stay.
func (ed *editor) patch(n *node, s slot, old, v any) {
	if equal(old, v) {
		return
	}
	if n.kind == kindMap {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			if om, ok := old.(map[string]any); ok {
				ed.patchMap(n, s, om, m)
				return
			}
		}
	}
	if n.kind == kindSeq {
		if l, ok := v.([]any); ok && len(l) > 0 {
			if ol, ok := old.([]any); ok && len(ol) == len(n.items) {
				ed.patchSeq(n, s, ol, l)
				return
			}
		}
	}
	ed.replace(n, s, v)
}

// patchMap changes a mapping's entries to those of v.
func (ed *editor) patchMap(n *node, s slot, old, v map[string]any) {
	kept := map[string]bool{}
	var gone []int
	for i, e := range n.entries {
		nv, keep := v[e.name]
		if !keep {
			gone = append(gone, i)
			continue
		}
		kept[e.name] = true
		ed.patch(e.value, ed.entrySlot(n, e, s.what), old[e.name], nv)
	}
	ed.removeEntries(n, gone)
	for _, k := range sortedKeys(v, s.what) {
		if n.get(k) == nil {
			ed.addEntry(n, s, k, v[k], kept)
		}
	}
}

// removeEntries removes the entries at the indexes gone of a mapping that
// keeps at least one.
func (ed *editor) removeEntries(m *node, gone []int) {
	if m.flow {
		ed.removeFlowRuns(gone, len(m.entries), func(j int) (int, int) { return m.entries[j].start(), m.entries[j].end() })
		return
	}
	for _, i := range gone {
		ed.removeEntry(m, m.entries[i])
	}
}

// entrySlot returns the slot of an entry's value.
func (ed *editor) entrySlot(m *node, e *entry, what string) slot {
	return slot{after: e.colon.end, indent: ed.d.column(e.key.start), inFlow: m.flow, what: childKind(what, e.name)}
}

// itemSlot returns the slot of an item's value.
func (ed *editor) itemSlot(l *node, it *item, what string) slot {
	return slot{after: it.dash.end, indent: ed.d.column(it.dash.start), item: true, inFlow: l.flow, what: itemKind(what)}
}

// removeEntry removes one entry of a block mapping that keeps others.
func (ed *editor) removeEntry(m *node, e *entry) {
	d := ed.d
	if d.startsLine(e.key.start) {
		r := d.lineRange(e.key.start, e.end())
		ed.add(r.start, r.end, "")
		return
	}
	// The first key of a mapping in a list item, on the dash's line.
	if i := indexOf(m.entries, e); i+1 < len(m.entries) {
		ed.add(e.key.start, m.entries[i+1].key.start, "")
	}
}

// removeFlowRuns removes the items at the indexes gone (ascending) of a
// flow collection of count items, each run of neighbours with the commas
// around it; bounds gives the range of each item.
func (ed *editor) removeFlowRuns(gone []int, count int, bounds func(int) (int, int)) {
	for k := 0; k < len(gone); {
		i, j := gone[k], gone[k]
		for k+1 < len(gone) && gone[k+1] == j+1 {
			k++
			j = gone[k]
		}
		k++
		s, _ := bounds(i)
		_, e := bounds(j)
		switch {
		case j+1 < count:
			next, _ := bounds(j + 1)
			ed.add(s, next, "")
		case i > 0:
			_, prev := bounds(i - 1)
			ed.add(prev, e, "")
		default:
			ed.add(s, e, "")
		}
	}
}

// addEntry adds key k with value v to the mapping m, in the documented
// order of s.what (at the end for other mappings).
func (ed *editor) addEntry(m *node, s slot, k string, v any, kept map[string]bool) {
	d, st := ed.d, ed.st
	prev := position(m, s.what, k, kept)
	if m.flow {
		text := st.key(k, true) + ": " + st.inline(v, stylePlain, true, childKind(s.what, k))
		switch {
		case len(m.entries) == 0:
			ed.add(m.open.end, m.open.end, text)
		case prev < 0:
			ed.add(m.entries[0].start(), m.entries[0].start(), text+ed.flowSep(m))
		default:
			ed.add(m.entries[prev].end(), m.entries[prev].end(), ed.flowSep(m)+text)
		}
		return
	}
	col := d.column(m.entries[0].key.start)
	at := m.entries[0].key.start
	if prev >= 0 {
		at = d.lineEnd(m.entries[prev].end())
	}
	ed.guard(at)
	line := st.key(k, false) + ":" + st.after(v, col, childKind(s.what, k))
	if prev >= 0 {
		ed.add(at, at, strings.Repeat(" ", col)+line+st.eol)
		return
	}
	first := m.entries[0].key.start
	if d.startsLine(first) {
		at := d.headStart(d.lineStart(first), col)
		ed.add(at, at, strings.Repeat(" ", col)+line+st.eol)
		return
	}
	ed.add(first, first, line+st.eol+strings.Repeat(" ", col))
}

// flowSep returns the separator a flow collection writes between items:
// a comma and what follows it.
func (ed *editor) flowSep(n *node) string {
	var a, b int
	switch {
	case n.kind == kindMap && len(n.entries) > 1:
		a, b = n.entries[0].end(), n.entries[1].start()
	case n.kind == kindSeq && len(n.items) > 1:
		a, b = n.items[0].value.end, n.items[1].value.start
	default:
		return ", "
	}
	sep := string(ed.d.src[a:b])
	if i := strings.IndexByte(sep, ','); i >= 0 {
		rest := sep[i+1:]
		if j := strings.IndexByte(rest, '#'); j >= 0 {
			rest = rest[:j] + rest[strings.IndexByte(rest[j:], '\n')+j:]
		}
		return "," + rest
	}
	return ", "
}

// position returns the index of the entry after which key k goes: the last
// kept entry whose key comes before k in the documented order of what; for
// other mappings the last kept entry; -1 to go first. kept nil keeps all.
func position(m *node, what, k string, kept map[string]bool) int {
	order := orderOf(what)
	rank, known := order[k]
	prev := -1
	for i, e := range m.entries {
		if kept != nil && !kept[e.name] {
			continue
		}
		if r, ok := order[e.name]; !known || ok && r < rank {
			prev = i
		}
	}
	return prev
}

// keyOrder returns the documented keys of what, none for other mappings.
func keyOrder(what string) []string {
	if what == "" || what == "steps" {
		return nil
	}
	return blueprint.KeyOrder(what)
}

// orderOf returns the rank of each documented key of what.
func orderOf(what string) map[string]int {
	keys := keyOrder(what)
	out := make(map[string]int, len(keys))
	for i, k := range keys {
		out[k] = i
	}
	return out
}

// indexOf returns the index of x in list, or -1.
func indexOf[T comparable](list []T, x T) int {
	for i, v := range list {
		if v == x {
			return i
		}
	}
	return -1
}
