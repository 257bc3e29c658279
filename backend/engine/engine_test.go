package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

func TestRunGraphs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		steps    []backend.Step
		setup    func(env *testEnv)
		parallel int
		status   string            // the run's
		errorHas string            // in the run's error
		want     map[string]string // step statuses
		check    func(t *testing.T, env *testEnv, d *backend.RunDetail)
	}{
		{
			name:   "linear",
			steps:  []backend.Step{step("design"), step("code", "design"), step("tests", "code")},
			status: backend.StatusSucceeded,
			want:   map[string]string{"design": backend.StatusSucceeded, "code": backend.StatusSucceeded, "tests": backend.StatusSucceeded},
			check: func(t *testing.T, env *testEnv, d *backend.RunDetail) {
				if got := env.requestSteps(); !slices.Equal(got, []string{"design", "code", "tests"}) {
					t.Errorf("calls in order %v", got)
				}
				// Upstream is transitive: tests sees design's output too.
				p := env.prompt(callOf(t, d, "tests"))
				contains(t, "tests prompt", p, "output of design")
				contains(t, "tests prompt", p, "output of code")
			},
		},
		{
			name: "diamond",
			steps: []backend.Step{step("a"), step("b", "a"), step("c", "a"),
				step("d", "b", "c")},
			parallel: 1,
			status:   backend.StatusSucceeded,
			want:     map[string]string{"a": backend.StatusSucceeded, "b": backend.StatusSucceeded, "c": backend.StatusSucceeded, "d": backend.StatusSucceeded},
			check: func(t *testing.T, env *testEnv, d *backend.RunDetail) {
				if got := env.requestSteps(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
					t.Errorf("calls in order %v, want blueprint order", got)
				}
				p := env.prompt(callOf(t, d, "d"))
				for _, s := range []string{"a", "b", "c"} {
					contains(t, "d prompt", p, "output of "+s)
				}
				if p := env.prompt(callOf(t, d, "b")); strings.Contains(p, "output of c") {
					t.Errorf("b was given its sibling's output")
				}
			},
		},
		{
			name: "when skip satisfies dependents",
			steps: []backend.Step{step("code"),
				withWhen(step("pipeline", "code"), "edition", "enterprise"),
				step("docs", "pipeline")},
			status: backend.StatusSucceeded,
			want:   map[string]string{"code": backend.StatusSucceeded, "pipeline": backend.StatusSkipped, "docs": backend.StatusSucceeded},
			check: func(t *testing.T, env *testEnv, d *backend.RunDetail) {
				if slices.Contains(env.requestSteps(), "pipeline") {
					t.Errorf("the skipped step called the model")
				}
			},
		},
		{
			name: "failure skips dependents, sibling finishes",
			steps: []backend.Step{withValidate(step("code"), "echo 'main.go:1:1: broken' >&2; exit 1"),
				step("tests", "code"), step("deploy", "tests"), step("docs")},
			status:   backend.StatusFailed,
			errorHas: "step code failed after 1 attempt: $ echo",
			want: map[string]string{"code": backend.StatusFailed, "tests": backend.StatusSkipped,
				"deploy": backend.StatusSkipped, "docs": backend.StatusSucceeded},
			check: func(t *testing.T, env *testEnv, d *backend.RunDetail) {
				steps := stepsByID(d)
				for _, id := range []string{"tests", "deploy"} {
					if steps[id].Error != "dependency code failed" {
						t.Errorf("step %s: error %q", id, steps[id].Error)
					}
				}
				contains(t, "code's error", steps["code"].Error, "main.go:1:1: broken")
			},
		},
		{
			name:  "invalid answer retried then fails",
			steps: []backend.Step{withRetries(step("code"), 1)},
			setup: func(env *testEnv) {
				env.script("code", modeltest.Reply{Content: "I cannot do that."})
			},
			status:   backend.StatusFailed,
			errorHas: "step code failed after 2 attempts",
			want:     map[string]string{"code": backend.StatusFailed},
			check: func(t *testing.T, env *testEnv, d *backend.RunDetail) {
				if len(d.Attempts) != 2 || len(d.Calls) != 2 {
					t.Errorf("%d attempts, %d calls, want 2 and 2", len(d.Attempts), len(d.Calls))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, nil)
			if tt.setup != nil {
				tt.setup(env)
			}
			run := env.run(context.Background(), blueprint(tt.steps...), RunOptions{Parallel: tt.parallel})
			if run.Status != tt.status || !strings.Contains(run.Error, tt.errorHas) {
				t.Fatalf("run %s (%q), want %s with %q", run.Status, run.Error, tt.status, tt.errorHas)
			}
			d := env.detail(run.ID)
			if d.Run.Status != tt.status || d.Run.Error != run.Error {
				t.Errorf("stored run %s (%q), returned %s (%q)", d.Run.Status, d.Run.Error, run.Status, run.Error)
			}
			wantSteps(t, d, tt.want)
			if tt.check != nil {
				tt.check(t, env, d)
			}
		})
	}
}

