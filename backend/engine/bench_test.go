package engine

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/agent"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/sqlite"
)

// instantProvider is an in-process model server for benchmarks: it answers
// every call with a valid files answer for the step asked, after a delay
// the step's id maps to (none when absent).
type instantProvider struct {
	latency map[string]time.Duration
}

// Name implements backend.Provider.
func (p *instantProvider) Name() string { return backend.ProviderOllama }

// Chat implements backend.Provider.
func (p *instantProvider) Chat(ctx context.Context, req backend.ChatRequest, onToken func(string)) (backend.ChatResponse, error) {
	start := time.Now()
	id := ""
	for _, m := range req.Messages {
		if _, rest, ok := strings.Cut(m.Content, "# Step: "); ok {
			id, _, _ = strings.Cut(rest, "\n")
			break
		}
	}
	if d := p.latency[id]; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return backend.ChatResponse{}, backend.WrapError(backend.ECANCELED, ctx.Err(), "canceled")
		}
	}
	content := modeltest.FilesAnswer(map[string]string{id + ".txt": "output of " + id + "\n"}, "done")
	if onToken != nil {
		onToken(content)
	}
	return backend.ChatResponse{Content: content, Model: req.Model, InputTokens: 100, OutputTokens: 20,
		DoneReason: "stop", Duration: time.Since(start)}, nil
}

// List implements backend.Provider.
func (p *instantProvider) List(context.Context) ([]backend.ModelInfo, error) { return nil, nil }

// benchEngine returns an engine with the real agent and a real SQLite store
// on a temporary file, and a workspace folder.
func benchEngine(b *testing.B, p backend.Provider) (*Engine, string) {
	b.Helper()
	ws := b.TempDir()
	db := sqlite.NewDB(filepath.Join(ws, ".factory", "factory.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return New(Config{Store: db, Attempter: agent.New(agent.Config{}),
		Providers: map[string]backend.Provider{backend.ProviderOllama: p}}), ws
}

// randomDAG returns n steps, each needing up to 3 random earlier steps.
func randomDAG(n int, seed int64) []backend.Step {
	rng := rand.New(rand.NewSource(seed))
	steps := make([]backend.Step, n)
	for i := range steps {
		var needs []string
		for k := rng.Intn(4); k > 0 && i > 0; k-- {
			need := fmt.Sprintf("s%04d", rng.Intn(i))
			if !strings.Contains(strings.Join(needs, ","), need) {
				needs = append(needs, need)
			}
		}
		steps[i] = step(fmt.Sprintf("s%04d", i), needs...)
	}
	return steps
}

// BenchmarkEngineOverhead measures the engine's own cost per step: a
// 1,000-step DAG answered instantly, written by the real agent and recorded
// in SQLite, with the default parallelism (one step per CPU) and with 8.
func BenchmarkEngineOverhead(b *testing.B) {
	const n = 1000
	bp := blueprint(randomDAG(n, 1)...)
	for _, parallel := range []int{0, 8} {
		name := fmt.Sprintf("parallel=%d", parallel)
		if parallel == 0 {
			name = "parallel=cpus"
		}
		b.Run(name, func(b *testing.B) {
			eng, ws := benchEngine(b, &instantProvider{})
			for b.Loop() {
				run, err := eng.Run(context.Background(), RunOptions{Blueprint: bp, Roles: roles(), Workspace: ws, Parallel: parallel, NoCache: true})
				if err != nil || run.Status != backend.StatusSucceeded {
					b.Fatalf("run: %v, %+v", err, run)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*n), "ms/step")
		})
	}
}

// BenchmarkParallelMakespan measures how close a run with simulated model
// latency comes to the DAG's critical path with 8 steps at once. The
// latencies (50-200 ms) are short for a model call, which keeps the
// benchmark quick while the engine's own per-step cost stays visible.
func BenchmarkParallelMakespan(b *testing.B) {
	const layers, width = 10, 6
	rng := rand.New(rand.NewSource(2))
	latency := map[string]time.Duration{}
	var steps []backend.Step
	finish := map[string]time.Duration{} // earliest finish, for the critical path
	critical := time.Duration(0)
	for l := range layers {
		for w := range width {
			id := fmt.Sprintf("l%02dw%d", l, w)
			var needs []string
			if l > 0 {
				needs = append(needs, fmt.Sprintf("l%02dw%d", l-1, rng.Intn(width)))
				if other := fmt.Sprintf("l%02dw%d", l-1, rng.Intn(width)); other != needs[0] {
					needs = append(needs, other)
				}
			}
			latency[id] = time.Duration(50+rng.Intn(151)) * time.Millisecond
			start := time.Duration(0)
			for _, need := range needs {
				start = max(start, finish[need])
			}
			finish[id] = start + latency[id]
			critical = max(critical, finish[id])
			steps = append(steps, step(id, needs...))
		}
	}
	eng, ws := benchEngine(b, &instantProvider{latency: latency})
	bp := blueprint(steps...)
	var makespan time.Duration
	for b.Loop() {
		start := time.Now()
		run, err := eng.Run(context.Background(), RunOptions{Blueprint: bp, Roles: roles(), Workspace: ws, Parallel: 8, NoCache: true})
		makespan += time.Since(start)
		if err != nil || run.Status != backend.StatusSucceeded {
			b.Fatalf("run: %v, %+v", err, run)
		}
	}
	b.ReportMetric(float64(makespan)/float64(b.N)/float64(critical), "makespan/critical")
	b.ReportMetric(float64(critical.Milliseconds()), "critical-ms")
}
