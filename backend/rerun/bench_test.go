package rerun_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/agent"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/engine"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/rerun"
	"factorydesk/backend/sqlite"
)

// countingProvider is an in-process model server: it answers every call
// at once with STEP.txt and counts the calls.
type countingProvider struct{ calls atomic.Int64 }

func (p *countingProvider) Name() string { return backend.ProviderOllama }

func (p *countingProvider) List(context.Context) ([]backend.ModelInfo, error) { return nil, nil }

func (p *countingProvider) Chat(_ context.Context, req backend.ChatRequest, _ func(string)) (backend.ChatResponse, error) {
	p.calls.Add(1)
	id := ""
	for _, m := range req.Messages {
		if _, rest, ok := strings.Cut(m.Content, "# Step: "); ok {
			id, _, _ = strings.Cut(rest, "\n")
		}
	}
	content := modeltest.FilesAnswer(map[string]string{id + ".txt": "output of " + id + "\n"}, "done")
	return backend.ChatResponse{Content: content, Model: req.Model, InputTokens: 100, OutputTokens: 20, DoneReason: "stop"}, nil
}

// fixture is a workspace with a recorded run of an n-step blueprint: a
// chain of ten-step chains.
type fixture struct {
	ws    string
	db    *sqlite.DB
	bp    *backend.Blueprint
	roles map[string]*backend.Role
	p     *countingProvider
	cfg   engine.Config
	run   *backend.Run
}

func newFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	f := &fixture{ws: tb.TempDir(), p: &countingProvider{}}
	f.db = sqlite.NewDB(filepath.Join(f.ws, ".factory", "factory.db"))
	if err := f.db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.db.Close() })
	f.roles = map[string]*backend.Role{"dev": {Name: "dev", Description: "writes", Prompt: "You write files."}}
	var b strings.Builder
	b.WriteString("---\nblueprint: big\ntitle: Big\nmodel: ollama:m\noutput: out/big\nsteps:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: s%03d\n    role: dev\n    uses: [Main]\n    writes: [s%03d.txt]\n", i, i)
		if i%10 != 0 {
			fmt.Fprintf(&b, "    needs: [s%03d]\n", i-1)
		}
	}
	b.WriteString("---\n# Big\n\n## Main\n\nMany steps.\n")
	bp, diags := blueprint.Parse("blueprints/big.md", []byte(b.String()), f.roles)
	if len(diags) > 0 {
		tb.Fatal(diags)
	}
	f.bp = bp
	f.cfg = engine.Config{Store: f.db, Attempter: agent.New(agent.Config{}),
		Providers: map[string]backend.Provider{backend.ProviderOllama: f.p}}
	f.run = f.mustRun(tb, engine.RunOptions{NoCache: true})
	return f
}

func (f *fixture) mustRun(tb testing.TB, opts engine.RunOptions) *backend.Run {
	tb.Helper()
	opts.Blueprint, opts.Roles, opts.Workspace = f.bp, f.roles, f.ws
	run, err := engine.New(f.cfg).Run(context.Background(), opts)
	if err != nil || run.Status != backend.StatusSucceeded {
		tb.Fatalf("run: %v %+v", err, run)
	}
	return run
}

func TestReplayAndFork(t *testing.T) {
	f := newFixture(t, 30)
	ctx := context.Background()
	src, err := rerun.Load(ctx, f.db, f.run.ID[:12], nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("replay is identical with no call to the provider", func(t *testing.T) {
		before := f.p.calls.Load()
		res, err := rerun.Replay(ctx, f.cfg, src, engine.RunOptions{Workspace: f.ws})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Identical || res.Calls != 30 || f.p.calls.Load() != before {
			t.Fatalf("replay = %+v, provider calls %d", res, f.p.calls.Load()-before)
		}
	})
	t.Run("fork runs the step and its downstream only", func(t *testing.T) {
		before := f.p.calls.Load()
		run, err := rerun.Fork(ctx, f.cfg, src, "s015", engine.RunOptions{Workspace: f.ws})
		if err != nil || run.Status != backend.StatusSucceeded {
			t.Fatalf("fork: %v %+v", err, run)
		}
		if got := f.p.calls.Load() - before; got != 5 { // s015..s019
			t.Fatalf("fork made %d calls, want 5", got)
		}
	})
	t.Run("downstream", func(t *testing.T) {
		got := rerun.Downstream(f.bp, "s027")
		if len(got) != 3 || !got["s027"] || !got["s029"] {
			t.Errorf("Downstream(s027) = %v", got)
		}
	})
}

// BenchmarkReplay100 measures a replay of a recorded 100-step run: the
// engine, the real agent writing files, the replay provider, SQLite, and
// the byte-for-byte comparison.
func BenchmarkReplay100(b *testing.B) {
	f := newFixture(b, 100)
	ctx := context.Background()
	src, err := rerun.Load(ctx, f.db, f.run.ID, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := rerun.Replay(ctx, f.cfg, src, engine.RunOptions{Workspace: f.ws})
		if err != nil || !res.Identical {
			b.Fatalf("replay: %v %+v", err, res)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/replay")
}

// BenchmarkNoChangeRerun100 measures a run of an unchanged 100-step
// blueprint: every step taken from the step cache.
func BenchmarkNoChangeRerun100(b *testing.B) {
	f := newFixture(b, 100)
	before := f.p.calls.Load()
	for b.Loop() {
		f.mustRun(b, engine.RunOptions{})
	}
	b.ReportMetric(float64(f.p.calls.Load()-before)/float64(b.N), "calls/run")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/run")
}
