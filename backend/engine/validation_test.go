package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// TestReviewWaitsInProcess: a step with review: required waits (the run is
// awaiting_review meanwhile); a rejection from elsewhere makes a new attempt
// with the comment as feedback; an approval ends the step.
func TestReviewWaitsInProcess(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	st := step("api")
	st.Review = "required"
	bp := blueprint(st)
	ctx := context.Background()
	id := NewRunID()
	done := make(chan *backend.Run, 1)
	go func() {
		run, err := env.engine.Run(ctx, RunOptions{RunID: id, Blueprint: bp, Roles: roles(), Workspace: env.ws,
			Parallel: 1, WaitReview: true, ReviewPoll: 5 * time.Millisecond, NoCache: true})
		if err != nil {
			t.Error(err)
		}
		done <- run
	}()
	waitReview := func(attempt int) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			rv, err := env.db.Review(ctx, id, "api")
			if err == nil && rv.Attempt == attempt && rv.Status == backend.ReviewPending {
				return
			}
		}
		t.Fatalf("attempt %d never waited for its review", attempt)
	}
	waitReview(1)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if d := env.detail(id); d.Run.Status == backend.StatusAwaitingReview {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("run is %s while its step waits, want awaiting_review", d.Run.Status)
		}
	}
	const comment = "Name the endpoints."
	if _, err := env.engine.Review(ctx, id, "api", false, comment); err != nil {
		t.Fatal(err)
	}
	waitReview(2)
	if _, err := env.engine.Review(ctx, id, "api", true, ""); err != nil {
		t.Fatal(err)
	}
	run := <-done
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	reqs := env.server.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2", len(reqs))
	}
	contains(t, "second prompt", reqs[1].Messages[1].Content, comment)
	d := env.detail(id)
	if d.Run.Calls != 2 || d.Run.TokensIn == 0 || d.Run.TokensOut == 0 || d.Steps[0].TokensIn != d.Run.TokensIn {
		t.Errorf("after the review: run %d calls, %d→%d tokens; step %d→%d; want both calls' tokens",
			d.Run.Calls, d.Run.TokensIn, d.Run.TokensOut, d.Steps[0].TokensIn, d.Steps[0].TokensOut)
	}
	if _, err := env.engine.Review(ctx, id, "api", false, ""); err == nil || backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("a rejection without comment: %v, want EINVALID", err)
	}
}

// TestRejectThenResumeCountsEveryCall: a review decided while no process
// waits; the resumed step's record and the run count the tokens of both
// attempts, each once.
func TestRejectThenResumeCountsEveryCall(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	st := step("api")
	st.Review = "required"
	bp := blueprint(st)
	ctx := context.Background()
	opts := RunOptions{Blueprint: bp, Roles: roles(), Workspace: env.ws, Parallel: 1, NoCache: true}
	run, err := env.engine.Run(ctx, opts)
	if err != nil || run.Status != backend.StatusAwaitingReview {
		t.Fatalf("run: %v, %+v", err, run)
	}
	first := env.detail(run.ID)
	if first.Run.TokensIn == 0 || first.Steps[0].TokensIn != first.Run.TokensIn {
		t.Fatalf("waiting: run %d tokens in, step %d; want the first call's", first.Run.TokensIn, first.Steps[0].TokensIn)
	}
	if _, err := env.engine.Review(ctx, run.ID, "api", false, "Name the endpoints."); err != nil {
		t.Fatal(err)
	}
	opts.RunID = run.ID
	if _, err := env.engine.Resume(ctx, opts); err != nil {
		t.Fatal(err)
	}
	d := env.detail(run.ID)
	var in, out int
	for _, c := range d.Calls {
		in, out = in+c.TokensIn, out+c.TokensOut
	}
	if len(d.Calls) != 2 || d.Run.Calls != 2 {
		t.Fatalf("%d calls recorded, run counts %d; want 2", len(d.Calls), d.Run.Calls)
	}
	if d.Run.TokensIn != in || d.Run.TokensOut != out || d.Steps[0].TokensIn != in || d.Steps[0].TokensOut != out {
		t.Errorf("after resume: run %d→%d, step %d→%d; calls sum to %d→%d",
			d.Run.TokensIn, d.Run.TokensOut, d.Steps[0].TokensIn, d.Steps[0].TokensOut, in, out)
	}
}

