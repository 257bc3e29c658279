package edit

import (
	"slices"

	"factorydesk/backend"
)

// steps returns the model's steps list.
func steps(model map[string]any) []any {
	l, _ := model["steps"].([]any)
	return l
}

// needsOf returns a step's needs as texts.
func needsOf(step any) []string {
	m, _ := step.(map[string]any)
	var out []string
	switch v := m["needs"].(type) {
	case []any:
		for _, n := range v {
			out = append(out, scalarText(n))
		}
	case nil:
	default:
		out = append(out, scalarText(v))
	}
	return out
}

// toList turns texts into a plain list.
func toList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// opAddStep adds a step.
func (ed *editor) opAddStep(op Op, model map[string]any) error {
	if op.Step == "" || op.Role == "" {
		return backend.Errorf(backend.EINVALID, "add-step: give the step's id and --role")
	}
	if stepIndex(model, op.Step) >= 0 {
		return backend.Errorf(backend.EINVALID, "add-step: a step %q exists already", op.Step)
	}
	step := map[string]any{"id": op.Step, "role": op.Role}
	if len(op.Needs) > 0 {
		step["needs"] = toList(op.Needs)
	}
	if len(op.Writes) > 0 {
		step["writes"] = toList(op.Writes)
	}
	list := steps(model)
	at := len(list)
	if op.Index != nil {
		at = max(0, min(*op.Index, len(list)))
	}
	if _, ok := model["steps"]; ok && model["steps"] != nil {
		if _, isList := model["steps"].([]any); !isList {
			return backend.Errorf(backend.EINVALID, "add-step: steps is not a list")
		}
	}
	model["steps"] = slices.Insert(slices.Clone(list), at, any(step))
	e := ed.d.root.get("steps")
	if ed.d.root == nil || e == nil || e.value.kind != kindSeq || len(e.value.items) == 0 {
		return ed.setAt(path{"steps"}, model["steps"])
	}
	ed.insertItems(e.value, slot{what: "steps"}, at-1, []any{step})
	return nil
}

// opRemoveStep removes a step and its id from every needs list.
func (ed *editor) opRemoveStep(id string, model map[string]any) error {
	it, list, err := ed.stepItem(id)
	if err != nil {
		return err
	}
	i := indexOf(list.items, it)
	model["steps"] = slices.Delete(slices.Clone(steps(model)), i, i+1)
	if len(list.items) == 1 {
		ed.replace(list, ed.entrySlot(ed.d.root, ed.d.root.get("steps"), "blueprint"), []any{})
	} else {
		ed.removeItems(list, []int{i})
	}
	return ed.dropNeeds(id, "", model)
}

// dropNeeds removes need from the needs of every step (of only step to,
// when given), removing a needs list that empties.
func (ed *editor) dropNeeds(need, to string, model map[string]any) error {
	for _, st := range steps(model) {
		m, _ := st.(map[string]any)
		if m == nil || to != "" && scalarText(m["id"]) != to {
			continue
		}
		old := needsOf(m)
		kept := slices.DeleteFunc(slices.Clone(old), func(s string) bool { return s == need })
		if len(kept) == len(old) {
			continue
		}
		if len(kept) == 0 {
			delete(m, "needs")
		} else {
			m["needs"] = toList(kept)
		}
		if err := ed.setNeeds(scalarText(m["id"]), kept); err != nil {
			return err
		}
	}
	return nil
}

// setNeeds writes a step's needs in the text: removing the key when empty.
func (ed *editor) setNeeds(id string, needs []string) error {
	it, list, err := ed.stepItem(id)
	if err != nil {
		return err
	}
	m := it.value
	e := m.get("needs")
	if len(needs) == 0 {
		if e != nil {
			ed.removeEntries(m, []int{indexOf(m.entries, e)})
		}
		return nil
	}
	if e == nil {
		ed.addEntry(m, ed.itemSlot(list, it, "steps"), "needs", toList(needs), nil)
		return nil
	}
	old := ed.d.plainModel()
	ov, _, _ := lookup(old, path{"steps", id, "needs"})
	ed.patch(e.value, ed.entrySlot(m, e, "step"), ov, toList(needs))
	return nil
}

// opRename renames a step; every needs reference follows.
func (ed *editor) opRename(from, to string, model map[string]any) error {
	if to == "" {
		return backend.Errorf(backend.EINVALID, "rename: give the new id")
	}
	if from == to {
		return nil
	}
	if stepIndex(model, to) >= 0 {
		return backend.Errorf(backend.EINVALID, "rename: a step %q exists already", to)
	}
	it, list, err := ed.stepItem(from)
	if err != nil {
		return err
	}
	i := indexOf(list.items, it)
	steps(model)[i].(map[string]any)["id"] = to
	e := it.value.get("id")
	ed.patch(e.value, ed.entrySlot(it.value, e, "step"), from, to)
	orig := steps(ed.d.plainModel())
	for k, st := range steps(model) {
		m := st.(map[string]any)
		old := needsOf(m)
		if !slices.Contains(old, from) {
			continue
		}
		renamed := slices.Clone(old)
		for k, n := range renamed {
			if n == from {
				renamed[k] = to
			}
		}
		m["needs"] = toList(renamed)
		if err := ed.setNeeds(scalarText(orig[k].(map[string]any)["id"]), renamed); err != nil {
			return err
		}
	}
	return nil
}

// opConnect makes to need from.
func (ed *editor) opConnect(from, to string, model map[string]any) error {
	if from == "" || to == "" {
		return backend.Errorf(backend.EINVALID, "connect: give the upstream step and the step that needs it")
	}
	if stepIndex(model, from) < 0 {
		return unknownStep(from, model)
	}
	i := stepIndex(model, to)
	if i < 0 {
		return unknownStep(to, model)
	}
	m := steps(model)[i].(map[string]any)
	needs := needsOf(m)
	if slices.Contains(needs, from) {
		return nil
	}
	needs = append(needs, from)
	m["needs"] = toList(needs)
	return ed.setNeeds(to, needs)
}

// opDisconnect makes to no longer need from.
func (ed *editor) opDisconnect(from, to string, model map[string]any) error {
	if stepIndex(model, to) < 0 {
		return unknownStep(to, model)
	}
	if stepIndex(model, from) < 0 && !slices.Contains(needsOf(steps(model)[stepIndex(model, to)]), from) {
		return unknownStep(from, model)
	}
	return ed.dropNeeds(from, to, model)
}
