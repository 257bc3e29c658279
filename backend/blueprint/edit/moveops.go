package edit

import (
	"bytes"
	"slices"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
)

// opDuplicate copies a step's text right after it, with the id to.
func (ed *editor) opDuplicate(id, to string, model map[string]any) error {
	if to == "" {
		return backend.Errorf(backend.EINVALID, "duplicate-step: give the copy's id")
	}
	if stepIndex(model, to) >= 0 {
		return backend.Errorf(backend.EINVALID, "duplicate-step: a step %q exists already", to)
	}
	it, list, err := ed.stepItem(id)
	if err != nil {
		return err
	}
	d := ed.d
	i := indexOf(list.items, it)
	cp := clone(steps(model)[i]).(map[string]any)
	cp["id"] = to
	model["steps"] = slices.Insert(slices.Clone(steps(model)), i+1, any(cp))
	idEntry := it.value.get("id")
	var start, end int
	if list.flow {
		start, end = it.value.start, it.value.end
	} else {
		start, end = d.lineStart(it.dash.start), d.lineEnd(it.value.end)
	}
	if d.anchorsIn(start, end) {
		return backend.Errorf(backend.EINVALID, "duplicate-step: step %s defines YAML anchors; copy it by hand", id)
	}
	text := string(d.src[start:idEntry.value.start]) + ed.st.scalar(to, idEntry.value.style, list.flow) + string(d.src[idEntry.value.end:end])
	if list.flow {
		ed.add(end, end, ed.flowSep(list)+text)
	} else {
		ed.add(end, end, text)
	}
	return nil
}

// anchorsIn reports whether [start, end) defines an anchor.
func (d *Document) anchorsIn(start, end int) bool {
	found := false
	d.walk(func(n *node) {
		if n.anchor != "" && n.start >= start && n.start < end {
			found = true
		}
	})
	return found
}

// walk calls fn for every node of the front matter.
func (d *Document) walk(fn func(*node)) {
	var rec func(n *node)
	rec = func(n *node) {
		fn(n)
		for _, e := range n.entries {
			rec(e.key)
			rec(e.value)
		}
		for _, it := range n.items {
			rec(it.value)
		}
	}
	if d.root != nil {
		rec(d.root)
	}
}

// opMove moves a step so that it ends at op.Index in the list.
func (ed *editor) opMove(op Op, model map[string]any) error {
	if op.Index == nil {
		return backend.Errorf(backend.EINVALID, "move-step: give the index the step moves to")
	}
	it, list, err := ed.stepItem(op.Step)
	if err != nil {
		return err
	}
	d := ed.d
	i := indexOf(list.items, it)
	to := max(0, min(*op.Index, len(list.items)-1))
	if to == i {
		return nil
	}
	l := slices.Clone(steps(model))
	st := l[i]
	l = slices.Insert(slices.Delete(l, i, i+1), to, st)
	model["steps"] = l
	rest := slices.Delete(slices.Clone(list.items), i, i+1)
	if list.flow {
		text := string(d.src[it.value.start:it.value.end])
		ed.removeFlowRuns([]int{i}, len(list.items), func(j int) (int, int) { return list.items[j].value.start, list.items[j].value.end })
		sep := ed.flowSep(list)
		if to < len(rest) {
			at := rest[to].value.start
			ed.add(at, at, text+sep)
		} else {
			at := rest[len(rest)-1].value.end
			ed.add(at, at, sep+text)
		}
		return nil
	}
	if !d.startsLine(it.dash.start) {
		return backend.Errorf(backend.EINVALID, "move-step: the steps list is not one step per line")
	}
	col := d.column(it.dash.start)
	start := d.headStart(d.lineStart(it.dash.start), col)
	end := d.lineEnd(it.value.end)
	text := string(d.src[start:end])
	ed.add(start, end, "")
	if to < len(rest) {
		at := d.headStart(d.lineStart(rest[to].dash.start), col)
		ed.add(at, at, text)
	} else {
		at := d.lineEnd(rest[len(rest)-1].value.end)
		ed.add(at, at, text)
	}
	return nil
}

// opSection replaces one section of the body, its heading included, and
// returns the new body.
func (ed *editor) opSection(id, text string) ([]byte, error) {
	d := ed.d
	body := d.src[d.bounds.BodyStart:]
	secs := blueprint.Sections(body, d.bounds.BodyLine)
	var names []string
	for _, s := range secs {
		names = append(names, s.ID)
		if s.ID != id {
			continue
		}
		start := d.lines[s.Line-1]
		end := len(d.src)
		if s.End < len(d.lines) {
			end = d.lines[s.End]
		}
		text = ed.eolText(text)
		if !strings.HasSuffix(text, "\n") && bytes.HasSuffix(d.src[start:end], []byte("\n")) {
			text += ed.st.eol
		}
		ed.add(start, end, text)
		out := append(append(append([]byte(nil), d.src[d.bounds.BodyStart:start]...), text...), d.src[end:]...)
		return out, nil
	}
	return nil, backend.Errorf(backend.EINVALID, "set-section: no section %q (sections: %s)", id, strings.Join(names, ", "))
}
