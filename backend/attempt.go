package backend

import (
	"context"
	"time"
)

// File is a file's path and content, e.g. an upstream step's output given as
// context to a later step.
type File struct {
	Path    string `json:"path"` // relative to the output folder, slash-separated
	Content []byte `json:"content"`
}

// WrittenFile is a file an attempt wrote into the output folder.
type WrittenFile struct {
	Path   string `json:"path"` // relative to the output folder, slash-separated
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Parents is set when the file was merged with a hand edit: the hashes
	// of the content on disk and of the new answer.
	Parents [2]string `json:"parents,omitzero"`
}

// AttemptRequest is everything one step attempt needs.
type AttemptRequest struct {
	RunID     string
	Blueprint *Blueprint
	Step      *Step
	Role      *Role
	Attempt   int      // 1-based
	Model     ModelRef // resolved model for this step
	Provider  Provider // the provider named by Model
	Feedback  string   // errors of the previous attempt, "" on the first
	Lessons   []Lesson // the role's lessons to give, most relevant first
	Upstream  []File   // files upstream steps produced
	OutputDir string   // absolute path of the blueprint's output folder
	Limits    WriteLimits
	Options   map[string]any // model options (temperature, seed, ...)
	OnToken   func(string)   // streamed answer pieces; may be nil
	// Generated, when set, gives the content last generated at a workspace
	// path: a file edited by hand since is merged three ways instead of
	// overwritten. nil writes the answer as it is.
	Generated Generated
	// Tools is how the role's skills work in this attempt.
	Tools AttemptTools
}

// AttemptTools is what an attempt's tools may see and do, and its limits.
type AttemptTools struct {
	// MaxTurns bounds the model turns that may call tools; a final call
	// without tools then asks for the answer (0: DefaultMaxTurns).
	MaxTurns int
	// Unseen are writes glob sets (the step's own and those of the steps
	// that do not come before it): the tools do not show a file matching
	// any of them, so a step sees the output folder as the steps before it
	// left it.
	Unseen [][]string
	// Checks runs the step's validate gates in a folder, as after an
	// attempt (run_checks); nil when the step has none.
	Checks func(ctx context.Context, dir string) []GateResult
	// ScratchDir is where run_checks copies the output folder; "" is the
	// system's temporary folder.
	ScratchDir string
	// Budget, when set, is asked before each model call but the attempt's
	// first, with the tokens and calls the attempt has used; an error ends
	// the attempt with it.
	Budget func(tokens, calls int) error
	// OnCall and OnTool, when set, are called as each model call and each
	// tool call ends, in order, with its record.
	OnCall func(CallRecord)
	OnTool func(ToolRecord)
}

// Generated gives what the factory last generated at a path relative to the
// workspace root (slash-separated): the base of a three-way merge. ok is
// false when the path was never generated or its content is not kept.
type Generated interface {
	GeneratedContent(ctx context.Context, path string) (content []byte, ok bool, err error)
}

// WriteLimits bounds what one attempt may write.
type WriteLimits struct {
	MaxFileBytes int64 // per file; 0 means the default (1 MiB)
	MaxFiles     int   // per attempt; 0 means the default (200)
}

// CallRecord is one model call made during an attempt, with the full request
// and response, for the store to record.
type CallRecord struct {
	Seq       int // 1-based order within the attempt
	Turn      int // the 1-based turn of the attempt's conversation
	Provider  string
	Request   ChatRequest
	Response  ChatResponse
	Err       error
	StartedAt time.Time
}

// AttemptResult is what an attempt did. Err is nil when the answer parsed and
// every file was written; otherwise it explains why (an *Error with code
// EINVALID for a bad answer: the message becomes the next attempt's feedback).
type AttemptResult struct {
	Files []WrittenFile
	Notes string
	Calls []CallRecord
	Tools []ToolRecord // the tool calls, in the order made
	// ToolsUnsupported is set when the model could not call tools: the
	// attempt made one call without them instead.
	ToolsUnsupported bool
	Err              error
}

// Attempter runs one step attempt: context package, model call(s), parsing
// and scoped writes. It does not run gates.
type Attempter interface {
	Attempt(ctx context.Context, req AttemptRequest) AttemptResult
}

// GateResult is the outcome of one validation gate.
type GateResult struct {
	Name     string        `json:"name"` // the command, or a built-in gate's name
	Passed   bool          `json:"passed"`
	ExitCode int           `json:"exit_code"`
	Output   string        `json:"output"` // tail of the combined output
	Duration time.Duration `json:"duration_ns"`
	TimedOut bool          `json:"timed_out,omitempty"`
	// Sandboxed is true when the gate ran confined (no network, the output
	// folder the only writable place the operator can see).
	Sandboxed bool `json:"sandboxed,omitempty"`
}
