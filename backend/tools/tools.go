// Package tools holds the tools a role's model may call during an attempt
// (its skills): list_files, read_file, search, search_lessons and
// run_checks. Each is a small typed function with a JSON schema for its
// arguments, registered in one Registry. A call is checked before anything
// runs (a tool of the role's skills, arguments that match the schema, paths
// inside the output folder by the same rules as writes), and its result is
// redacted and capped before the model or any record sees it.
package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// Default limits, used when a Limits field is zero.
const (
	DefaultMaxResultBytes = 32 << 10 // what one result may hold
	DefaultMaxFileBytes   = 1 << 20  // a file read or searched
	DefaultMaxListed      = 300      // paths list_files shows
	DefaultMaxHits        = 100      // lines search shows
	DefaultMaxScanBytes   = 16 << 20 // bytes search reads in all
	DefaultMaxVisited     = 20000    // entries a walk of the output folder visits
	DefaultMaxCopyBytes   = 64 << 20 // what run_checks copies into its scratch folder
)

// Limits bound what the tools read and return. Zero fields take the
// defaults above.
type Limits struct {
	MaxResultBytes int
	MaxFileBytes   int64
	MaxListed      int
	MaxHits        int
	MaxScanBytes   int64
	MaxVisited     int
	MaxCopyBytes   int64
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def64 := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxResultBytes, DefaultMaxResultBytes)
	def64(&l.MaxFileBytes, DefaultMaxFileBytes)
	def(&l.MaxListed, DefaultMaxListed)
	def(&l.MaxHits, DefaultMaxHits)
	def64(&l.MaxScanBytes, DefaultMaxScanBytes)
	def(&l.MaxVisited, DefaultMaxVisited)
	def64(&l.MaxCopyBytes, DefaultMaxCopyBytes)
	return l
}

// Env is what the tools of one attempt may see and do.
type Env struct {
	// Root is the absolute path of the output folder: every path a tool
	// takes or shows is relative to it, and nothing outside it is read.
	Root string
	// Skills are the tools the role may call.
	Skills []string
	// Exclude are writes glob sets (the step's own, and those of the steps
	// that do not come before it): a file matching any set is not shown,
	// so the step sees the output folder as the steps before it left it.
	Exclude [][]string
	// Lessons are the role's lessons, most relevant first (search_lessons).
	Lessons []backend.Lesson
	// Writes are the step's writes globs: run_checks drafts must match them.
	Writes []string
	// Checks runs the step's validate gates in a folder (run_checks); nil
	// when the step has none.
	Checks func(ctx context.Context, dir string) []backend.GateResult
	// ScratchDir is where run_checks makes its copies; "" is the system's
	// temporary folder.
	ScratchDir string
	// Redact is applied to every result; nil leaves results as they are.
	Redact func(string) string
	Limits Limits
}

// Result is what a tool call gives back to the model.
type Result struct {
	Content string // what the model is told, redacted and capped
	Status  string // backend.ToolOK, ToolError or ToolRefused
}

// tool is one registered tool.
type tool struct {
	def      backend.Tool
	schema   *jsonschema.Schema
	readOnly bool
	run      func(ctx context.Context, env *Env, args json.RawMessage) (string, error)
}

// typed adapts a typed tool function: the arguments, already checked
// against the schema, are decoded strictly into A.
func typed[A any](fn func(ctx context.Context, env *Env, args A) (string, error)) func(context.Context, *Env, json.RawMessage) (string, error) {
	return func(ctx context.Context, env *Env, raw json.RawMessage) (string, error) {
		var a A
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return "", backend.WrapError(backend.EINVALID, err, "arguments do not match the schema")
		}
		return fn(ctx, env, a)
	}
}

// Registry holds the tools. It is safe for concurrent use.
type Registry struct {
	tools map[string]*tool
}

