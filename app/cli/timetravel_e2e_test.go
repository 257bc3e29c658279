package cli_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/rerun"
	"factorydesk/backend/rundiff"
)

// chainBlueprint has a chain a -> b -> c and an independent step d, each
// using its own section.
const chainBlueprint = `---
blueprint: chain
title: Chain
model: ollama:` + modeltest.DefaultModel + `
output: out/chain
steps:
  - id: a
    role: architect
    uses: [Alpha]
    writes: [a.txt]
  - id: b
    role: backend-developer
    uses: [Beta]
    needs: [a]
    writes: [b.txt]
  - id: c
    role: qa-engineer
    uses: [Gamma]
    needs: [b]
    writes: [c.txt]
  - id: d
    role: devops
    uses: [Delta]
    writes: [d.txt]
---
# Chain

## Alpha

The first part.

## Beta

The second part.

## Gamma

The third part.

## Delta

On its own.
`

// chainServer answers each step with STEP.txt naming the model and counts
// the calls per step.
type chainServer struct {
	srv   *modeltest.Ollama
	mu    sync.Mutex
	calls map[string]int
}

var stepLine = regexp.MustCompile(`(?m)^# Step: (\S+)`)

func newChainServer(t *testing.T) *chainServer {
	t.Helper()
	cs := &chainServer{srv: modeltest.NewOllama(t), calls: map[string]int{}}
	cs.srv.AddModel("other-model")
	cs.srv.Respond(func(req modeltest.Request) modeltest.Reply {
		step := ""
		for _, m := range req.Messages {
			if s := stepLine.FindStringSubmatch(m.Content); s != nil {
				step = s[1]
			}
		}
		cs.mu.Lock()
		cs.calls[step]++
		cs.mu.Unlock()
		content := fmt.Sprintf("step %s\nwritten by %s\n", step, req.Model)
		return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{step + ".txt": content}, "ok"),
			PromptTokens: 50, EvalTokens: 10}
	})
	return cs
}

// take returns the calls per step since the last take.
func (cs *chainServer) take() map[string]int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := cs.calls
	cs.calls = map[string]int{}
	return out
}

func (cs *chainServer) env() []string { return ollamaEnv(cs.srv) }

// chainWorkspace makes a workspace holding the chain blueprint.
func chainWorkspace(t *testing.T) string {
	t.Helper()
	ws := workspace(t)
	writeText(t, filepath.Join(ws, "blueprints", "chain.md"), chainBlueprint)
	return ws
}

func writeText(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runID runs factory and returns the run id it prints.
func runID(t *testing.T, ws string, env []string, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(must(t, factory(t, ws, env, args...), 0).stdout)
	if !runIDPattern.MatchString(id) {
		t.Fatalf("factory %v printed %q, not a run id", args, id)
	}
	return id
}

func stepsOf(t *testing.T, ws, id string) map[string]backend.StepRun {
	t.Helper()
	d, err := openDB(t, ws).Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]backend.StepRun{}
	for _, s := range d.Steps {
		out[s.StepID] = s
	}
	return out
}

func TestStepCache(t *testing.T) {
	ws := chainWorkspace(t)
	cs := newChainServer(t)
	first := runID(t, ws, cs.env(), "run", "chain")
	if got := cs.take(); len(got) != 4 {
		t.Fatalf("first run called the model for %v, want every step", got)
	}

	t.Run("unchanged blueprint makes no model call", func(t *testing.T) {
		id := runID(t, ws, cs.env(), "run", "chain")
		if got := cs.take(); len(got) != 0 {
			t.Fatalf("second run called the model for %v", got)
		}
		for step, s := range stepsOf(t, ws, id) {
			if !s.CacheHit || s.Status != backend.StatusSucceeded || s.Attempts != 0 {
				t.Errorf("step %s = %+v, want a succeeded cache hit", step, s)
			}
		}
		var shown backend.RunDetail
		decode(t, must(t, factory(t, ws, nil, "show", id, "--json"), 0).stdout, &shown)
		if shown.Run.Calls != 0 || len(shown.Artifacts) != 4 {
			t.Errorf("cached run: %d calls, %d artifacts; want 0 and 4", shown.Run.Calls, len(shown.Artifacts))
		}
	})

	t.Run("a section edit re-runs only the steps it reaches", func(t *testing.T) {
		bp := strings.Replace(chainBlueprint, "The second part.", "The second part, changed.", 1)
		writeText(t, filepath.Join(ws, "blueprints", "chain.md"), bp)
		runID(t, ws, cs.env(), "run", "chain")
		got := cs.take()
		// c's output does not depend on b's prompt, only on b's file, which
		// the scripted model writes the same: c stays cached.
		if len(got) != 1 || got["b"] != 1 {
			t.Fatalf("after editing Beta the model was called for %v, want b only", got)
		}
	})

	t.Run("a changed upstream file re-runs its dependents", func(t *testing.T) {
		id := runID(t, ws, cs.env(), "run", "chain", "--model", "ollama:other-model")
		got := cs.take()
		if len(got) != 4 {
			t.Fatalf("a new model re-ran %v, want every step", got)
		}
		_ = id
	})

	t.Run("no-cache runs every step", func(t *testing.T) {
		runID(t, ws, cs.env(), "run", "chain", "--no-cache")
		if got := cs.take(); len(got) != 4 {
			t.Fatalf("--no-cache called the model for %v, want every step", got)
		}
	})
	_ = first
}

