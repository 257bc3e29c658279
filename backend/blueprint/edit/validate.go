package edit

import (
	"time"
	"unicode/utf8"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"

	"github.com/goccy/go-yaml/ast"
)

// Result is what ValidateDraft finds in a draft of a blueprint or a role.
type Result struct {
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	Hash string `json:"hash"` // sha256 hex of the draft's bytes
	// Blueprint or Role is the model read from the draft. When Partial, the
	// front matter did not parse and the model is what its lines before the
	// error hold.
	Blueprint   *Model              `json:"blueprint,omitempty"`
	Role        *backend.Role       `json:"role,omitempty"`
	Partial     bool                `json:"partial"`
	Diagnostics backend.Diagnostics `json:"diagnostics"`
	FrontMatter Lines               `json:"front_matter"` // lines of the YAML between the --- lines
	Steps       []StepLines         `json:"steps"`        // the lines of each step, in file order
	Sections    []Section           `json:"sections"`     // headings of the body with their lines
}

// Lines is a range of 1-based lines, both included; zero when unknown.
type Lines struct {
	Line int `json:"line"`
	End  int `json:"end"`
}

// StepLines is where a step's text lies.
type StepLines struct {
	ID string `json:"id"`
	Lines
}

// Section is a heading of the body: its id (what `uses` names), title,
// level and lines.
type Section struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Level int    `json:"level"`
	Lines
}

// Model is a blueprint as the editor reads it.
type Model struct {
	ID       string               `json:"id"`
	Title    string               `json:"title,omitempty"`
	Scope    map[string]string    `json:"scope,omitempty"`
	Model    string               `json:"model,omitempty"`
	Options  backend.ModelOptions `json:"options,omitzero"`
	Output   string               `json:"output,omitempty"`
	Secrets  []string             `json:"secrets,omitempty"`
	Budget   backend.Budget       `json:"budget,omitzero"`
	Steps    []backend.Step       `json:"steps"`
	Checks   []string             `json:"checks,omitempty"`
	Timeout  string               `json:"timeout,omitempty"`
	Sandbox  string               `json:"sandbox,omitempty"`
	Env      []string             `json:"env,omitempty"`
	Sections []Section            `json:"sections"`
}

// modelOf returns the editor's view of a parsed blueprint.
func modelOf(bp *backend.Blueprint) *Model {
	m := &Model{ID: bp.ID, Title: bp.Title, Scope: bp.Scope, Model: bp.Model, Options: bp.Options, Output: bp.Output,
		Secrets: bp.Secrets, Budget: bp.Budget, Steps: bp.Steps, Checks: bp.Checks, Sandbox: bp.Sandbox, Env: bp.Env,
		Sections: sectionsOf(bp.Sections)}
	if m.Steps == nil {
		m.Steps = []backend.Step{}
	}
	if bp.GateTimeout > 0 {
		m.Timeout = bp.GateTimeout.Round(time.Second).String()
	}
	return m
}

// sectionsOf returns sections without their text.
func sectionsOf(ss []backend.Section) []Section {
	out := make([]Section, len(ss))
	for i, s := range ss {
		out[i] = Section{ID: s.ID, Title: s.Title, Level: s.Level, Lines: Lines{s.Line, s.End}}
	}
	return out
}

// ValidateDraft parses and lints the text of the file at path (a blueprint,
// or a role under blueprints/roles/) as an editor holds it, unsaved: every
// diagnostic with its line and column and, where there is one, the step
// and field it belongs to. Text that does not parse still gives the model
// its first lines hold, marked Partial, with the error. roles is the role
// library (nil skips the role checks).
func ValidateDraft(path string, text []byte, roles map[string]*backend.Role) Result {
	kind := KindOf(path)
	d, err := open(kind, text)
	if err == nil {
		return d.Validate(path, roles)
	}
	r := Result{Path: path, Kind: kind, Hash: Hash(text), Partial: true, Steps: []StepLines{}, Sections: []Section{}}
	r.Diagnostics = lint(kind, path, text, roles, &r)
	if b, err := blueprint.SplitFrontMatter(text); err == nil {
		r.FrontMatter = Lines{2, b.BodyLine - 2}
		r.Sections = sectionsOf(blueprint.Sections(text[b.BodyStart:], b.BodyLine))
		r.recover(path, text, b, roles)
	}
	if r.Diagnostics == nil {
		r.Diagnostics = backend.Diagnostics{}
	}
	return r
}

