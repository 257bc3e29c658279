// Package app is the one surface the UI calls: App's exported methods take
// and return plain JSON-able values and an error, and events reach the UI
// through an Emitter. The desktop window (Wails) and browser mode (Server)
// are its two adapters.
package app

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/agent"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/engine"
	"factorydesk/backend/model"
	"factorydesk/backend/sqlite"
)

// Version is the application's version, set at build time.
var Version = "dev"

// Config wires an App.
type Config struct {
	Root   string     // absolute workspace folder
	Store  *sqlite.DB // the workspace's open database
	Getenv func(string) string
	Logger *slog.Logger
	Now    func() time.Time
	// EventInterval is how often batched events are delivered (default 50ms).
	EventInterval time.Duration
	// FollowPoll is how often the database is read for the runs of other
	// processes when the file system reports no change (default
	// sqlite.DefaultChangePoll).
	FollowPoll time.Duration
}

// App is the UI surface over one workspace.
type App struct {
	cfg    Config
	events *batcher
	ctx    context.Context // the app's lifetime; runs stop with it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	settings Settings
	runs     map[string]context.CancelFunc // active runs started here

	docs *documents // blueprint editing: saves, drafts, preview
}

// New returns an App over cfg.Root. Its adapters (Serve, the desktop
// window) own its lifetime and call shutdown when they end.
func New(cfg Config) (*App, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.EventInterval <= 0 {
		cfg.EventInterval = 50 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{cfg: cfg, events: newBatcher(cfg.EventInterval), ctx: ctx, cancel: cancel, runs: map[string]context.CancelFunc{}}
	a.docs = newDocuments(cfg)
	s, err := loadSettings(cfg.Root, cfg.Getenv)
	if err != nil {
		cancel()
		return nil, err
	}
	a.settings = s
	a.startWatcher()
	a.startFollower()
	return a, nil
}

// shutdown cancels the runs started through the App and waits for them.
// It is not a UI method: the adapters call it when they end.
func (a *App) shutdown() error {
	a.cancel()
	a.wg.Wait()
	a.events.stop()
	return nil
}

// subscribe delivers the App's events to e until the returned func is called.
func (a *App) subscribe(e Emitter) func() { return a.events.subscribe(e) }

// emit queues one event for the UI.
func (a *App) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = a.cfg.Now()
	}
	a.events.add(e)
}

// Info describes the workspace and the build.
type Info struct {
	Workspace string `json:"workspace"`
	Version   string `json:"version"`
}

// Info returns the workspace folder and the version.
func (a *App) Info() (Info, error) {
	return Info{Workspace: a.cfg.Root, Version: Version}, nil
}

// BlueprintSummary is one blueprint in the list.
type BlueprintSummary struct {
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Path        string              `json:"path"`
	Version     string              `json:"version"`
	Steps       []backend.Step      `json:"steps"`
	Diagnostics backend.Diagnostics `json:"diagnostics"`
}

// BlueprintDetail is one blueprint with its source and sections.
type BlueprintDetail struct {
	BlueprintSummary
	Source   string            `json:"source"`
	Sections []backend.Section `json:"sections"`
	Scope    map[string]string `json:"scope"`
	Model    string            `json:"model"`
}

// Blueprints lists the workspace's blueprints with their lint problems.
func (a *App) Blueprints() ([]BlueprintSummary, error) {
	lib, err := blueprint.Load(a.cfg.Root)
	if err != nil {
		return nil, err
	}
	out := make([]BlueprintSummary, 0, len(lib.Blueprints))
	for _, bp := range lib.Blueprints {
		out = append(out, summary(bp, lib.Diagnostics))
	}
	return out, nil
}

// Blueprint returns one blueprint by id.
func (a *App) Blueprint(id string) (BlueprintDetail, error) {
	lib, err := blueprint.Load(a.cfg.Root)
	if err != nil {
		return BlueprintDetail{}, err
	}
	bp, err := lib.Find(id)
	if err != nil {
		return BlueprintDetail{}, err
	}
	return BlueprintDetail{
		BlueprintSummary: summary(bp, lib.Diagnostics),
		Source:           string(bp.Source),
		Sections:         nonNil(bp.Sections),
		Scope:            bp.Scope,
		Model:            bp.Model,
	}, nil
}

func summary(bp *backend.Blueprint, all backend.Diagnostics) BlueprintSummary {
	diags := backend.Diagnostics{}
	for _, d := range all {
		if d.Path == bp.Path {
			diags = append(diags, d)
		}
	}
	return BlueprintSummary{ID: bp.ID, Title: bp.Title, Path: bp.Path, Version: bp.Version, Steps: nonNil(bp.Steps), Diagnostics: diags}
}

