package edit

import (
	"strings"

	"factorydesk/backend"
)

// rootSlot returns the slot of the top-level mapping.
func (ed *editor) rootSlot() slot { return slot{what: string(ed.d.kind)} }

// find walks the tree along p[:n] and returns the node reached and its
// slot; it fails on an alias (whose target the edit would change too).
func (ed *editor) find(p path, n int) (*node, slot, error) {
	cur, s := ed.d.root, ed.rootSlot()
	for k := 0; k < n; k++ {
		if k == 1 && p[0] == "steps" {
			it, steps, err := ed.stepItem(p[1])
			if err != nil {
				return nil, s, err
			}
			cur, s = it.value, ed.itemSlot(steps, it, "steps")
			continue
		}
		if cur == nil || cur.kind != kindMap {
			return nil, s, backend.Errorf(backend.EINVALID, "%s is not a mapping", strings.Join(p[:k], "."))
		}
		e := cur.get(p[k])
		if e == nil {
			return nil, s, nil
		}
		cur, s = e.value, ed.entrySlot(cur, e, s.what)
		if cur.kind == kindAlias {
			return nil, s, backend.Errorf(backend.EINVALID, "%s is an alias (*%s): edit the value it names instead", strings.Join(p[:k+1], "."), cur.alias)
		}
	}
	return cur, s, nil
}

// stepItem returns the item of the step with the given id and the steps
// list.
func (ed *editor) stepItem(id string) (*item, *node, error) {
	i := stepIndex(ed.d.plainModel(), id)
	if i < 0 {
		return nil, nil, unknownStep(id, ed.d.plainModel())
	}
	e := ed.d.root.get("steps")
	if e == nil || e.value.kind != kindSeq || i >= len(e.value.items) {
		return nil, nil, backend.Errorf(backend.EINVALID, "steps is not a list")
	}
	it := e.value.items[i]
	if it.value.kind != kindMap {
		return nil, nil, backend.Errorf(backend.EINVALID, "step %s is not a mapping", id)
	}
	return it, e.value, nil
}

// opSet sets the value at key.
func (ed *editor) opSet(key string, v any, model map[string]any) error {
	p, err := parseKey(key)
	if err != nil {
		return err
	}
	if len(p) == 3 && p[0] == "steps" && p[2] == "id" {
		id, ok := v.(string)
		if !ok {
			return backend.Errorf(backend.EINVALID, "%s: want a step id like code", key)
		}
		return ed.opRename(p[1], id, model)
	}
	if err := setModel(model, p, v); err != nil {
		return err
	}
	return ed.setAt(p, v)
}

// setAt writes v at p in the text, adding the mappings on the way.
func (ed *editor) setAt(p path, v any) error {
	if ed.d.root == nil {
		d := ed.d
		nested := nest(p[1:], v)
		line := ed.st.key(p[0], false) + ":" + ed.st.after(nested, 0, childKind(string(d.kind), p[0])) + ed.st.eol
		ed.add(d.bounds.YAMLEnd, d.bounds.YAMLEnd, line)
		return nil
	}
	for k := len(p) - 1; k >= 0; k-- {
		n, s, err := ed.find(p, k)
		if err != nil {
			return err
		}
		if n == nil {
			continue
		}
		if k == 1 && p[0] == "steps" {
			continue
		}
		if n.kind != kindMap {
			return ed.replaceAt(p, k, v)
		}
		e := n.get(p[k])
		rest := nest(p[k+1:], v)
		if e == nil {
			ed.addEntry(n, s, p[k], rest, nil)
			return nil
		}
		old, _, _ := lookup(ed.d.plainModel(), p[:k+1])
		ed.patch(e.value, ed.entrySlot(n, e, s.what), old, rest)
		return nil
	}
	return nil
}

// replaceAt writes the value for p[k:] in place of the non-mapping node
// reached by p[:k].
func (ed *editor) replaceAt(p path, k int, v any) error {
	n, s, err := ed.find(p, k)
	if err != nil {
		return err
	}
	ed.replace(n, s, nest(p[k:], v))
	return nil
}

// nest wraps v in a mapping for each part of p: nest([a b], v) = {a: {b: v}}.
func nest(p path, v any) any {
	for k := len(p) - 1; k >= 0; k-- {
		v = map[string]any{p[k]: v}
	}
	return v
}

// opUnset removes the key at key; an absent key is left alone.
func (ed *editor) opUnset(key string, model map[string]any) error {
	p, err := parseKey(key)
	if err != nil {
		return err
	}
	if len(p) == 3 && p[0] == "steps" && p[2] == "id" {
		return backend.Errorf(backend.EINVALID, "%s: a step needs its id; use remove-step", key)
	}
	_, parent, ok := lookup(model, p)
	if !ok {
		if len(p) > 1 && p[0] == "steps" && stepIndex(model, p[1]) < 0 {
			return unknownStep(p[1], model)
		}
		return nil
	}
	delete(parent, p[len(p)-1])
	n, s, err := ed.find(p, len(p)-1)
	if err != nil {
		return err
	}
	e := n.get(p[len(p)-1])
	switch {
	case n.flow:
		ed.removeEntries(n, []int{indexOf(n.entries, e)})
	case len(n.entries) == 1 && n != ed.d.root:
		ed.replace(n, s, map[string]any{})
	default:
		ed.removeEntry(n, e)
	}
	return nil
}