func TestReplay(t *testing.T) {
	ws := chainWorkspace(t)
	cs := newChainServer(t)
	id := runID(t, ws, cs.env(), "run", "chain")
	cs.take()

	t.Run("a clean run replays identical", func(t *testing.T) {
		var res rerun.ReplayResult
		decode(t, must(t, factory(t, ws, nil, "replay", id, "--json"), 0).stdout, &res)
		if !res.Identical || res.Calls != 4 || res.Run.Kind != backend.KindReplay || res.Run.ParentID != id {
			t.Fatalf("replay = %+v", res)
		}
		if got := cs.take(); len(got) != 0 {
			t.Errorf("replay called the model server: %v", got)
		}
		data, err := os.ReadFile(filepath.Join(ws, filepath.FromSlash(res.Output), "c.txt"))
		if err != nil || !strings.Contains(string(data), "step c") {
			t.Errorf("replay output c.txt = %q, %v", data, err)
		}
		text := must(t, factory(t, ws, nil, "replay", id[:10]), 0).stdout
		if !strings.Contains(text, "identical") {
			t.Errorf("replay text output:\n%s", text)
		}
	})

	t.Run("a tampered answer is reported by step", func(t *testing.T) {
		tamper(t, ws, id, "a", modeltest.FilesAnswer(map[string]string{"a.txt": "step a\ntampered\n"}, "ok"))
		r := must(t, factory(t, ws, nil, "replay", id), 1)
		for _, want := range []string{"diverged", "a.txt: first differs at line 2", "tampered", "request differed"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("replay output lacks %q:\n%s", want, r.stdout)
			}
		}
		// A step whose request differed is never printed as the same.
		if regexp.MustCompile(`(?m)^  b +same `).MatchString(r.stdout) {
			t.Errorf("step b printed as the same although its request differed:\n%s", r.stdout)
		}
		var res rerun.ReplayResult
		decode(t, must(t, factory(t, ws, nil, "replay", id, "--json"), 1).stdout, &res)
		for _, s := range res.Steps {
			switch s.StepID {
			case "a":
				if s.Identical || len(s.Files) != 1 || s.Files[0].Line != 2 {
					t.Errorf("step a = %+v, want a.txt differing at line 2", s)
				}
			case "b":
				if s.Identical || len(s.Requests) == 0 || !strings.Contains(s.Requests[0], "user message differs") {
					t.Errorf("step b = %+v, want it diverged with its request's difference", s)
				}
			case "d":
				if !s.Identical {
					t.Errorf("step d = %+v, want identical", s)
				}
			}
		}
	})
}