// RunFilter selects runs in the list.
type RunFilter struct {
	Blueprint string `json:"blueprint,omitempty"`
	Status    string `json:"status,omitempty"`
	Limit     int    `json:"limit,omitempty"`
}

// Runs lists runs, newest first.
func (a *App) Runs(f RunFilter) ([]backend.Run, error) {
	runs, err := a.cfg.Store.Runs(a.ctx, backend.RunFilter{BlueprintID: f.Blueprint, Status: f.Status, Limit: f.Limit})
	return nonNil(runs), err
}

// Run returns one run with everything recorded about it.
func (a *App) Run(id string) (*backend.RunDetail, error) {
	d, err := a.cfg.Store.Run(a.ctx, id)
	if err != nil {
		return nil, err
	}
	d.Steps, d.Attempts, d.Calls, d.Artifacts = nonNil(d.Steps), nonNil(d.Attempts), nonNil(d.Calls), nonNil(d.Artifacts)
	return d, nil
}

// Comparison is two runs side by side.
type Comparison struct {
	A *backend.RunDetail `json:"a"`
	B *backend.RunDetail `json:"b"`
}

// Compare returns two runs for the side-by-side view.
func (a *App) Compare(idA, idB string) (Comparison, error) {
	ra, err := a.Run(idA)
	if err != nil {
		return Comparison{}, err
	}
	rb, err := a.Run(idB)
	if err != nil {
		return Comparison{}, err
	}
	return Comparison{A: ra, B: rb}, nil
}

// Blob returns a stored prompt, answer or file content as text.
func (a *App) Blob(hash string) (string, error) {
	data, err := a.cfg.Store.Blob(a.ctx, hash)
	return string(data), err
}

// StartRunRequest asks for a run.
type StartRunRequest struct {
	Blueprint string `json:"blueprint"`
	Model     string `json:"model,omitempty"`
	Parallel  int    `json:"parallel,omitempty"`
	// OverBudget starts the run even when its estimate exceeds the
	// blueprint's budget.
	OverBudget bool `json:"over_budget,omitempty"`
}

// StartRun starts a run and returns it at once; progress arrives as events.
func (a *App) StartRun(req StartRunRequest) (*backend.Run, error) {
	lib, err := blueprint.Load(a.cfg.Root)
	if err != nil {
		return nil, err
	}
	bp, err := lib.Find(req.Blueprint)
	if err != nil {
		return nil, err
	}
	var diags backend.Diagnostics
	for _, d := range lib.Diagnostics {
		if d.Path == bp.Path || strings.HasPrefix(d.Path, "blueprints/roles/") {
			diags = append(diags, d)
		}
	}
	if len(diags) > 0 {
		return nil, diags.Err()
	}
	if req.Model != "" {
		if _, err := backend.ParseModelRef(req.Model); err != nil {
			return nil, err
		}
	}
	s := a.currentSettings()
	parallel := req.Parallel
	if parallel <= 0 {
		parallel = s.Parallel
	}
	ctx, cancel := context.WithCancel(a.ctx)
	opts := engine.RunOptions{
		RunID:     engine.NewRunID(),
		Blueprint: bp,
		Roles:     lib.Roles,
		Workspace: a.cfg.Root,
		Model:     req.Model,
		Parallel:  parallel,
		// The app stays open: a step waits for its review in the UI.
		WaitReview: true,
	}
	if over := engine.EstimateRun(bp, lib.Roles).Over(bp.Budget); len(over) > 0 && !req.OverBudget {
		cancel()
		return nil, backend.Errorf(backend.EINVALID, "blueprint %s: the estimate exceeds its budget %v; raise the budget or start it over budget", bp.ID, over)
	}
	a.mu.Lock()
	a.runs[opts.RunID] = cancel
	a.mu.Unlock()
	release := func() {
		cancel()
		a.mu.Lock()
		delete(a.runs, opts.RunID)
		a.mu.Unlock()
	}
	return a.launch(ctx, opts.RunID, s, bp, release, func(ctx context.Context, eng *engine.Engine) error {
		_, err := eng.Run(ctx, opts)
		return err
	})
}

