package edit

import (
	"math"
	"strings"

	"factorydesk/backend"
)

// equal reports whether two plain values are the same YAML data (mappings
// compared without order).
func equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	}
	return a == b
}

// clone returns a deep copy of a plain value.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

// path is a parsed key like steps.code.retries: its parts, with the step
// id of a steps.ID part resolved against the model.
type path []string

// parseKey splits a key at its dots.
func parseKey(key string) (path, error) {
	parts := strings.Split(key, ".")
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil, backend.Errorf(backend.EINVALID, "key %q: empty part; write keys like title, scope.tenant or steps.code.retries", key)
		}
	}
	if parts[0] == "steps" && len(parts) == 2 {
		return nil, backend.Errorf(backend.EINVALID, "key %q names a whole step: use add-step, remove-step or steps.%s.FIELD", key, parts[1])
	}
	return parts, nil
}

// stepIndex returns the index of the step with the given id in a model.
func stepIndex(model map[string]any, id string) int {
	steps, _ := model["steps"].([]any)
	for i, s := range steps {
		if m, ok := s.(map[string]any); ok && scalarText(m["id"]) == id {
			return i
		}
	}
	return -1
}

// scalarText returns a scalar as the text a linter reads.
func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case map[string]any, []any:
		return ""
	}
	return strings.TrimSpace(formatScalar(v))
}

// formatScalar writes a number or boolean.
func formatScalar(v any) string { return (&style{}).scalar(v, stylePlain, false) }

// lookup returns the value at p in the model (steps addressed by id), the
// mapping holding it and whether it is there.
func lookup(model map[string]any, p path) (any, map[string]any, bool) {
	var cur any = model
	var parent map[string]any
	for k := 0; k < len(p); k++ {
		if k == 1 && p[0] == "steps" {
			steps, _ := model["steps"].([]any)
			i := stepIndex(model, p[1])
			if i < 0 {
				return nil, nil, false
			}
			parent, cur = nil, steps[i]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, nil, false
		}
		parent = m
		v, ok := m[p[k]]
		if !ok {
			return nil, m, false
		}
		cur = v
	}
	return cur, parent, true
}

// setModel sets the value at p, making the mappings on the way.
func setModel(model map[string]any, p path, v any) error {
	cur := model
	for k := 0; k < len(p)-1; k++ {
		if k == 0 && p[0] == "steps" {
			continue
		}
		if k == 1 && p[0] == "steps" {
			steps, _ := model["steps"].([]any)
			i := stepIndex(model, p[1])
			if i < 0 {
				return unknownStep(p[1], model)
			}
			m, ok := steps[i].(map[string]any)
			if !ok {
				return backend.Errorf(backend.EINVALID, "step %s is not a mapping", p[1])
			}
			cur = m
			continue
		}
		next, ok := cur[p[k]].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p[k]] = next
		}
		cur = next
	}
	cur[p[len(p)-1]] = v
	return nil
}

// unknownStep is the error for a step id the blueprint does not have.
func unknownStep(id string, model map[string]any) error {
	var ids []string
	steps, _ := model["steps"].([]any)
	for _, s := range steps {
		if m, ok := s.(map[string]any); ok {
			ids = append(ids, scalarText(m["id"]))
		}
	}
	return backend.Errorf(backend.EINVALID, "unknown step %q (steps: %s)", id, strings.Join(ids, ", "))
}
