// Package engine executes runs: it schedules a blueprint's steps as a graph
// (independent steps in parallel), runs each step's attempts through an
// Attempter, validates what they wrote with gates, feeds failures back into
// retries, runs the blueprint's checks, and records everything in the Store.
package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"factorydesk/backend"
)

// Event kinds.
const (
	KindRun     = "run"
	KindStep    = "step"
	KindAttempt = "attempt"
	KindCall    = "call"
	KindToken   = "token"
	KindGate    = "gate"
)

// cancelGrace bounds how long a canceled run waits for its running steps to
// wind down before it records them canceled itself.
const cancelGrace = 750 * time.Millisecond

// Config wires an Engine.
type Config struct {
	Store     backend.Store
	Attempter backend.Attempter           // runs one step attempt
	Providers map[string]backend.Provider // keyed by provider name ("ollama", "openai")
	Logger    *slog.Logger                // nil: discard
	Now       func() time.Time            // nil: time.Now
	// OnEvent receives progress (run, step, attempt, call, token and gate
	// events) from several goroutines; it may be nil and must not block long.
	OnEvent func(Event)
	// Getenv looks up the values of the blueprint's secrets for the secrets
	// check; nil means os.Getenv.
	Getenv func(string) string
}

// Event is one progress report of a run.
type Event struct {
	Time      time.Time     `json:"time"`
	Kind      string        `json:"kind"` // run, step, attempt, call, token, gate
	RunID     string        `json:"run_id"`
	StepID    string        `json:"step,omitempty"`
	Attempt   int           `json:"attempt,omitempty"`
	Status    string        `json:"status,omitempty"`
	Message   string        `json:"message,omitempty"`
	TokensIn  int           `json:"tokens_in,omitempty"`
	TokensOut int           `json:"tokens_out,omitempty"`
	Duration  time.Duration `json:"duration_ns,omitempty"`
	Text      string        `json:"text,omitempty"` // a streamed piece of the answer
}

// RunOptions says what to run and how.
type RunOptions struct {
	// RunID is the id the run gets (32 lowercase hex digits, see NewRunID);
	// "" draws a new one.
	RunID     string
	Blueprint *backend.Blueprint
	Roles     map[string]*backend.Role // by role name
	// Workspace is the absolute workspace root; the output folder is
	// Workspace/Blueprint.Output.
	Workspace string
	// Model overrides every step's model ("provider:model"); "" keeps the
	// blueprint's.
	Model       string
	Parallel    int            // steps run at once; default runtime.NumCPU()
	Options     map[string]any // model options (temperature, seed, ...)
	GateTimeout time.Duration  // per gate command; 0 means the validate default
}

// Engine executes runs. It is safe for concurrent use: each Run is
// independent.
type Engine struct {
	cfg Config
}

// New returns an Engine.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	return &Engine{cfg: cfg}
}

// Run executes one run to the end and returns it, with status succeeded,
// failed or canceled. The run is recorded from the start (status running),
// with the blueprint version's text, and updated as it goes. Canceling ctx
// marks the run and its unfinished steps canceled and returns within a
// second. The error is non-nil only when the run could not start (invalid
// options, EINVALID) or could not be recorded; a run whose steps fail is
// returned with a nil error.
func (e *Engine) Run(ctx context.Context, opts RunOptions) (*backend.Run, error) {
	if err := e.check(&opts); err != nil {
		return nil, err
	}
	g, err := newGraph(opts.Blueprint)
	if err != nil {
		return nil, err
	}
	bp := opts.Blueprint
	rec := context.WithoutCancel(ctx)
	version := bp.Version
	if version == "" {
		sum := sha256.Sum256(bp.Source)
		version = hex.EncodeToString(sum[:])
	}
	if err := e.cfg.Store.SaveBlueprintVersion(rec, bp.ID, version, bp.Path, bp.Source); err != nil {
		return nil, err
	}
	outDir := filepath.Join(opts.Workspace, filepath.FromSlash(bp.Output))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "create the output folder %s", outDir)
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	model := opts.Model
	if model == "" {
		model = bp.Model
	}
	run := &backend.Run{
		ID: opts.RunID, BlueprintID: bp.ID, BlueprintVersion: version, BlueprintPath: bp.Path,
		Model: model, Output: bp.Output, Status: backend.StatusRunning,
		Parallel: opts.Parallel, StartedAt: e.cfg.Now(),
	}
	if err := e.cfg.Store.CreateRun(rec, run); err != nil {
		return nil, err
	}
	log := e.cfg.Logger.With("run", run.ID, "blueprint", bp.ID)
	log.InfoContext(ctx, "run started", "version", version, "steps", len(bp.Steps), "parallel", opts.Parallel, "model", model)
	s := newScheduler(e, opts, g, run, outDir)
	e.emit(Event{Kind: KindRun, RunID: run.ID, Status: backend.StatusRunning, Message: bp.ID})
	run, err = s.execute(ctx)
	log.InfoContext(context.WithoutCancel(ctx), "run ended", "status", run.Status, "error", run.Error,
		"calls", run.Calls, "tokens_in", run.TokensIn, "tokens_out", run.TokensOut)
	return run, err
}

// check validates the options and fills their defaults.
func (e *Engine) check(opts *RunOptions) error {
	switch {
	case e.cfg.Store == nil:
		return backend.Errorf(backend.EINVALID, "engine: no store configured")
	case e.cfg.Attempter == nil:
		return backend.Errorf(backend.EINVALID, "engine: no attempter configured")
	case opts.Blueprint == nil:
		return backend.Errorf(backend.EINVALID, "run: no blueprint given")
	case !filepath.IsAbs(opts.Workspace):
		return backend.Errorf(backend.EINVALID, "run: workspace %q is not an absolute path", opts.Workspace)
	case opts.Blueprint.Output == "" || !filepath.IsLocal(filepath.FromSlash(opts.Blueprint.Output)):
		return backend.Errorf(backend.EINVALID, "blueprint %s: output %q must be a relative folder inside the workspace", opts.Blueprint.ID, opts.Blueprint.Output)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.NumCPU()
	}
	return nil
}

// emit sends an event to OnEvent, stamping its time.
func (e *Engine) emit(ev Event) {
	if e.cfg.OnEvent == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = e.cfg.Now()
	}
	e.cfg.OnEvent(ev)
}

// NewRunID returns 16 random bytes as 32 lowercase hex digits: a valid
// OpenTelemetry trace id (never all zeros).
func NewRunID() string {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		if b != [16]byte{} {
			return hex.EncodeToString(b[:])
		}
	}
}