// TestRunRecords checks what one run leaves in the store and the events it
// emits.
func TestRunRecords(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	bp := blueprint(step("design"), step("code", "design"))
	run := env.run(context.Background(), bp, RunOptions{Options: map[string]any{"temperature": 0.0, "seed": 7}})
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(run.ID) {
		t.Errorf("run id %q is not 32 lowercase hex digits", run.ID)
	}
	d := env.detail(run.ID)
	text, err := env.db.BlueprintVersion(context.Background(), d.Run.BlueprintVersion)
	if err != nil || string(text) != string(bp.Source) {
		t.Errorf("blueprint version text %q, %v", text, err)
	}
	if d.Run.Calls != 2 || d.Run.TokensIn == 0 || d.Run.TokensOut == 0 || d.Run.EndedAt.IsZero() {
		t.Errorf("run totals: calls %d, tokens %d/%d, ended %v", d.Run.Calls, d.Run.TokensIn, d.Run.TokensOut, d.Run.EndedAt)
	}
	sumIn := 0
	for _, s := range d.Steps {
		sumIn += s.TokensIn
		if s.Attempts != 1 || !slices.Equal(s.Sections, []string{"overview"}) || s.StartedAt.IsZero() || s.EndedAt.IsZero() {
			t.Errorf("step %s: %+v", s.StepID, s)
		}
	}
	if sumIn != d.Run.TokensIn {
		t.Errorf("steps' tokens in %d, run's %d", sumIn, d.Run.TokensIn)
	}
	if len(d.Artifacts) != 2 || !slices.Equal(d.Artifacts[0].Sections, []string{"overview"}) {
		t.Errorf("artifacts %+v", d.Artifacts)
	}
	c := callOf(t, d, "code")
	if c.Options == "" || c.Model != modeltest.DefaultModel || c.Provider != backend.ProviderOllama || c.Seq != 1 {
		t.Errorf("call %+v", c)
	}
	contains(t, "code prompt", env.prompt(c), `"schema"`)
	answer, err := env.db.Blob(context.Background(), c.AnswerHash)
	if err != nil || !strings.Contains(string(answer), "output of code") {
		t.Errorf("answer %q, %v", answer, err)
	}
	if len(env.eventsOf(KindToken)) == 0 {
		t.Errorf("no token events")
	}
	runEvents := env.eventsOf(KindRun)
	if len(runEvents) != 2 || runEvents[0].Status != backend.StatusRunning || runEvents[1].Status != backend.StatusSucceeded {
		t.Errorf("run events %+v", runEvents)
	}
}

// TestParallelBranchesOverlap checks that independent steps really run at
// the same time: each one's gate waits until the other's has started, so
// the run can only succeed if they overlap.
func TestParallelBranchesOverlap(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	barrier := func(me, other string) string {
		return "touch " + me + ".started; while [ ! -f " + other + ".started ]; do sleep 0.01; done"
	}
	bp := blueprint(withValidate(step("a"), barrier("a", "b")), withValidate(step("b"), barrier("b", "a")), step("c", "a", "b"))
	run := env.run(context.Background(), bp, RunOptions{Parallel: 2})
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	steps := stepsByID(env.detail(run.ID))
	a, b, c := steps["a"], steps["b"], steps["c"]
	if !a.StartedAt.Before(b.EndedAt) || !b.StartedAt.Before(a.EndedAt) {
		t.Errorf("a [%v, %v] and b [%v, %v] do not overlap", a.StartedAt, a.EndedAt, b.StartedAt, b.EndedAt)
	}
	if c.StartedAt.Before(a.EndedAt) || c.StartedAt.Before(b.EndedAt) {
		t.Errorf("c started before its needs ended")
	}
}

