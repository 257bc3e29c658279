package backend

import (
	"context"
	"time"
)

// Run and step states.
const (
	StatusPending        = "pending"
	StatusRunning        = "running"
	StatusSucceeded      = "succeeded"
	StatusFailed         = "failed"
	StatusSkipped        = "skipped"
	StatusCanceled       = "canceled"
	StatusAwaitingReview = "awaiting_review"
	StatusInterrupted    = "interrupted"
)

// Terminal reports whether a run or step status is final.
func Terminal(status string) bool {
	switch status {
	case StatusSucceeded, StatusFailed, StatusSkipped, StatusCanceled:
		return true
	}
	return false
}

// Run is one execution of one blueprint version. Its id is a 32-hex-digit
// OpenTelemetry trace id.
type Run struct {
	ID               string    `json:"id"`
	BlueprintID      string    `json:"blueprint"`
	BlueprintVersion string    `json:"blueprint_version"`
	BlueprintPath    string    `json:"blueprint_path"`
	Model            string    `json:"model"` // the model override of the run, or the blueprint's
	Output           string    `json:"output"`
	Status           string    `json:"status"`
	Error            string    `json:"error,omitempty"`
	Parallel         int       `json:"parallel"`
	TokensIn         int       `json:"tokens_in"`
	TokensOut        int       `json:"tokens_out"`
	Calls            int       `json:"calls"`
	StartedAt        time.Time `json:"started_at"`
	EndedAt          time.Time `json:"ended_at,omitempty"`
	ParentID         string    `json:"parent_id,omitempty"` // the run this one replays or forks
	Kind             string    `json:"kind,omitempty"`      // "", "replay", "fork"
	PID              int       `json:"pid,omitempty"`       // the process that runs it
	// Origin is "" for a run made in this workspace, OriginImported or
	// OriginTrusted for one imported from a bundle.
	Origin string `json:"origin,omitempty"`
}

// Origins of an imported run: only a trusted one (imported with --trust)
// feeds the step cache of local runs; replaying an untrusted one runs no
// gate command of its own unless asked to.
const (
	OriginImported = "imported"
	OriginTrusted  = "imported-trusted"
)

// StepRun is the state of one step in one run.
type StepRun struct {
	RunID     string    `json:"run_id"`
	StepID    string    `json:"step"`
	Role      string    `json:"role"`
	Model     string    `json:"model"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	Attempts  int       `json:"attempts"`
	Sections  []string  `json:"sections,omitempty"` // section ids the step used
	Needs     []string  `json:"needs,omitempty"`
	CacheHit  bool      `json:"cache_hit,omitempty"`
	TokensIn  int       `json:"tokens_in"`
	TokensOut int       `json:"tokens_out"`
	StartedAt time.Time `json:"started_at,omitempty"`
	EndedAt   time.Time `json:"ended_at,omitempty"`
}

// Attempt is one try of a step.
type Attempt struct {
	RunID     string    `json:"run_id"`
	StepID    string    `json:"step"`
	N         int       `json:"n"` // 1-based
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`    // why it failed; the next attempt's feedback
	Feedback  string    `json:"feedback,omitempty"` // the feedback this attempt was given
	Notes     string    `json:"notes,omitempty"`    // the model's notes
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitempty"`
}

// ModelCall is one request to a model, with its prompt and answer stored as
// content-addressed blobs.
type ModelCall struct {
	ID         int64         `json:"id"`
	RunID      string        `json:"run_id"`
	StepID     string        `json:"step"`
	Attempt    int           `json:"attempt"`
	Seq        int           `json:"seq"`            // 1-based order within the attempt
	Turn       int           `json:"turn,omitempty"` // the 1-based turn of the attempt's conversation
	Provider   string        `json:"provider"`
	Model      string        `json:"model"`
	Options    string        `json:"options,omitempty"` // JSON of the request options
	PromptHash string        `json:"prompt_hash"`       // blob of the request (messages + schema) as JSON
	AnswerHash string        `json:"answer_hash"`       // blob of the answer text
	TokensIn   int           `json:"tokens_in"`
	TokensOut  int           `json:"tokens_out"`
	Duration   time.Duration `json:"duration_ns"`
	FirstToken time.Duration `json:"first_token_ns"`
	DoneReason string        `json:"done_reason,omitempty"`
	Error      string        `json:"error,omitempty"`
	StartedAt  time.Time     `json:"started_at"`
}

// Artifact is a file an attempt wrote.
type Artifact struct {
	RunID     string    `json:"run_id"`
	StepID    string    `json:"step"`
	Attempt   int       `json:"attempt"`
	Path      string    `json:"path"` // relative to the output folder, slash-separated
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	Sections  []string  `json:"sections,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// RunDetail is a run with everything recorded about it.
type RunDetail struct {
	Run       Run          `json:"run"`
	Steps     []StepRun    `json:"steps"`
	Attempts  []Attempt    `json:"attempts"`
	Calls     []ModelCall  `json:"calls"`
	Tools     []ToolUse    `json:"tool_calls"`
	Artifacts []Artifact   `json:"artifacts"`
	Gates     []GateRecord `json:"gates"`
	Reviews   []Review     `json:"reviews"`
}

// RunFilter selects runs. Zero values match everything.
type RunFilter struct {
	BlueprintID string
	Status      string
	Limit       int // 0: no limit
}

// Store is the persistent record of blueprints versions, runs and blobs.
// Every method is one transaction.
type Store interface {
	// PutBlob stores data once under its sha256 hex and returns the hash.
	PutBlob(ctx context.Context, data []byte) (string, error)
	// Blob returns the data stored under hash (ENOTFOUND when absent).
	Blob(ctx context.Context, hash string) ([]byte, error)

	// SaveBlueprintVersion keeps the text of a blueprint version (idempotent).
	SaveBlueprintVersion(ctx context.Context, blueprintID, version, path string, text []byte) error
	// BlueprintVersion returns the text of a stored version.
	BlueprintVersion(ctx context.Context, version string) ([]byte, error)

	CreateRun(ctx context.Context, r *Run) error
	UpdateRun(ctx context.Context, r *Run) error
	SaveStep(ctx context.Context, s *StepRun) error     // insert or update by (run, step)
	SaveAttempt(ctx context.Context, a *Attempt) error  // insert or update by (run, step, n)
	RecordCall(ctx context.Context, c *ModelCall) error // sets c.ID
	// RecordToolUse records a tool call; its arguments and result must be
	// stored blobs.
	RecordToolUse(ctx context.Context, u *ToolUse) error
	RecordArtifact(ctx context.Context, a *Artifact) error

	Run(ctx context.Context, id string) (*RunDetail, error) // id or unique prefix
	Runs(ctx context.Context, f RunFilter) ([]Run, error)   // newest first

	ValidationStore
	RunControl
}

// RunControl lets any process ask the one running a run to stop it: the
// engine of that process looks for the request and cancels the run.
type RunControl interface {
	// RequestCancel asks for the cancel of a run (id or unique prefix) and
	// returns it; a run no live process holds is canceled at once.
	// ECONFLICT when the run has ended.
	RequestCancel(ctx context.Context, id string) (*Run, error)
	// CancelRequested reports whether a cancel of the run (its full id)
	// was asked for since it last started or resumed.
	CancelRequested(ctx context.Context, id string) (bool, error)
}

// Batcher is a store that can make many writes in one transaction: every
// write made with the ctx fn is given joins it, and they commit together or
// not at all.
type Batcher interface {
	Batch(ctx context.Context, fn func(ctx context.Context) error) error
}
