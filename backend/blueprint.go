package backend

import (
	"fmt"
	"strings"
	"time"
)

// Blueprint is a parsed blueprint file (format v1): what to build (the prose
// sections of its Markdown body) and how (scope, model, steps, checks, ...).
type Blueprint struct {
	Path    string // file path as given (used in diagnostics)
	Version string // sha256 hex of Source
	Source  []byte // the file's bytes, exactly

	ID      string            // front matter `blueprint`
	Title   string            // front matter `title`
	Scope   map[string]string // front matter `scope`
	Model   string            // default model reference, "provider:model"
	Options ModelOptions      // front matter `options`: model settings of every step
	Output  string            // output folder, relative to the workspace root
	Secrets []string          // names of environment variables holding secrets
	Budget  Budget
	Steps   []Step
	Checks  []string // gates on the whole output after all steps

	GateTimeout time.Duration // front matter `timeout`: limit of one gate command; 0 = the validator's default
	Sandbox     string        // front matter `sandbox`: "auto" (the default), "required" or "off"
	Env         []string      // front matter `env`: names of environment variables passed to gates
	MaxTurns    int           // front matter `max_turns`: turns of tool calls per attempt; 0 = the role's or the default

	Sections []Section // headings of the body, in document order
}

// Budget limits a run. Zero means unlimited.
type Budget struct {
	MaxTokens  int `json:"max_tokens,omitempty"`
	MaxCalls   int `json:"max_calls,omitempty"`
	MaxMinutes int `json:"max_minutes,omitempty"`
}

// Step is one node of a blueprint's graph.
type Step struct {
	ID       string       `json:"id"`
	Role     string       `json:"role"`
	Model    string       `json:"model,omitempty"`  // overrides the blueprint's model
	Options  ModelOptions `json:"options,omitzero"` // model settings, over the role's and the blueprint's
	Uses     []string     `json:"uses,omitempty"`   // section titles or ids given as context
	Needs    []string     `json:"needs,omitempty"`  // upstream step ids
	Writes   []string     `json:"writes,omitempty"`
	Validate []string     `json:"validate,omitempty"`
	Retries  int          `json:"retries,omitempty"`
	MaxTurns int          `json:"max_turns,omitempty"` // turns of tool calls per attempt; 0 = the role's
	// MaxAnswerKB bounds each model answer of the step, in KiB; 0 means
	// DefaultMaxAnswerBytes.
	MaxAnswerKB int                 `json:"max_answer_kb,omitempty"`
	Review      string              `json:"review,omitempty"` // "" or "required"
	When        map[string][]string `json:"when,omitempty"`   // scope key -> allowed values
	Line        int                 `json:"line,omitempty"`   // line of the step in the file
}

// Section is one heading of a blueprint body and the Markdown under it, up to
// the next heading of the same or a higher level.
type Section struct {
	ID    string `json:"id"`    // stable slug of the title, unique in the blueprint
	Title string `json:"title"` // heading text
	Level int    `json:"level"` // 1 for #, 2 for ##, ...
	Line  int    `json:"line"`  // 1-based line of the heading in the file
	End   int    `json:"end"`   // last line of the section in the file
	Text  string `json:"text"`  // Markdown source of the section, heading included
}

// Section returns the section whose id or title (case-insensitive) is name.
func (b *Blueprint) Section(name string) (Section, bool) {
	for _, s := range b.Sections {
		if s.ID == name || strings.EqualFold(s.Title, name) {
			return s, true
		}
	}
	return Section{}, false
}

// Step returns the step with the given id.
func (b *Blueprint) Step(id string) (*Step, bool) {
	for i := range b.Steps {
		if b.Steps[i].ID == id {
			return &b.Steps[i], true
		}
	}
	return nil, false
}

// StepModel returns the model reference a step runs with: the override when
// given, else the step's own, else the role's, else the blueprint's.
func (b *Blueprint) StepModel(s *Step, role *Role, override string) string {
	switch {
	case override != "":
		return override
	case s.Model != "":
		return s.Model
	case role != nil && role.Model != "":
		return role.Model
	}
	return b.Model
}

// StepMaxTurns returns how many turns of tool calls an attempt of a step
// allows: the step's max_turns, else its role's, else the blueprint's,
// else DefaultMaxTurns.
func (b *Blueprint) StepMaxTurns(s *Step, role *Role) int {
	switch {
	case s.MaxTurns > 0:
		return s.MaxTurns
	case role != nil && role.MaxTurns > 0:
		return role.MaxTurns
	case b.MaxTurns > 0:
		return b.MaxTurns
	}
	return DefaultMaxTurns
}

// MaxMaxTurns bounds max_turns wherever it is set.
const MaxMaxTurns = 64

// Enabled reports whether a step's `when` matches the blueprint's scope.
func (b *Blueprint) Enabled(s *Step) bool {
	for key, allowed := range s.When {
		v, ok := b.Scope[key]
		if !ok {
			return false
		}
		match := false
		for _, a := range allowed {
			if a == v {
				match = true
				break
			}
		}
		if !match {
			return false
		}
	}
	return true
}

// Role is a reusable agent persona from blueprints/roles/NAME.md.
type Role struct {
	Name        string       `json:"role"`
	Description string       `json:"description"`
	Skills      []string     `json:"skills,omitempty"`
	Model       string       `json:"model,omitempty"`
	Options     ModelOptions `json:"options,omitzero"`    // model settings, over the blueprint's
	MaxTurns    int          `json:"max_turns,omitempty"` // turns of tool calls per attempt; 0 = the blueprint's
	Prompt      string       `json:"prompt"`              // the Markdown body: the system prompt
	Path        string       `json:"path"`
	Version     string       `json:"version"` // sha256 hex of the file
}

// Diagnostic is one problem found in a blueprint or role file. Step and
// Field, when known, name the step (its id) and the key (like "writes" or
// "options.temperature") the problem belongs to.
type Diagnostic struct {
	Path    string `json:"path"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
	Step    string `json:"step,omitempty"`
	Field   string `json:"field,omitempty"`
}

// String formats the diagnostic as path:line:col: message.
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", d.Path, d.Line, d.Col, d.Message)
}

// Diagnostics is a list of problems; as an error it prints one per line.
type Diagnostics []Diagnostic

// Error implements error.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns ds as an *Error with code EINVALID, or nil when empty.
func (ds Diagnostics) Err() error {
	if len(ds) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Err: ds}
}

// ReservedDirs are the workspace folders no step may ever write, whatever
// its blueprint's output and writes say: the factory's own (.factory),
// version control (.git) and the blueprints and roles (blueprints).
func ReservedDirs() []string { return []string{".factory", ".git", "blueprints"} }

// ReservedDir returns the reserved folder a workspace-relative slash path
// is, or is inside (compared without case, as macOS and Windows do), or "".
func ReservedDir(rel string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(rel, "./"), "/")
	for _, d := range ReservedDirs() {
		if strings.EqualFold(first, d) {
			return d
		}
	}
	return ""
}

// Limits of a model answer (its text and tool calls, in bytes): a provider
// stops reading an answer that passes its step's limit and the attempt
// fails at once.
const (
	DefaultMaxAnswerBytes = 4 << 20
	MaxMaxAnswerKB        = 64 << 10 // the highest max_answer_kb: 64 MiB
)

// MaxAnswerBytes is the limit of each model answer of the step.
func (s *Step) MaxAnswerBytes() int {
	if s == nil || s.MaxAnswerKB <= 0 {
		return DefaultMaxAnswerBytes
	}
	return s.MaxAnswerKB << 10
}