// New returns the registry of every tool in backend.ToolNames.
func New() *Registry {
	r := &Registry{tools: map[string]*tool{}}
	r.add(backend.ToolListFiles, listFilesDoc, listFilesSchema, true, typed(listFiles))
	r.add(backend.ToolReadFile, readFileDoc, readFileSchema, true, typed(readFile))
	r.add(backend.ToolSearch, searchDoc, searchSchema, true, typed(search))
	r.add(backend.ToolSearchLessons, searchLessonsDoc, searchLessonsSchema, true, typed(searchLessons))
	r.add(backend.ToolRunChecks, runChecksDoc, runChecksSchema, false, typed(runChecks))
	return r
}

// add registers a tool; its schema is compiled once (a bad one is a bug).
func (r *Registry) add(name, doc, schema string, readOnly bool,
	run func(context.Context, *Env, json.RawMessage) (string, error)) {
	r.tools[name] = &tool{
		def:      backend.Tool{Name: name, Description: doc, Parameters: json.RawMessage(schema)},
		schema:   compileSchema(name, schema),
		readOnly: readOnly,
		run:      run,
	}
}

// Definitions returns the tools of skills that exist, in the order of
// backend.ToolNames: what a model is offered.
func (r *Registry) Definitions(skills []string) []backend.Tool {
	var out []backend.Tool
	for _, name := range backend.ToolNames {
		if t, ok := r.tools[name]; ok && slices.Contains(skills, name) {
			def := t.def
			def.Parameters = append(json.RawMessage(nil), t.def.Parameters...)
			out = append(out, def)
		}
	}
	return out
}

// ReadOnly reports whether a tool only reads (its results can be checked
// again cheaply): every tool but run_checks.
func ReadOnly(name string) bool {
	return name != backend.ToolRunChecks && slices.Contains(backend.ToolNames, name)
}

// Call checks and runs one tool call. A tool that is unknown or not in
// env.Skills, arguments that are not a JSON object matching the tool's
// schema, and a path or glob out of scope are refused before anything is
// read: the result says why, so the model can correct itself. The result
// is redacted and capped.
func (r *Registry) Call(ctx context.Context, env *Env, call backend.ToolCall) Result {
	content, status := r.call(ctx, env, call)
	if env.Redact != nil {
		content = env.Redact(content)
	}
	return Result{Content: capText(content, env.Limits.withDefaults().MaxResultBytes), Status: status}
}

func (r *Registry) call(ctx context.Context, env *Env, call backend.ToolCall) (string, string) {
	t, ok := r.tools[call.Name]
	switch {
	case !ok:
		return fmt.Sprintf("refused: there is no tool %q; the tools you may call are: %s",
			call.Name, strings.Join(known(env.Skills), ", ")), backend.ToolRefused
	case !slices.Contains(env.Skills, call.Name):
		return fmt.Sprintf("refused: %s is not one of this role's skills; the tools you may call are: %s",
			call.Name, strings.Join(known(env.Skills), ", ")), backend.ToolRefused
	}
	if err := checkArguments(t, call.Arguments); err != nil {
		return "refused: " + err.Error(), backend.ToolRefused
	}
	out, err := t.run(ctx, env, call.Arguments)
	switch {
	case err == nil:
		return out, backend.ToolOK
	case backend.ErrorCode(err) == backend.EINVALID:
		return "refused: " + errorText(err), backend.ToolRefused
	}
	return "error: " + errorText(err), backend.ToolError
}

// excluded reports whether rel is outside the step's view.
func (env *Env) excluded(rel string) bool {
	for _, writes := range env.Exclude {
		if workspace.Writable(rel, writes) {
			return true
		}
	}
	return false
}

// known returns the skills that are tools, in the order offered.
func known(skills []string) []string {
	var out []string
	for _, n := range backend.ToolNames {
		if slices.Contains(skills, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// errorText is an error's message, the *backend.Error's own when it has one.
func errorText(err error) string {
	return err.Error()
}

// capText cuts s to at most n bytes on a rune boundary, saying so.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	note := fmt.Sprintf("\n[result cut at %d bytes]", n)
	cut := max(0, n-len(note))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}