// recover reads the model from the longest start of the front matter that
// parses, cutting before each line the YAML reader stops at.
func (r *Result) recover(path string, text []byte, b blueprint.Bounds, roles map[string]*backend.Role) {
	stop := 0
	for _, dg := range r.Diagnostics {
		if stop == 0 || dg.Line < stop {
			stop = dg.Line
		}
	}
	lines := lineStarts(text)
	for try := 0; try < 16 && stop > 2; try++ {
		cut := lines[min(stop-1, len(lines)-1)]
		if cut <= b.YAMLStart {
			return
		}
		cut = max(cut, b.YAMLStart)
		draft := append(append(append([]byte(nil), text[:cut]...), "---\n"...), text[b.BodyStart:]...)
		var part Result
		diags := lint(r.Kind, path, draft, roles, &part)
		if part.Blueprint != nil || part.Role != nil {
			r.Blueprint, r.Role = part.Blueprint, part.Role
			if d, err := open(r.Kind, draft); err == nil {
				r.Steps = d.stepLines()
			}
			return
		}
		next := stop
		for _, dg := range diags {
			if dg.Line < next {
				next = dg.Line
			}
		}
		if next >= stop {
			next = stop - 1
		}
		stop = next
	}
}

// lint runs the linter of kind on text (whose front matter f holds, when
// parsed already) and puts the model in r.
func lint(kind Kind, path string, text []byte, roles map[string]*backend.Role, r *Result, f ...*ast.File) backend.Diagnostics {
	var parsed *ast.File
	if len(f) > 0 {
		parsed = f[0]
	}
	if kind == KindRole {
		role, diags := blueprint.ParseRoleParsed(path, text, parsed)
		r.Role = role
		return diags
	}
	bp, diags := blueprint.ParseParsed(path, text, parsed, roles)
	if bp != nil {
		r.Blueprint = modelOf(bp)
	}
	return diags
}

// Validate lints the document and tells each diagnostic's step and field.
func (d *Document) Validate(path string, roles map[string]*backend.Role) Result {
	r := Result{Path: path, Kind: d.kind, Hash: Hash(d.src), Steps: d.stepLines()}
	r.Diagnostics = lint(d.kind, path, d.src, roles, &r, d.file)
	for i := range r.Diagnostics {
		r.Diagnostics[i].Step, r.Diagnostics[i].Field = d.attribute(r.Diagnostics[i])
	}
	if r.Diagnostics == nil {
		r.Diagnostics = backend.Diagnostics{}
	}
	r.FrontMatter = Lines{d.lineOf(d.bounds.YAMLStart) + 1, d.lineOf(d.bounds.YAMLEnd)}
	r.Sections = sectionsOf(blueprint.Sections(d.src[d.bounds.BodyStart:], d.bounds.BodyLine))
	return r
}

// stepLines returns the lines of each step.
func (d *Document) stepLines() []StepLines {
	out := []StepLines{}
	e := d.root.get("steps")
	if e == nil || e.value.kind != kindSeq {
		return out
	}
	for _, it := range e.value.items {
		out = append(out, StepLines{ID: it.stepID(), Lines: Lines{d.lineOf(it.start()) + 1, d.lineOf(it.value.end) + 1}})
	}
	return out
}

// offset returns the byte offset of a 1-based line and column (counted in
// characters).
func (d *Document) offset(line, col int) int {
	if line < 1 || line > len(d.lines) {
		return -1
	}
	off := d.lines[line-1]
	for c := 1; c < col && off < len(d.src) && d.src[off] != '\n'; c++ {
		_, size := utf8.DecodeRune(d.src[off:])
		off += size
	}
	return off
}

// attribute returns the step id and the field a diagnostic points into.
func (d *Document) attribute(dg backend.Diagnostic) (step, field string) {
	off := d.offset(dg.Line, dg.Col)
	if d.root == nil || off < d.bounds.YAMLStart || off >= d.bounds.YAMLEnd {
		return "", ""
	}
	e := d.entryAt(d.root.entries, off)
	if e == nil {
		return "", ""
	}
	if e.name != "steps" || e.value.kind != kindSeq {
		return "", e.name + d.subField(e.value, off)
	}
	for _, it := range e.value.items {
		if off < it.start() || off >= d.lineEnd(it.value.end) {
			continue
		}
		step = it.stepID()
		if it.value.kind != kindMap {
			return step, ""
		}
		if se := d.entryAt(it.value.entries, off); se != nil {
			return step, se.name + d.subField(se.value, off)
		}
		return step, ""
	}
	return "", "steps"
}

// entryAt returns the entry whose key or value holds off, else the one
// whose last line does.
func (d *Document) entryAt(entries []*entry, off int) *entry {
	for _, e := range entries {
		if off >= e.key.start && off <= max(e.value.end, e.colon.end) {
			return e
		}
	}
	for _, e := range entries {
		if off >= e.key.start && off < d.lineEnd(max(e.value.end, e.colon.end)) {
			return e
		}
	}
	return nil
}

// subField returns ".key" for the key of mapping n that off lies in.
func (d *Document) subField(n *node, off int) string {
	if n.kind != kindMap {
		return ""
	}
	for _, e := range n.entries {
		if off >= e.key.start && off < e.value.end || off >= e.key.start && off < e.colon.end {
			return "." + e.name
		}
	}
	return ""
}