func TestRetryWithCompilerFeedback(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	goMod := "module example.com/svc\n\ngo 1.22\n"
	env.script("code",
		filesReply(map[string]string{"go.mod": goMod, "main.go": "package main\n\nfunc main() {\n\tprintln(missingName)\n}\n"}),
		filesReply(map[string]string{"go.mod": goMod, "main.go": "package main\n\nfunc main() {\n\tprintln(\"ok\")\n}\n"}),
	)
	code := backend.Step{ID: "code", Role: "dev", Writes: []string{"go.mod", "**/*.go"},
		Validate: []string{"go build ./..."}, Retries: 2}
	run := env.run(context.Background(), blueprint(code), RunOptions{})
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	d := env.detail(run.ID)
	if s := stepsByID(d)["code"]; s.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", s.Attempts)
	}
	if len(d.Attempts) != 2 || d.Attempts[0].Status != backend.StatusFailed || d.Attempts[1].Status != backend.StatusSucceeded {
		t.Fatalf("attempts %+v", d.Attempts)
	}
	contains(t, "attempt 1 error", d.Attempts[0].Error, "undefined: missingName")
	contains(t, "attempt 2 feedback", d.Attempts[1].Feedback, "main.go:4:10: undefined: missingName")
	reqs := env.server.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d chat calls, want 2", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1].Content
	contains(t, "second request", last, "$ go build ./... (exit 1)")
	contains(t, "second request", last, "main.go:4:10: undefined: missingName")
	var gates []string
	for _, ev := range env.eventsOf(KindGate) {
		gates = append(gates, ev.Status)
	}
	// scope and secrets, then go build, on each attempt
	want := []string{backend.StatusSucceeded, backend.StatusSucceeded, backend.StatusFailed,
		backend.StatusSucceeded, backend.StatusSucceeded, backend.StatusSucceeded}
	if !slices.Equal(gates, want) {
		t.Errorf("gate events %v", gates)
	}
}

func TestCancelMidRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		validate []string // a's gates
		attempt  string   // a's attempt status
	}{
		// The model accepts the call and never answers.
		{name: "stalled model", attempt: backend.StatusCanceled},
		// The answer is in, a long gate runs (its process group is killed).
		{name: "long gate", validate: []string{"touch gate.started; sleep 30"}, attempt: backend.StatusCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			if tt.validate == nil {
				env.server.Respond(func(req modeltest.Request) modeltest.Reply {
					close(started) // only one call arrives: Parallel is 1
					return modeltest.Reply{Stall: true}
				})
			} else {
				go func() {
					waitFor(filepath.Join(env.ws, "out", "svc", "gate.started"))
					close(started)
				}()
			}
			go func() {
				<-started
				cancel()
			}()
			a := withValidate(withRetries(step("a"), 2), tt.validate...)
			run := env.run(ctx, blueprint(a, step("b", "a"), step("c")), RunOptions{Parallel: 1})
			if run.Status != backend.StatusCanceled {
				t.Fatalf("run %s (%s), want canceled", run.Status, run.Error)
			}
			d := env.detail(run.ID)
			if d.Run.Status != backend.StatusCanceled {
				t.Errorf("stored run status %s", d.Run.Status)
			}
			wantSteps(t, d, map[string]string{"a": backend.StatusCanceled, "b": backend.StatusCanceled, "c": backend.StatusCanceled})
			if len(d.Attempts) != 1 || d.Attempts[0].Status != tt.attempt {
				t.Errorf("attempts %+v", d.Attempts)
			}
		})
	}
}