// TestResumeKeepsVerifiedSteps: a run whose second step failed is resumed;
// the first step is kept unless its file changed on disk since.
func TestResumeKeepsVerifiedSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tamper    bool
		wantCalls []string // steps called on resume
	}{
		{name: "unchanged artifact is kept", wantCalls: []string{"b"}},
		{name: "changed artifact runs again", tamper: true, wantCalls: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, nil)
			bp := blueprint(step("a"), step("b", "a"))
			env.script("b", modeltest.Reply{Content: "no files here"})
			first := env.run(context.Background(), bp, RunOptions{NoCache: true})
			if first.Status != backend.StatusFailed {
				t.Fatalf("first run %s, want failed", first.Status)
			}
			if tt.tamper {
				if err := os.WriteFile(filepath.Join(env.ws, "out", "svc", "a.txt"), []byte("by hand\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env.script("b")
			calls := len(env.server.Requests())
			run, err := env.engine.Resume(context.Background(), RunOptions{RunID: first.ID[:10], Blueprint: bp,
				Roles: roles(), Workspace: env.ws, Parallel: 2, NoCache: true})
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != backend.StatusSucceeded || run.ID != first.ID {
				t.Fatalf("resumed run %s %s: %s", run.ID, run.Status, run.Error)
			}
			got := env.requestSteps()[calls:]
			if strings.Join(got, ",") != strings.Join(tt.wantCalls, ",") {
				t.Errorf("steps called on resume %v, want %v", got, tt.wantCalls)
			}
			d := env.detail(run.ID)
			if n := stepsByID(d)["b"].Attempts; n != 2 {
				t.Errorf("step b has %d attempts, want 2 (numbered after the first run's)", n)
			}
			if _, err := env.engine.Resume(context.Background(), RunOptions{RunID: run.ID, Blueprint: bp,
				Roles: roles(), Workspace: env.ws}); backend.ErrorCode(err) != backend.ECONFLICT {
				t.Errorf("resuming a succeeded run: %v, want ECONFLICT", err)
			}
		})
	}
}

// TestRepeatedGateFailureBecomesLesson: the same gate failure in two runs of
// a role becomes one lesson, given to the role's next attempt.
func TestRepeatedGateFailureBecomesLesson(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	st := step("code")
	st.Validate = []string{"echo \"$PWD/code.txt:3:7: missing semicolon\"; exit 1"}
	bp := blueprint(st)
	for i := range 2 {
		if run := env.run(context.Background(), bp, RunOptions{NoCache: true}); run.Status != backend.StatusFailed {
			t.Fatalf("run %d: %s", i+1, run.Status)
		}
		lessons, err := env.db.Lessons(context.Background(), backend.LessonFilter{Role: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		if want := i; len(lessons) != want {
			t.Fatalf("after run %d: %d lessons, want %d", i+1, len(lessons), want)
		}
		if i == 1 && (lessons[0].Kind != backend.LessonGate || !strings.Contains(lessons[0].Text, "missing semicolon")) {
			t.Errorf("lesson %+v", lessons[0])
		}
	}
	env.run(context.Background(), bp, RunOptions{NoCache: true})
	reqs := env.server.Requests()
	contains(t, "third run's prompt", reqs[len(reqs)-1].Messages[1].Content, "missing semicolon")
	contains(t, "third run's prompt", reqs[len(reqs)-1].Messages[1].Content, "Lessons from earlier runs")
}

// TestBudgetStopsTheRun: going over max_calls or max_tokens stops the run
// with the limit and where it happened.
func TestBudgetStopsTheRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		budget backend.Budget
		want   string
	}{
		{name: "max_calls", budget: backend.Budget{MaxCalls: 1}, want: "budget max_calls 1 exceeded at step s attempt 2"},
		{name: "max_tokens", budget: backend.Budget{MaxTokens: 10}, want: "budget max_tokens 10 exceeded at step s attempt 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, nil)
			st := step("s")
			st.Validate, st.Retries = []string{"false"}, 3
			bp := blueprint(st)
			bp.Budget = tt.budget
			run := env.run(context.Background(), bp, RunOptions{NoCache: true})
			if run.Status != backend.StatusFailed || run.Error != tt.want {
				t.Errorf("run %s %q, want failed %q", run.Status, run.Error, tt.want)
			}
		})
	}
}

