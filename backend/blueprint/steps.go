package blueprint

import (
	"strconv"
	"strings"

	"factorydesk/backend"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/goccy/go-yaml/ast"
)

// stepKeys are the keys of a step.
var stepKeys = []string{
	"id", "role", "model", "options", "needs", "uses", "when", "writes", "validate", "retries", "max_turns", "max_answer_kb", "review",
}

// stepPos holds the file positions of a step's references, for the checks
// that need the whole blueprint.
type stepPos struct {
	start  pos
	id     pos
	role   pos
	uses   []pos
	needs  []pos
	writes []pos
	when   map[string]pos
}

// decodeSteps decodes the steps list.
func (c *checker) decodeSteps(mv *ast.MappingValueNode) {
	seq, ok := unwrap(mv.Value).(*ast.SequenceNode)
	if isNull(mv.Value) {
		c.add(c.valuePos(mv), "steps: empty: add at least one step with an id and a role")
		return
	}
	if !ok {
		c.add(c.valuePos(mv), "steps: want a list of steps, got %s", kind(mv.Value))
		return
	}
	if len(seq.Values) == 0 {
		c.add(c.valuePos(mv), "steps: empty list: add at least one step")
		return
	}
	for i, n := range seq.Values {
		entries, ok := mapping(n)
		if !ok {
			c.add(c.pos(n), "steps: item %d: want a mapping with id and role, got %s", i+1, kind(n))
			continue
		}
		c.decodeStep(i+1, c.pos(n), entries)
	}
}

// decodeStep decodes one step; n is its 1-based index in the list.
func (c *checker) decodeStep(n int, start pos, entries []*ast.MappingValueNode) {
	s := backend.Step{Line: start.line}
	sp := stepPos{start: start}
	for _, mv := range entries {
		key := keyName(mv)
		switch key {
		case "id":
			s.ID, _ = c.str(key, mv)
			sp.id = c.valuePos(mv)
			if isNull(mv.Value) {
				c.add(sp.id, "step %d: empty id: write an id like code", n)
			}
		case "role":
			s.Role, _ = c.str(key, mv)
			sp.role = c.valuePos(mv)
			if isNull(mv.Value) {
				c.add(sp.role, "step %s: empty role: name a role of blueprints/roles/", stepName(n, s.ID))
			}
		case "model":
			if m, ok := c.str(key, mv); ok {
				s.Model = m
				checkModel(c.linter, c.valuePos(mv), m)
			}
		case "options":
			s.Options = c.decodeOptions(mv)
		case "uses":
			s.Uses, sp.uses, _ = c.strList(key, mv)
		case "needs":
			s.Needs, sp.needs, _ = c.strList(key, mv)
		case "writes":
			s.Writes, sp.writes = c.decodeWrites(mv)
		case "validate":
			s.Validate = c.decodeValidate(mv)
		case "retries":
			s.Retries, _ = c.integer(key, mv)
		case "max_turns":
			s.MaxTurns = maxTurns(c.linter, mv)
		case "max_answer_kb":
			s.MaxAnswerKB = c.maxAnswerKB(mv)
		case "review":
			s.Review = c.decodeReview(mv)
		case "when":
			s.When, sp.when = c.decodeWhen(mv)
		default:
			c.unknownKey(mv, "a step", stepKeys)
		}
	}
	switch {
	case sp.id == (pos{}):
		c.add(start, "step %d: missing id: add id: <name>", n)
	case s.ID == "": // reported above as empty or of the wrong type
	case !idPattern.MatchString(s.ID):
		c.add(sp.id, "step %d: bad id %q: use lowercase letters, digits and dashes, e.g. code", n, s.ID)
	}
	if sp.role == (pos{}) {
		c.add(start, "step %s: missing role: add role: <name>", stepName(n, s.ID))
	}
	c.bp.Steps = append(c.bp.Steps, s)
	c.steps = append(c.steps, sp)
}

// stepName names a step in messages: its id, else its index.
func stepName(n int, id string) string {
	if id != "" {
		return strconv.Quote(id)
	}
	return strconv.Itoa(n)
}

// decodeWrites decodes and checks the globs a step may write, and returns
// them with their positions.
func (c *checker) decodeWrites(mv *ast.MappingValueNode) ([]string, []pos) {
	globs, where, _ := c.strList("writes", mv)
	for i, g := range globs {
		p := strings.TrimPrefix(g, "!")
		switch {
		case strings.TrimSpace(p) == "":
			c.add(where[i], "writes: empty glob: remove it or write a path like \"**/*.go\"")
		case !doublestar.ValidatePattern(p):
			c.add(where[i], "writes: bad glob %q: check its brackets, braces and escapes", g)
		case strings.HasPrefix(p, "/") || hasDotDot(p):
			c.add(where[i], "writes: %q can never match: use a path relative to the output folder", g)
		}
	}
	return globs, where
}

// decodeValidate decodes and checks a step's gate commands.
func (c *checker) decodeValidate(mv *ast.MappingValueNode) []string {
	cmds, where, ok := c.strList("validate", mv)
	if ok && len(cmds) == 0 && len(where) == 0 {
		if seq, isSeq := unwrap(mv.Value).(*ast.SequenceNode); isSeq && len(seq.Values) == 0 {
			c.add(c.valuePos(mv), "validate: empty list: remove the key or list at least one command")
		}
	}
	out := cmds[:0:0]
	for i, cmd := range cmds {
		if strings.TrimSpace(cmd) == "" {
			c.add(where[i], "validate: empty command: remove it or write a command like \"go test ./...\"")
			continue
		}
		out = append(out, cmd)
	}
	return out
}

// decodeReview decodes a step's review mode: "required", or "none" (kept as
// "").
func (c *checker) decodeReview(mv *ast.MappingValueNode) string {
	r, ok := c.str("review", mv)
	if !ok {
		return ""
	}
	switch r {
	case "required":
		return r
	case "none", "":
		return ""
	}
	c.add(c.valuePos(mv), "review: want \"required\" or \"none\", got %q", r)
	return ""
}

// decodeWhen decodes a step's condition: scope key to allowed values, each
// a list or a single value.
func (c *checker) decodeWhen(mv *ast.MappingValueNode) (map[string][]string, map[string]pos) {
	if isNull(mv.Value) {
		return nil, nil
	}
	entries, ok := mapping(mv.Value)
	if !ok {
		c.add(c.valuePos(mv), "when: want a mapping like {edition: [standard]}, got %s", kind(mv.Value))
		return nil, nil
	}
	when := make(map[string][]string, len(entries))
	where := make(map[string]pos, len(entries))
	for _, e := range entries {
		k := keyName(e)
		where[k] = c.pos(e.Key)
		if v, isScalar := scalar(e.Value); isScalar {
			when[k] = []string{v}
			continue
		}
		vals, _, isList := c.strList("when."+k, e)
		if !isList {
			if isNull(e.Value) {
				c.add(c.pos(e.Key), "when.%s: want a value or a list of values", k)
			}
			continue
		}
		if len(vals) == 0 {
			c.add(c.valuePos(e), "when.%s: empty list: the step would never run; list the values it runs for", k)
		}
		when[k] = vals
	}
	return when, where
}

// maxAnswerKB decodes and checks a step's answer limit.
func (c *checker) maxAnswerKB(mv *ast.MappingValueNode) int {
	n, ok := c.integer("max_answer_kb", mv)
	if ok && (n < 1 || n > backend.MaxMaxAnswerKB) {
		c.add(c.valuePos(mv), "max_answer_kb: want 1 to %d KiB per model answer, got %d", backend.MaxMaxAnswerKB, n)
		return 0
	}
	return n
}
