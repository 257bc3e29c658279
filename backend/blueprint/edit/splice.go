package edit

import (
	"bytes"
	"sort"
	"strings"

	"factorydesk/backend"
)

// splice replaces the bytes [start, end) of a file with text.
type splice struct {
	start, end int
	text       string
}

// applySplices returns src with every splice made. Splices may touch but
// not overlap; an insertion at the start of a replaced range goes before
// the replacement.
func applySplices(src []byte, ss []splice) ([]byte, error) {
	sort.SliceStable(ss, func(i, j int) bool {
		if ss[i].start != ss[j].start {
			return ss[i].start < ss[j].start
		}
		return ss[i].end < ss[j].end
	})
	var out bytes.Buffer
	out.Grow(len(src) + 256)
	cur := 0
	for _, s := range ss {
		if s.start < cur || s.end < s.start || s.end > len(src) {
			return nil, backend.Errorf(backend.EINTERNAL, "edit ranges overlap at byte %d", s.start)
		}
		out.Write(src[cur:s.start])
		out.WriteString(s.text)
		cur = s.end
	}
	out.Write(src[cur:])
	return out.Bytes(), nil
}

// editor collects the splices of one operation on a document.
type editor struct {
	d       *Document
	st      *style
	splices []splice
}

// add records a splice.
func (ed *editor) add(start, end int, text string) {
	ed.splices = append(ed.splices, splice{start, end, text})
}

// blankLine reports whether the line starting at off holds only white
// space.
func (d *Document) blankLine(off int) bool {
	if off >= len(d.src) {
		return false
	}
	return len(bytes.TrimSpace(d.src[off:d.lineEnd(off)])) == 0
}

// startsLine reports whether only spaces come before off on its line.
func (d *Document) startsLine(off int) bool {
	return len(bytes.Trim(d.src[d.lineStart(off):off], " \t")) == 0
}

// indentOf returns the column of off, as spaces to write.
func (d *Document) indentOf(off int) string { return strings.Repeat(" ", d.column(off)) }

// headStart returns where the comment lines right above the line starting
// at off begin (off when there are none): comment-only lines indented at
// least to col, with no blank line between.
func (d *Document) headStart(off, col int) int {
	start := off
	for l := d.lineOf(off) - 1; l >= 0 && d.lines[l] >= d.bounds.YAMLStart; l-- {
		line := d.src[d.lines[l]:d.lines[l+1]]
		t := bytes.TrimLeft(line, " \t")
		if len(t) == 0 || t[0] != '#' || len(line)-len(t) < col {
			break
		}
		start = d.lines[l]
	}
	return start
}

// lineRange returns the whole lines from a node starting at start (with
// its head comments) to the line holding end, with the line break.
func (d *Document) lineRange(start, end int) span {
	s := d.headStart(d.lineStart(start), d.column(start))
	e := d.lineEnd(end)
	if e > d.bounds.YAMLEnd {
		e = d.bounds.YAMLEnd
	}
	// Removing lines between two blank lines would leave two: take the
	// blank lines after with them.
	before := s > d.bounds.YAMLStart && d.blankLine(d.lineStart(s-1))
	if before || s == d.bounds.YAMLStart {
		for e < d.bounds.YAMLEnd && d.blankLine(e) {
			e = d.lineEnd(e)
		}
	}
	return span{s, e}
}

// guard makes the style quote multi-line strings when a comment line comes
// next after offset at (blank lines skipped).
func (ed *editor) guard(at int) {
	d := ed.d
	p := at
	if !d.startsLine(at) || at == d.lineEnd(at) {
		p = d.lineEnd(at)
	}
	for p < d.bounds.YAMLEnd && d.blankLine(p) {
		p = d.lineEnd(p)
	}
	ed.st.quoteLines = p < d.bounds.YAMLEnd && bytes.HasPrefix(bytes.TrimLeft(d.src[p:], " \t"), []byte("#"))
}