// tamper replaces the recorded answer of a step's call.
func tamper(t *testing.T, ws, runID, step, answer string) {
	t.Helper()
	db := openDB(t, ws)
	hash, err := db.PutBlob(context.Background(), []byte(answer))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", filepath.Join(ws, ".factory", "factory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE model_calls SET answer_hash = ? WHERE run_id = ? AND step_id = ?`, hash, runID, step); err != nil {
		t.Fatal(err)
	}
}

func TestForkAndDiff(t *testing.T) {
	ws := chainWorkspace(t)
	cs := newChainServer(t)
	id := runID(t, ws, cs.env(), "run", "chain")
	cs.take()

	fork := runID(t, ws, cs.env(), "rerun", id, "--from", "b", "--model", "ollama:other-model")
	t.Run("fork re-runs exactly the downstream steps", func(t *testing.T) {
		got := cs.take()
		if len(got) != 2 || got["b"] != 1 || got["c"] != 1 {
			t.Fatalf("fork from b called the model for %v, want b and c", got)
		}
		steps := stepsOf(t, ws, fork)
		for _, s := range []string{"a", "d"} {
			if !steps[s].CacheHit {
				t.Errorf("step %s = %+v, want its recorded outputs reused", s, steps[s])
			}
		}
		var shown backend.RunDetail
		decode(t, must(t, factory(t, ws, nil, "show", fork, "--json"), 0).stdout, &shown)
		if shown.Run.Kind != backend.KindFork || shown.Run.ParentID != id {
			t.Errorf("fork run = %+v", shown.Run)
		}
		data, _ := os.ReadFile(filepath.Join(ws, "out", "chain", "b.txt"))
		if !strings.Contains(string(data), "other-model") {
			t.Errorf("b.txt after the fork = %q", data)
		}
	})

	t.Run("diff shows the changed model, prompts and files", func(t *testing.T) {
		var rep rundiff.Report
		decode(t, must(t, factory(t, ws, nil, "diff", id, fork, "--json"), 0).stdout, &rep)
		byStep := map[string]rundiff.Step{}
		for _, s := range rep.Steps {
			byStep[s.StepID] = s
		}
		b := byStep["b"]
		if b.Model[1] != "ollama:other-model" || len(b.Files) != 1 || b.Files[0].Change != rundiff.Changed {
			t.Errorf("step b diff = %+v", b)
		}
		c := byStep["c"]
		if !strings.Contains(c.Prompt, "+written by other-model") {
			t.Errorf("step c prompt diff lacks the new upstream file:\n%s", c.Prompt)
		}
		if !byStep["a"].Same || !byStep["d"].Same {
			t.Errorf("steps a and d should be the same: %+v %+v", byStep["a"], byStep["d"])
		}
		text := must(t, factory(t, ws, nil, "diff", id, fork), 0).stdout
		for _, want := range []string{"step a: same", "model      ollama:" + modeltest.DefaultModel + " -> ollama:other-model",
			"-written by " + modeltest.DefaultModel, "+written by other-model"} {
			if !strings.Contains(text, want) {
				t.Errorf("diff output lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("an unknown step is refused", func(t *testing.T) {
		r := must(t, factory(t, ws, cs.env(), "rerun", id, "--from", "nope"), 1)
		if !strings.Contains(r.stderr, `no step "nope"`) {
			t.Errorf("stderr: %s", r.stderr)
		}
		must(t, factory(t, ws, nil, "rerun", id), 2)
	})
}

func TestBundleRoundTrip(t *testing.T) {
	ws := chainWorkspace(t)
	cs := newChainServer(t)
	id := runID(t, ws, cs.env(), "run", "chain")
	file := filepath.Join(t.TempDir(), "run.tgz")
	must(t, factory(t, ws, nil, "export", id, "-o", file), 0)

	other := workspace(t)
	t.Run("import, show and replay in a fresh workspace", func(t *testing.T) {
		if got := strings.TrimSpace(must(t, factory(t, other, nil, "import", file), 0).stdout); got != id {
			t.Fatalf("import printed %q, want %s", got, id)
		}
		r := must(t, factory(t, other, nil, "import", file), 0)
		if !strings.Contains(r.stderr, "already") {
			t.Errorf("second import: %s", r.stderr)
		}
		var shown backend.RunDetail
		decode(t, must(t, factory(t, other, nil, "show", id, "--json"), 0).stdout, &shown)
		if len(shown.Calls) != 4 || len(shown.Artifacts) != 4 {
			t.Errorf("imported run has %d calls and %d artifacts", len(shown.Calls), len(shown.Artifacts))
		}
		if spans := must(t, factory(t, other, nil, "show", id, "--spans"), 0).stdout; !strings.Contains(spans, "chat") {
			t.Errorf("imported spans:\n%s", spans)
		}
		var res rerun.ReplayResult
		decode(t, must(t, factory(t, other, nil, "replay", id, "--json"), 0).stdout, &res)
		if !res.Identical {
			t.Errorf("replay of the imported run: %+v", res)
		}
	})

	t.Run("a truncated bundle is refused and imports nothing", func(t *testing.T) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), "cut.tgz")
		writeText(t, cut, string(data[:len(data)*2/3]))
		fresh := workspace(t)
		r := must(t, factory(t, fresh, nil, "import", cut), 1)
		if !strings.Contains(r.stderr, "damaged") {
			t.Errorf("stderr: %s", r.stderr)
		}
		var runs []backend.Run
		decode(t, must(t, factory(t, fresh, nil, "runs", "--json"), 0).stdout, &runs)
		if len(runs) != 0 {
			t.Errorf("a refused import left %d runs", len(runs))
		}
	})
}

func TestLineage(t *testing.T) {
	ws := chainWorkspace(t)
	cs := newChainServer(t)
	id := runID(t, ws, cs.env(), "run", "chain")
	cached := runID(t, ws, cs.env(), "run", "chain")

	var l struct {
		RunID    string   `json:"run_id"`
		StepID   string   `json:"step"`
		Attempt  int      `json:"attempt"`
		Role     string   `json:"role"`
		Model    string   `json:"model"`
		ReusedBy []string `json:"reused_by"`
		Sections []struct {
			ID        string
			Line, End int
		}
	}
	decode(t, must(t, factory(t, ws, nil, "lineage", "out/chain/b.txt", "--json"), 0).stdout, &l)
	if l.RunID != id || l.StepID != "b" || l.Attempt != 1 || l.Role != "backend-developer" ||
		l.Model != "ollama:"+modeltest.DefaultModel || len(l.ReusedBy) != 1 || l.ReusedBy[0] != cached {
		t.Errorf("lineage = %+v", l)
	}
	if len(l.Sections) != 1 || l.Sections[0].ID != "beta" || l.Sections[0].Line != 32 || l.Sections[0].End < 34 {
		t.Errorf("lineage sections = %+v", l.Sections)
	}
	text := must(t, factory(t, ws, nil, "lineage", filepath.Join(ws, "out", "chain", "a.txt")), 0).stdout
	if !strings.Contains(text, "architect") || !strings.Contains(text, "alpha") {
		t.Errorf("lineage text:\n%s", text)
	}
	must(t, factory(t, ws, nil, "lineage", "blueprints/chain.md"), 1)
}
