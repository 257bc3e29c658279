package engine

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/agent"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/ollama"
	"factorydesk/backend/sqlite"
)

// testEnv is a workspace with a real SQLite store, a real agent and the real
// Ollama provider talking to an Ollama test server.
type testEnv struct {
	t      *testing.T
	ws     string
	db     *sqlite.DB
	server *modeltest.Ollama
	engine *Engine

	mu      sync.Mutex
	events  []Event
	replies map[string][]modeltest.Reply // scripted answers by step id
}

// newEnv starts a test environment; tweak adjusts the engine's config.
func newEnv(t *testing.T, tweak func(*Config)) *testEnv {
	t.Helper()
	env := &testEnv{t: t, ws: t.TempDir(), server: modeltest.NewOllama(t), replies: map[string][]modeltest.Reply{}}
	env.db = sqlite.NewDB(filepath.Join(env.ws, ".factory", "factory.db"))
	if err := env.db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.db.Close(); err != nil {
			t.Error(err)
		}
	})
	env.server.Respond(env.respond)
	cfg := Config{
		Store:     env.db,
		Attempter: agent.New(agent.Config{}),
		Providers: map[string]backend.Provider{
			backend.ProviderOllama: ollama.New(ollama.Config{Host: env.server.URL()}),
		},
		OnEvent: env.record,
		// The Go build cache of this machine keeps sandboxed builds fast.
		GateCache: goCache(t),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	env.engine = New(cfg)
	return env
}

var stepHeading = regexp.MustCompile(`(?m)^# Step: (\S+)`)

// stepOf returns the step a chat request is for.
func stepOf(req modeltest.Request) string {
	for _, m := range req.Messages {
		if s := stepHeading.FindStringSubmatch(m.Content); s != nil {
			return s[1]
		}
	}
	return ""
}

// respond answers a chat call with the step's next scripted reply (the last
// one repeats), or by writing STEP.txt.
func (env *testEnv) respond(req modeltest.Request) modeltest.Reply {
	id := stepOf(req)
	env.mu.Lock()
	queue := env.replies[id]
	if len(queue) > 1 {
		env.replies[id] = queue[1:]
	}
	env.mu.Unlock()
	if len(queue) > 0 {
		return queue[0]
	}
	return filesReply(map[string]string{id + ".txt": "output of " + id + "\n"})
}

// script sets the replies for a step's chat calls.
func (env *testEnv) script(step string, replies ...modeltest.Reply) {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.replies[step] = replies
}

func (env *testEnv) record(ev Event) {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.events = append(env.events, ev)
}

// eventsOf returns the events of a kind.
func (env *testEnv) eventsOf(kind string) []Event {
	env.mu.Lock()
	defer env.mu.Unlock()
	var out []Event
	for _, ev := range env.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// run runs bp with the given options filled in.
func (env *testEnv) run(ctx context.Context, bp *backend.Blueprint, opts RunOptions) *backend.Run {
	env.t.Helper()
	opts.Blueprint, opts.Workspace = bp, env.ws
	if opts.Roles == nil {
		opts.Roles = roles()
	}
	if opts.Parallel == 0 {
		opts.Parallel = 2
	}
	if opts.GateTimeout == 0 {
		opts.GateTimeout = time.Minute
	}
	run, err := env.engine.Run(ctx, opts)
	if err != nil {
		env.t.Fatalf("Run: %v", err)
	}
	return run
}

// detail reads a run back from the store.
func (env *testEnv) detail(id string) *backend.RunDetail {
	env.t.Helper()
	d, err := env.db.Run(context.Background(), id)
	if err != nil {
		env.t.Fatalf("store: run %s: %v", id, err)
	}
	return d
}

// stepsByID indexes a run's recorded steps.
func stepsByID(d *backend.RunDetail) map[string]backend.StepRun {
	m := make(map[string]backend.StepRun, len(d.Steps))
	for _, s := range d.Steps {
		m[s.StepID] = s
	}
	return m
}

// wantSteps checks the recorded status of each named step.
func wantSteps(t *testing.T, d *backend.RunDetail, want map[string]string) {
	t.Helper()
	got := stepsByID(d)
	if len(got) != len(d.Steps) {
		t.Errorf("steps recorded more than once: %+v", d.Steps)
	}
	for id, status := range want {
		if got[id].Status != status {
			t.Errorf("step %s: status %q (error %q), want %q", id, got[id].Status, got[id].Error, status)
		}
	}
}

// prompt returns the stored request of a recorded model call.
func (env *testEnv) prompt(c backend.ModelCall) string {
	env.t.Helper()
	data, err := env.db.Blob(context.Background(), c.PromptHash)
	if err != nil {
		env.t.Fatalf("store: prompt of call %d: %v", c.ID, err)
	}
	return string(data)
}

func filesReply(files map[string]string) modeltest.Reply {
	return modeltest.Reply{Content: modeltest.FilesAnswer(files, "done")}
}

func roles() map[string]*backend.Role {
	return map[string]*backend.Role{
		"dev": {Name: "dev", Description: "writes code", Prompt: "You are a careful Go developer."},
	}
}

// step returns a step of role dev that writes ID.txt and uses Overview.
func step(id string, needs ...string) backend.Step {
	return backend.Step{ID: id, Role: "dev", Uses: []string{"Overview"}, Needs: needs, Writes: []string{id + ".txt"}}
}

// blueprint returns a blueprint with the given steps.
func blueprint(steps ...backend.Step) *backend.Blueprint {
	src := "---\nblueprint: svc\ntitle: Svc\n---\n# Svc\n## Overview\nA small service.\n"
	return &backend.Blueprint{
		Path: "blueprints/svc.md", Source: []byte(src), ID: "svc", Title: "Svc",
		Scope: map[string]string{"edition": "standard"}, Model: "ollama:" + modeltest.DefaultModel,
		Output: "out/svc", Steps: steps,
		Sections: []backend.Section{
			{ID: "svc", Title: "Svc", Level: 1, Line: 5, End: 7, Text: "# Svc\n## Overview\nA small service.\n"},
			{ID: "overview", Title: "Overview", Level: 2, Line: 6, End: 7, Text: "## Overview\nA small service.\n"},
		},
	}
}

// requestSteps returns the step of each chat request, in order of arrival.
func (env *testEnv) requestSteps() []string {
	var out []string
	for _, r := range env.server.Requests() {
		out = append(out, stepOf(r))
	}
	return out
}

func contains(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s does not contain %q:\n%s", what, sub, s)
	}
}

// goCache returns this machine's Go build cache.
func goCache(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	return strings.TrimSpace(string(out))
}
