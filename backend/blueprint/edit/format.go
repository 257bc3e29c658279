package edit

import (
	"bytes"
	"slices"
	"strings"

	"factorydesk/backend"
)

// Format lays out a file's front matter in the canonical form `factory fmt`
// writes: keys in the documented order (others after, as they were),
// two-space indentation, steps as a block list, lists of scalars and
// mappings of scalars in flow style, strings plain when they read back the
// same and double-quoted otherwise, multi-line strings as literal blocks.
// Comments stay with the key or item they precede or follow, one blank line
// is kept where there were some, and the body is left as it is. The result
// is verified to hold the same model and the same comments.
func Format(kind Kind, src []byte) ([]byte, error) {
	d, err := Open(kind, src)
	if err != nil {
		return nil, err
	}
	if d.root == nil {
		return src, nil
	}
	f := &formatter{d: d, st: &style{eol: d.eol, unit: 2, seqIndent: 2, itemKey: 2, flowLists: true, flowMaps: true, quote: '"'}}
	f.assignComments()
	f.mapping(d.root, d.plainModel(), 0, string(kind))
	for _, c := range f.foot {
		f.line(0, c)
	}
	out := make([]byte, 0, len(src)+64)
	out = append(out, src[:d.bounds.YAMLStart]...)
	out = append(out, f.buf.Bytes()...)
	out = append(out, src[d.bounds.YAMLEnd:]...)
	nd, err := Open(kind, out)
	if err != nil {
		return nil, backend.Errorf(backend.EINTERNAL, "fmt would break the file (%v); nothing was changed", err)
	}
	if !equal(nd.plainModel(), d.plainModel()) {
		return nil, backend.Errorf(backend.EINTERNAL, "fmt would change the meaning (%s); nothing was changed", firstDifference("", d.plainModel(), nd.plainModel()))
	}
	if !slices.Equal(commentTexts(d), commentTexts(nd)) {
		return nil, backend.Errorf(backend.EINTERNAL, "fmt would lose comments; nothing was changed")
	}
	return out, nil
}

// commentTexts returns the sorted texts of a document's comments.
func commentTexts(d *Document) []string {
	out := make([]string, len(d.comments))
	for i, c := range d.comments {
		out[i] = strings.TrimSpace(string(d.src[c.start:c.end]))
	}
	slices.Sort(out)
	return out
}

// formatter writes the canonical front matter.
type formatter struct {
	d     *Document
	st    *style
	buf   bytes.Buffer
	heads map[int][]string // comments above the entry or item starting at an offset
	trail map[int]string   // the comment after the line of the entry or item starting at an offset
	blank map[int]bool     // a blank line before the entry or item starting at an offset
	foot  []string         // comments after everything
	kept  bool             // the last value written keeps its final line breaks: no blank line after it
}

// anchorPoints returns the offsets where block entries and items start,
// and for each the offset of the line its value ends on (for leaves).
func (f *formatter) anchorPoints() (starts []int, leafEnd map[int]int, keyLine map[int]int) {
	leafEnd, keyLine = map[int]int{}, map[int]int{}
	var rec func(n *node)
	rec = func(n *node) {
		for _, e := range n.entries {
			if !n.flow {
				starts = append(starts, e.key.start)
				keyLine[f.d.lineOf(e.colon.end)] = e.key.start
				if e.value.kind != kindMap && e.value.kind != kindSeq || e.value.flow {
					leafEnd[e.key.start] = e.value.end
				}
			}
			rec(e.value)
		}
		for _, it := range n.items {
			if !n.flow {
				starts = append(starts, it.dash.start)
				if it.value.kind != kindMap && it.value.kind != kindSeq || it.value.flow {
					leafEnd[it.dash.start] = it.value.end
				}
			}
			rec(it.value)
		}
	}
	rec(f.d.root)
	slices.Sort(starts)
	return starts, leafEnd, keyLine
}

// assignComments gives each comment a place: above the next entry or item,
// after the line of the entry or item it trails, else at the end.
func (f *formatter) assignComments() {
	d := f.d
	f.heads, f.trail, f.blank = map[int][]string{}, map[int]string{}, map[int]bool{}
	starts, leafEnd, keyLine := f.anchorPoints()
	for _, s := range starts {
		top := d.headStart(d.lineStart(s), 0)
		if top > d.bounds.YAMLStart && d.blankLine(d.lineStart(top-1)) {
			f.blank[s] = true
		}
	}
	for _, c := range d.comments {
		text := strings.TrimSpace(string(d.src[c.start:c.end]))
		line := d.lineOf(c.start)
		if !d.startsLine(c.start) {
			if at, ok := f.trailOf(line, leafEnd, keyLine); ok {
				f.trail[at] = strings.TrimSpace(f.trail[at] + " " + text)
				continue
			}
		}
		i, _ := slices.BinarySearch(starts, c.start)
		if !d.startsLine(c.start) && i > 0 {
			i-- // inside a multi-line flow value: above its entry
		}
		if i < len(starts) {
			f.heads[starts[i]] = append(f.heads[starts[i]], text)
		} else {
			f.foot = append(f.foot, text)
		}
	}
}

// trailOf returns the entry or item whose line a comment on line trails:
// one whose one-line value ends there, or whose key line it is.
func (f *formatter) trailOf(line int, leafEnd map[int]int, keyLine map[int]int) (int, bool) {
	best, found := -1, false
	for at, end := range leafEnd {
		if f.d.lineOf(end) == line && f.d.lineOf(at) == line && at > best {
			best, found = at, true
		}
	}
	if found {
		return best, true
	}
	at, ok := keyLine[line]
	return at, ok
}

// line writes one line at indent.
func (f *formatter) line(indent int, text string) {
	f.buf.WriteString(strings.Repeat(" ", indent))
	f.buf.WriteString(text)
	f.buf.WriteString(f.st.eol)
}

// lead writes the blank line and the comments that go before the entry or
// item at offset at.
func (f *formatter) lead(at, indent int) {
	if f.blank[at] && f.buf.Len() > 0 && !f.kept {
		f.buf.WriteString(f.st.eol)
	}
	f.kept = false
	for _, c := range f.heads[at] {
		f.line(indent, c)
	}
}

// withTrail appends the trailing comment of the entry or item at at.
func (f *formatter) withTrail(at int, text string) string {
	if c, ok := f.trail[at]; ok {
		return text + "  " + c
	}
	return text
}
