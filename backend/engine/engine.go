// Package engine executes runs: it schedules a blueprint's steps as a graph
// (independent steps in parallel), runs each step's attempts through an
// Attempter, validates what they wrote with gates, feeds failures back into
// retries, runs the blueprint's checks, and records everything in the Store.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/validate"
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
	// Sandbox confines gate commands; nil makes one that uses bwrap from
	// PATH (probed once).
	Sandbox *validate.Sandbox
	// GateCache is the Go build cache (GOCACHE) of sandboxed gates, the one
	// folder they may write besides the output; "" means
	// $FACTORY_GATE_CACHE, else the workspace's own .factory/cache/go-build.
	// Gates see it at validate.CacheMount, never the folder that holds it.
	GateCache string
	// Tracer makes the run's spans (see spans.go); nil makes none.
	Tracer Tracer
	// Reuse keeps step cache keys and run roles; nil uses Store when it is
	// a backend.ReuseStore, else no step is ever reused.
	Reuse backend.ReuseStore
	// ServerRetries are the pauses before each new try of a model call the
	// server failed on its side (backend.ErrServerFailure); nil means
	// DefaultServerRetries, an empty non-nil slice no retry.
	ServerRetries []time.Duration
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
	// CancelPoll is how often the run looks for a cancel asked for by
	// another process; 0 means DefaultCancelPoll.
	CancelPoll time.Duration
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
	GateTimeout time.Duration  // per gate command; 0 means the blueprint's, then the validate default
	// WaitReview makes a step waiting for a review poll the store for the
	// decision (made by this or another process); without it such a step
	// leaves the run awaiting_review, to be continued by Resume.
	WaitReview bool
	ReviewPoll time.Duration // how often to look for a decision; default DefaultReviewPoll
	// ParentID and Kind (backend.KindReplay, backend.KindFork) link the run
	// to the run it replays or forks.
	ParentID string
	Kind     string
	// Reuse names, by step id, the run whose recorded outputs the step
	// takes instead of running (a fork's upstream steps).
	Reuse map[string]string
	// NoCache runs every step, even one whose cache key matches a step
	// recorded before.
	NoCache bool
}

// Engine executes runs. It is safe for concurrent use: each Run is
// independent.
type Engine struct {
	cfg Config
	// redactors holds, by run id, the redaction of each active run's
	// events.
	redactors sync.Map
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
	if cfg.Sandbox == nil {
		cfg.Sandbox = validate.NewSandbox()
	}
	if cfg.GateCache == "" {
		cfg.GateCache = cfg.Getenv("FACTORY_GATE_CACHE")
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
	version := blueprintVersion(bp)
	store := e.store(bp)
	if err := store.SaveBlueprintVersion(rec, bp.ID, version, bp.Path, bp.Source); err != nil {
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
		Parallel: opts.Parallel, StartedAt: e.cfg.Now(), ParentID: opts.ParentID, Kind: opts.Kind,
	}
	if err := store.CreateRun(rec, run); err != nil {
		return nil, err
	}
	log := e.logger(bp).With("run", run.ID, "blueprint", bp.ID)
	log.InfoContext(ctx, "run started", "version", version, "steps", len(bp.Steps), "parallel", opts.Parallel, "model", model)
	return newScheduler(e, opts, g, run, outDir).drive(ctx, log, bp.ID)
}

// drive starts the scheduler's run (its trace and its first event), runs
// it to its end and logs how it ended.
func (s *scheduler) drive(ctx context.Context, log *slog.Logger, message string) (*backend.Run, error) {
	ctx = s.startExtras(ctx)
	s.e.emit(Event{Kind: KindRun, RunID: s.run.ID, Status: backend.StatusRunning, Message: message})
	ctx, stopWatch := s.watchCancel(ctx)
	run, err := s.execute(ctx)
	stopWatch()
	s.endExtras(run)
	log.InfoContext(context.WithoutCancel(ctx), "run ended", "status", run.Status, "error", run.Error,
		"calls", run.Calls, "tokens_in", run.TokensIn, "tokens_out", run.TokensOut)
	return run, err
}

// store is the store of a run of bp: everything it records is redacted.
func (e *Engine) store(bp *backend.Blueprint) backend.Store {
	if len(SecretValues(bp, e.cfg.Getenv)) == 0 {
		return e.cfg.Store
	}
	return redactingStore{Store: e.cfg.Store, redact: Redactor(bp, e.cfg.Getenv)}
}

// logger is the logger of a run of bp: its records are redacted.
func (e *Engine) logger(bp *backend.Blueprint) *slog.Logger {
	if len(SecretValues(bp, e.cfg.Getenv)) == 0 {
		return e.cfg.Logger
	}
	return slog.New(redactingHandler{next: e.cfg.Logger.Handler(), redact: Redactor(bp, e.cfg.Getenv)})
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
	if r, ok := e.redactors.Load(ev.RunID); ok {
		redact := r.(func(string) string)
		ev.Message, ev.Text = redact(ev.Message), redact(ev.Text)
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
