package edit

import (
	"bytes"
	"fmt"
	"sort"
	"testing"

	"factorydesk/backend"
)

// opGen turns fuzz bytes into edit operations on a document's model.
type opGen struct {
	data []byte
	pos  int
}

// next returns the next byte, 0 when they run out.
func (g *opGen) next() int {
	if g.pos >= len(g.data) {
		return 0
	}
	b := g.data[g.pos]
	g.pos++
	return int(b)
}

// pick returns one of list.
func pick[T any](g *opGen, list []T) T { return list[g.next()%len(list)] }

var (
	fuzzStrings = []any{"plain", "needs: quotes", "it's", `say "hi"`, "über 概要", "#hash", "two\nlines\n", "- dash", "true", "1.5", "", " padded ", "a,b", "[x]", "tab\there", "x: y # z"}
	fuzzValues  = []any{int64(0), int64(3), int64(-2), 0.5, 1.0, true, nil, []any{}, []any{"a"}, []any{"a", "b c"}, map[string]any{}, map[string]any{"k": "v"}, map[string]any{"edition": []any{"a", "b"}}}
	fuzzKeys    = []string{"title", "model", "output", "scope", "scope.tenant", "scope.edition", "secrets", "budget", "budget.max_tokens", "checks", "options", "options.temperature", "options.stop", "timeout", "env", "description", "skills"}
	fuzzStepKey = []string{"role", "model", "uses", "needs", "writes", "validate", "retries", "review", "when", "when.edition", "options.seed", "options", "id"}
)

// value returns a random value.
func (g *opGen) value() any {
	if g.next()%2 == 0 {
		return pick(g, fuzzStrings)
	}
	v := pick(g, fuzzValues)
	return clone(v)
}

// stepID returns an id of a step of the model, or a new one.
func (g *opGen) stepID(model map[string]any) string {
	var ids []string
	for _, s := range steps(model) {
		if m, ok := s.(map[string]any); ok {
			ids = append(ids, scalarText(m["id"]))
		}
	}
	if len(ids) == 0 || g.next()%8 == 0 {
		return fmt.Sprintf("n%d", g.next())
	}
	return pick(g, ids)
}

// op returns a random operation on model.
func (g *opGen) op(model map[string]any) Op {
	idx := g.next() % 6
	switch g.next() % 12 {
	case 0, 1:
		return Op{Op: "set", Key: pick(g, fuzzKeys), Value: g.value()}
	case 2, 3:
		return Op{Op: "set", Key: "steps." + g.stepID(model) + "." + pick(g, fuzzStepKey), Value: g.value()}
	case 4:
		if g.next()%2 == 0 {
			return Op{Op: "unset", Key: pick(g, fuzzKeys)}
		}
		return Op{Op: "unset", Key: "steps." + g.stepID(model) + "." + pick(g, fuzzStepKey)}
	case 5:
		return Op{Op: "add-step", Step: fmt.Sprintf("s%d", g.next()), Role: "architect", Needs: []string{g.stepID(model)}, Index: &idx}
	case 6:
		return Op{Op: "remove-step", Step: g.stepID(model)}
	case 7:
		return Op{Op: "rename", Step: g.stepID(model), To: fmt.Sprintf("r%d", g.next())}
	case 8:
		return Op{Op: "connect", From: g.stepID(model), To: g.stepID(model)}
	case 9:
		return Op{Op: "disconnect", From: g.stepID(model), To: g.stepID(model)}
	case 10:
		return Op{Op: "duplicate-step", Step: g.stepID(model), To: fmt.Sprintf("d%d", g.next())}
	}
	return Op{Op: "move-step", Step: g.stepID(model), Index: &idx}
}

// FuzzEdit applies random edit sequences to random corpus files: each edit
// is refused as invalid input, or yields a file that parses, equals the
// model the edit intends (Apply checks that) and keeps every line no splice
// touched byte for byte.
func FuzzEdit(f *testing.F) {
	files := corpus(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for i := range 8 {
		f.Add([]byte{byte(i * 7), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	}
	f.Add([]byte("orders-service add step connect rename"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &opGen{data: data}
		name := names[g.next()%len(names)]
		d, err := Open(kindOfCorpus(name), files[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for range 1 + g.next()%4 {
			op := g.op(d.plainModel())
			nd, ss, err := d.apply(op, Options{AllowProblems: g.next()%2 == 0})
			if err != nil {
				if backend.ErrorCode(err) != backend.EINVALID {
					t.Fatalf("%s: %+v: %v", name, op, err)
				}
				continue
			}
			checkUntouched(t, d, nd, ss)
			d = nd
		}
	})
}

// checkUntouched fails when a line of before that no splice touched is not
// in after, byte for byte, where the splices put it.
func checkUntouched(t *testing.T, before, after *Document, ss []splice) {
	t.Helper()
	src := before.src
	for l := range before.lines {
		ls := before.lines[l]
		le := len(src)
		if l+1 < len(before.lines) {
			le = before.lines[l+1]
		}
		delta, touched := 0, false
		for _, s := range ss {
			switch {
			case s.start < le && s.end > ls, s.start == s.end && s.start > ls && s.start < le:
				touched = true
			case s.end <= ls:
				delta += len(s.text) - (s.end - s.start)
			}
		}
		if touched {
			continue
		}
		at := ls + delta
		if at < 0 || at+le-ls > len(after.src) || !bytes.Equal(after.src[at:at+le-ls], src[ls:le]) {
			t.Fatalf("untouched line %d changed: %q", l+1, src[ls:le])
		}
	}
}

// FuzzValidateDraft feeds arbitrary bytes to ValidateDraft, as a blueprint
// and as a role: it never panics and always answers.
func FuzzValidateDraft(f *testing.F) {
	for _, src := range corpus(f) {
		f.Add(src)
	}
	f.Add([]byte("---\nsteps: [\n---\n"))
	f.Add([]byte("---\na: &a [*a]\n---\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		for _, p := range []string{"blueprints/x.md", "blueprints/roles/x.md"} {
			r := ValidateDraft(p, text, nil)
			if r.Hash == "" || r.Diagnostics == nil {
				t.Fatalf("incomplete result %+v", r)
			}
		}
	})
}