// waitFor waits until a file exists.
func waitFor(path string) {
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProviderDownFailsWithoutRetry(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	if err := env.server.Close(); err != nil {
		t.Fatal(err)
	}
	run := env.run(context.Background(), blueprint(withRetries(step("code"), 2)), RunOptions{})
	if run.Status != backend.StatusFailed {
		t.Fatalf("run %s, want failed", run.Status)
	}
	contains(t, "run error", run.Error, "step code failed after 1 attempt")
	contains(t, "run error", run.Error, "is not reachable")
	d := env.detail(run.ID)
	if s := stepsByID(d)["code"]; s.Attempts != 1 || !strings.Contains(s.Error, "is not reachable") {
		t.Errorf("step %+v", s)
	}
}

func TestStepModelErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, model, errorHas string
	}{
		{name: "no provider configured", model: "openai:gpt-4o-mini", errorHas: `provider "openai" is not configured`},
		{name: "invalid model", model: "gpt-4o-mini", errorHas: "want provider:model"},
		{name: "unknown provider", model: "acme:big", errorHas: `unknown provider "acme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, nil)
			s := step("code")
			s.Model = tt.model
			run := env.run(context.Background(), blueprint(s, step("docs")), RunOptions{})
			if run.Status != backend.StatusFailed {
				t.Fatalf("run %s, want failed", run.Status)
			}
			contains(t, "run error", run.Error, "step code failed: ")
			contains(t, "run error", run.Error, tt.errorHas)
			wantSteps(t, env.detail(run.ID), map[string]string{"code": backend.StatusFailed, "docs": backend.StatusSucceeded})
		})
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	const secret = "pa55-w0rd-for-the-db"
	tests := []struct {
		name     string
		checks   []string
		content  string
		status   string
		errorHas string
	}{
		{name: "all pass", checks: []string{"scope", "secrets", "test -f code.txt"}, content: "clean\n", status: backend.StatusSucceeded},
		{name: "command fails", checks: []string{"scope", "test -f README.md"}, content: "clean\n", status: backend.StatusFailed, errorHas: "check test -f README.md failed: $ test -f README.md (exit 1)"},
		{name: "declared secret", checks: []string{"secrets"}, content: "password: " + secret + "\n", status: backend.StatusFailed, errorHas: "code.txt:1: contains the value of secret DB_PASSWORD"},
		{name: "private key", checks: []string{"secrets"}, content: "-----BEGIN RSA PRIVATE KEY-----\n", status: backend.StatusFailed, errorHas: "looks like a private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, func(c *Config) {
				c.Getenv = func(name string) string {
					if name == "DB_PASSWORD" {
						return secret
					}
					return ""
				}
			})
			env.script("code", filesReply(map[string]string{"code.txt": tt.content}))
			bp := blueprint(step("code"))
			bp.Checks, bp.Secrets = tt.checks, []string{"DB_PASSWORD"}
			run := env.run(context.Background(), bp, RunOptions{})
			if run.Status != tt.status || !strings.Contains(run.Error, tt.errorHas) {
				t.Fatalf("run %s (%q), want %s with %q", run.Status, run.Error, tt.status, tt.errorHas)
			}
			if strings.Contains(run.Error, secret) {
				t.Errorf("the run's error reveals the secret")
			}
			if n := len(env.eventsOf(KindGate)); n == 0 {
				t.Errorf("no gate events")
			}
		})
	}
}

func TestChecksSkippedAfterFailure(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	bp := blueprint(withValidate(step("code"), "false"))
	bp.Checks = []string{"touch checked"}
	run := env.run(context.Background(), bp, RunOptions{})
	if run.Status != backend.StatusFailed {
		t.Fatalf("run %s", run.Status)
	}
	if _, err := os.Stat(filepath.Join(env.ws, "out", "svc", "checked")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a check ran after a step failed (%v)", err)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	t.Parallel()
	cyclic := blueprint(step("a", "b"), step("b", "a"))
	unknown := blueprint(step("a", "nope"))
	escape := blueprint(step("a"))
	escape.Output = "../elsewhere"
	tests := []struct {
		name      string
		bp        *backend.Blueprint
		workspace string
		errorHas  string
	}{
		{name: "cycle", bp: cyclic, errorHas: "steps a, b form a needs cycle"},
		{name: "unknown need", bp: unknown, errorHas: `needs unknown step "nope"`},
		{name: "output escapes", bp: escape, errorHas: "must be a relative folder inside the workspace"},
		{name: "relative workspace", bp: blueprint(step("a")), workspace: "ws", errorHas: "not an absolute path"},
		{name: "no blueprint", errorHas: "no blueprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, nil)
			ws := env.ws
			if tt.workspace != "" {
				ws = tt.workspace
			}
			run, err := env.engine.Run(context.Background(), RunOptions{Blueprint: tt.bp, Workspace: ws, Roles: roles()})
			if run != nil || backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(err.Error(), tt.errorHas) {
				t.Errorf("Run = %v, %v; want EINVALID with %q", run, err, tt.errorHas)
			}
		})
	}
}

// callOf returns the first recorded model call of a step.
func callOf(t *testing.T, d *backend.RunDetail, stepID string) backend.ModelCall {
	t.Helper()
	for _, c := range d.Calls {
		if c.StepID == stepID {
			return c
		}
	}
	t.Fatalf("no call recorded for step %s", stepID)
	return backend.ModelCall{}
}

func withValidate(s backend.Step, cmds ...string) backend.Step {
	s.Validate = cmds
	return s
}

func withRetries(s backend.Step, n int) backend.Step {
	s.Retries = n
	return s
}

func withWhen(s backend.Step, key string, values ...string) backend.Step {
	s.When = map[string][]string{key: values}
	return s
}
