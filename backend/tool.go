package backend

import (
	"encoding/json"
	"errors"
	"time"
)

// The tools a role may list under skills: what its model may call during
// an attempt.
const (
	ToolListFiles     = "list_files"     // paths and sizes under the output folder
	ToolReadFile      = "read_file"      // a text file, with line numbers
	ToolSearch        = "search"         // a regular expression over the readable files
	ToolSearchLessons = "search_lessons" // the role's lessons, most relevant first
	ToolRunChecks     = "run_checks"     // the step's gates on a draft, in a scratch copy
)

// ToolNames lists every tool, in the order they are offered to a model.
var ToolNames = []string{ToolListFiles, ToolReadFile, ToolSearch, ToolSearchLessons, ToolRunChecks}

// DefaultMaxTurns is how many turns of tool calls an attempt allows when
// neither the step, its role nor the blueprint sets max_turns.
const DefaultMaxTurns = 8

// Tool results' statuses.
const (
	ToolOK      = "ok"      // the tool ran and answered
	ToolError   = "error"   // the tool could not do what was asked (a file that does not exist)
	ToolRefused = "refused" // never run: not in the role's skills, bad arguments, out of scope
)

// Tool is a tool offered to a model: its name, what it does, and the JSON
// schema of its arguments.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// ToolCall is a model's request to call a tool. Arguments is JSON as the
// model sent it: an object when it followed the schema, anything else when
// it did not (a string a server could not read as JSON is kept as a JSON
// string).
type ToolCall struct {
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ToolRecord is one tool call of an attempt: what the model asked, what it
// was told, and when. Turn is the 1-based model turn that asked for it, Seq
// its 1-based order within the attempt.
type ToolRecord struct {
	Turn      int             `json:"turn"`
	Seq       int             `json:"seq"`
	CallID    string          `json:"call_id,omitempty"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Result    string          `json:"result"` // redacted; what the model was given
	Status    string          `json:"status"` // ToolOK, ToolError or ToolRefused
	StartedAt time.Time       `json:"started_at"`
	Duration  time.Duration   `json:"duration_ns"`
}

// ErrToolsUnsupported is wrapped by a provider's error when the model
// cannot call tools (Ollama: "... does not support tools"): the attempt
// then makes one call without them.
var ErrToolsUnsupported = errors.New("the model does not support tools")

// ToolUse is one tool call of an attempt as recorded, its arguments and
// result stored as content-addressed blobs.
type ToolUse struct {
	RunID      string        `json:"run_id"`
	StepID     string        `json:"step"`
	Attempt    int           `json:"attempt"`
	Seq        int           `json:"seq"`  // 1-based order within the attempt
	Turn       int           `json:"turn"` // the model turn that asked for it
	CallID     string        `json:"call_id,omitempty"`
	Name       string        `json:"name"`
	ArgsHash   string        `json:"args_hash"`   // blob of the arguments (JSON)
	ResultHash string        `json:"result_hash"` // blob of the result the model was given
	Status     string        `json:"status"`      // ToolOK, ToolError or ToolRefused
	Duration   time.Duration `json:"duration_ns"`
	StartedAt  time.Time     `json:"started_at"`
}