// launch runs start (the engine's Run or Resume of run id) in the
// background, then release. It returns the run once its "running" event
// arrives, or start's error when start failed before that.
func (a *App) launch(ctx context.Context, id string, s Settings, bp *backend.Blueprint, release func(),
	start func(context.Context, *engine.Engine) error) (*backend.Run, error) {
	started := make(chan struct{})
	var once sync.Once
	var early error // set once, before started is closed
	begin := func(err error) {
		once.Do(func() {
			early = err
			close(started)
		})
	}
	eng := a.engine(s, bp, func(e engine.Event) {
		if e.Kind == "run" && e.RunID == id && e.Status == backend.StatusRunning {
			begin(nil)
		}
		a.emit(fromEngine(e))
	})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := start(ctx, eng)
		release() // before begin: a refused start is not left registered
		begin(err)
		if err != nil && early == nil { // it failed after it started
			a.cfg.Logger.Error("run ended with an error", "run", id, "err", err)
			a.emit(Event{Kind: "run", RunID: id, Status: backend.StatusFailed, Message: err.Error()})
		}
	}()
	<-started
	if early != nil {
		return nil, early
	}
	d, err := a.cfg.Store.Run(a.ctx, id)
	if err != nil {
		return nil, err
	}
	return &d.Run, nil
}

// CancelRun cancels a run: at once when this App runs it, else through the
// database, where the process that runs it (a factory run in a terminal)
// sees the request within a second; a run no process holds any more is
// canceled at once.
func (a *App) CancelRun(id string) error {
	a.mu.Lock()
	cancel, ok := a.runs[id]
	a.mu.Unlock()
	if ok {
		cancel()
		return nil
	}
	_, err := a.cfg.Store.RequestCancel(a.ctx, id)
	return err
}

// engine returns an engine with the current providers.
func (a *App) engine(s Settings, bp *backend.Blueprint, onEvent func(engine.Event)) *engine.Engine {
	var redact func(string) string
	if bp != nil {
		redact = engine.Redactor(bp, a.cfg.Getenv)
	}
	return engine.New(engine.Config{
		Store:     a.cfg.Store,
		Getenv:    a.cfg.Getenv,
		Attempter: agent.New(agent.Config{Logger: a.cfg.Logger, Now: a.cfg.Now, Redact: redact}),
		Providers: model.New(s.modelConfig(a.cfg.Getenv)),
		Logger:    a.cfg.Logger,
		Now:       a.cfg.Now,
		OnEvent:   onEvent,
	})
}

func fromEngine(e engine.Event) Event {
	return Event{Time: e.Time, Kind: e.Kind, RunID: e.RunID, StepID: e.StepID, Attempt: e.Attempt, Status: e.Status,
		Message: e.Message, Text: e.Text, TokensIn: e.TokensIn, TokensOut: e.TokensOut, Duration: e.Duration}
}

// OpenFile opens a generated file of a run in the system's editor and
// returns its absolute path.
func (a *App) OpenFile(runID, path string) (string, error) {
	d, err := a.cfg.Store.Run(a.ctx, runID)
	if err != nil {
		return "", err
	}
	for _, art := range d.Artifacts {
		if art.Path != path {
			continue
		}
		abs, err := insideWorkspace(a.cfg.Root, d.Run.Output, art.Path)
		if err != nil {
			return "", err
		}
		if opener := systemOpener(); opener != "" {
			cmd := exec.Command(opener, abs)
			if err := cmd.Start(); err != nil {
				return abs, backend.WrapError(backend.EUNAVAILABLE, err, "opening %s", abs)
			}
			go cmd.Wait() //nolint:errcheck // the editor's exit status is not ours
		}
		return abs, nil
	}
	return "", backend.Errorf(backend.ENOTFOUND, "run %s wrote no file %q", runID, path)
}

// insideWorkspace returns the absolute path of file under output, both
// relative to the workspace root, when it stays inside the workspace (a
// recorded run's output or path, imported from elsewhere, may say
// anything); symlinks are followed for the check.
func insideWorkspace(root, output, file string) (string, error) {
	if path.IsAbs(output) || path.IsAbs(file) {
		return "", backend.Errorf(backend.EINVALID, "%s/%s is not a path inside the workspace; not opened", output, file)
	}
	abs := filepath.Join(root, filepath.FromSlash(output), filepath.FromSlash(file))
	check := abs
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		check = real
	}
	realRoot := root
	if r, err := filepath.EvalSymlinks(root); err == nil {
		realRoot = r
	}
	for _, pair := range [][2]string{{root, abs}, {realRoot, check}} {
		rel, err := filepath.Rel(pair[0], pair[1])
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			return "", backend.Errorf(backend.EINVALID, "%s is outside the workspace; not opened", pair[1])
		}
	}
	return abs, nil
}

func systemOpener() string {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