// TestEstimateRun checks the estimate's arithmetic.
func TestEstimateRun(t *testing.T) {
	t.Parallel()
	a, b := step("a"), step("b", "a")
	b.Retries = 2
	bp := blueprint(a, b)
	est := EstimateRun(bp, roles())
	if est.Calls != 4 || est.PerStep["b"] != 3*est.PerStep["a"] || est.Tokens != 4*est.PerStep["a"] {
		t.Errorf("estimate %+v", est)
	}
	if over := est.Over(backend.Budget{MaxTokens: est.Tokens - 1, MaxCalls: 4}); len(over) != 1 || !strings.HasPrefix(over[0], "max_tokens") {
		t.Errorf("Over = %v", over)
	}
}

// TestBudgetMaxMinutesStopsAnAttempt: with max_minutes, an attempt still
// running when the run's time is up is canceled then, and the budget names
// the limit, the step and the attempt.
func TestBudgetMaxMinutesStopsAnAttempt(t *testing.T) {
	t.Parallel()
	b := newBudget(backend.Budget{MaxMinutes: 2}, time.Now, &backend.Run{})
	b.minute = 20 * time.Millisecond // the run has 40 ms
	ctx, stop := b.attemptContext(context.Background(), "code", 3)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("the attempt's context was not canceled when the run's time was up")
	}
	if got, want := b.check("code", 3), "budget max_minutes 2 exceeded at step code attempt 3"; got != want {
		t.Errorf("check = %q, want %q", got, want)
	}

	// Without max_minutes, or when the attempt ends first, nothing is canceled.
	free := newBudget(backend.Budget{MaxTokens: 10}, time.Now, &backend.Run{})
	fctx, fstop := free.attemptContext(context.Background(), "code", 1)
	fstop()
	if fctx.Err() != nil || free.reason() != "" {
		t.Errorf("no max_minutes: ctx %v, reason %q", fctx.Err(), free.reason())
	}
	early := newBudget(backend.Budget{MaxMinutes: 1}, time.Now, &backend.Run{})
	early.minute = 20 * time.Millisecond
	_, estop := early.attemptContext(context.Background(), "code", 1)
	estop()
	time.Sleep(50 * time.Millisecond)
	if early.reason() != "" {
		t.Errorf("an attempt that ended in time left reason %q", early.reason())
	}
}

// TestStreamedTokensHideSplitSecrets: the model streams an answer holding a
// secret in pieces of about 8 characters, so the value is split across
// pieces; the token events show ${NAME}, never the value nor its parts.
func TestStreamedTokensHideSplitSecrets(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-canary-value-42"
	env := newEnv(t, func(c *Config) {
		c.Getenv = func(name string) string {
			if name == "DB_PASSWORD" {
				return secret
			}
			return ""
		}
	})
	env.script("code", filesReply(map[string]string{"code.txt": "password: " + secret + "\n"}))
	st := step("code")
	bp := blueprint(st)
	bp.Secrets = []string{"DB_PASSWORD"}
	env.run(context.Background(), bp, RunOptions{})
	var streamed strings.Builder
	for _, ev := range env.eventsOf(KindToken) {
		if strings.Contains(ev.Text, secret[:8]) || strings.Contains(ev.Text, secret[8:16]) {
			t.Errorf("a token event holds part of the secret: %q", ev.Text)
		}
		streamed.WriteString(ev.Text)
	}
	if s := streamed.String(); strings.Contains(s, secret) || !strings.Contains(s, "${DB_PASSWORD}") {
		t.Errorf("streamed answer %q: want ${DB_PASSWORD} in place of the secret", s)
	}
}

// TestGateRecordKeepsItsDuration: a gate's record and its event carry how
// long the command ran (they said 0 before), passed gates included.
func TestGateRecordKeepsItsDuration(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	st := step("code")
	st.Validate = []string{"sleep 0.3"}
	run := env.run(context.Background(), blueprint(st), RunOptions{NoCache: true})
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.ID, run.Status)
	}
	var found bool
	for _, g := range env.detail(run.ID).Gates {
		if g.Name != "sleep 0.3" {
			continue
		}
		found = true
		if !g.Passed || g.ExitCode != 0 || g.Duration < 300*time.Millisecond {
			t.Errorf("gate record %+v, want passed, exit 0, at least 300ms", g)
		}
	}
	if !found {
		t.Fatalf("no record of the gate: %+v", env.detail(run.ID).Gates)
	}
	for _, e := range env.eventsOf(KindGate) {
		if e.Message == "sleep 0.3" && e.Duration < 300*time.Millisecond {
			t.Errorf("gate event duration %s", e.Duration)
		}
	}
}
