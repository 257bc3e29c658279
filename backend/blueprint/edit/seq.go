package edit

import "strings"

// patchSeq changes a list's items to v, keeping the items that stay (the
// longest common subsequence of old and v), changing in place an old item
// that sits where a new one goes, removing and inserting the rest.
func (ed *editor) patchSeq(n *node, s slot, old, v []any) {
	pairs := lcs(old, v)
	pairs = append(pairs, [2]int{len(old), len(v)})
	var gone []int
	i, j := 0, 0
	after := -1 // the last old item that stays, -1 before the first
	for _, p := range pairs {
		oi, nj := p[0], p[1]
		for i < oi && j < nj {
			it := n.items[i]
			ed.patch(it.value, ed.itemSlot(n, it, s.what), old[i], v[j])
			after = i
			i++
			j++
		}
		for ; i < oi; i++ {
			gone = append(gone, i)
		}
		if j < nj {
			ed.insertItems(n, s, after, v[j:nj])
			j = nj
		}
		if oi < len(old) {
			after = oi
		}
		i, j = oi+1, nj+1
	}
	ed.removeItems(n, gone)
}

// lcs returns the index pairs of a longest common subsequence of a and b.
func lcs(a, b []any) [][2]int {
	n, m := len(a), len(b)
	t := make([][]int, n+1)
	for i := range t {
		t[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if equal(a[i], b[j]) {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case equal(a[i], b[j]):
			out = append(out, [2]int{i, j})
			i++
			j++
		case t[i+1][j] >= t[i][j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

// removeItems removes the items at the indexes gone (ascending) of a list
// that keeps at least one.
func (ed *editor) removeItems(n *node, gone []int) {
	if len(gone) == 0 {
		return
	}
	if n.flow {
		ed.removeFlowRuns(gone, len(n.items), func(j int) (int, int) { return n.items[j].value.start, n.items[j].value.end })
		return
	}
	d := ed.d
	for _, i := range gone {
		it := n.items[i]
		if d.startsLine(it.dash.start) {
			r := d.lineRange(it.dash.start, it.value.end)
			ed.add(r.start, r.end, "")
		} else if i+1 < len(n.items) {
			ed.add(it.dash.start, n.items[i+1].dash.start, "")
		}
	}
}

// insertItems inserts vs after the old item at index after (-1: first).
func (ed *editor) insertItems(n *node, s slot, after int, vs []any) {
	d, st := ed.d, ed.st
	if n.flow {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = st.inline(v, stylePlain, true, itemKind(s.what))
		}
		sep := ed.flowSep(n)
		text := strings.Join(parts, sep)
		switch {
		case len(n.items) == 0:
			ed.add(n.open.end, n.open.end, text)
		case after < 0:
			ed.add(n.items[0].value.start, n.items[0].value.start, text+sep)
		default:
			e := n.items[after].value.end
			ed.add(e, e, sep+text)
		}
		return
	}
	col := d.column(n.items[0].dash.start)
	pre := strings.Repeat(" ", col)
	if after >= 0 {
		ed.guard(d.lineEnd(n.items[after].value.end))
	} else {
		ed.guard(n.items[0].dash.start)
	}
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(pre + "-" + st.itemText(v, col, itemKind(s.what)) + st.eol)
	}
	text := b.String()
	first := n.items[0].dash.start
	switch {
	case after >= 0:
		at := d.lineEnd(n.items[after].value.end)
		ed.add(at, at, text)
	case d.startsLine(first):
		at := d.headStart(d.lineStart(first), col)
		ed.add(at, at, text)
	default:
		ed.add(first, first, strings.TrimPrefix(strings.TrimSuffix(text, st.eol), pre)+st.eol+pre)
	}
}
