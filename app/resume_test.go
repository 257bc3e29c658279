package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// stepCalls counts the chat calls of each step.
type stepCalls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *stepCalls) add(step string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[step]++
}

func (c *stepCalls) get(step string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[step]
}

func TestResumeAFailedRunKeepsWhatSucceeded(t *testing.T) {
	answers := loadAnswers(t)
	answer := responder(answers)
	var broken atomic.Bool
	broken.Store(true)
	calls := &stepCalls{n: map[string]int{}}
	srv := modeltest.NewOllama(t)
	srv.Respond(func(req modeltest.Request) modeltest.Reply {
		step := stepOf(req)
		calls.add(step)
		if step == "code" && broken.Load() {
			return modeltest.Reply{Status: 500, Error: "the model crashed"}
		}
		return answer(req)
	})
	a := newTestApp(t, srv)
	l := listen(t, a)

	run, events := startAndWait(t, a, l, StartRunRequest{Blueprint: "pipeline", Parallel: 1})
	if last := events[len(events)-1]; last.Status != backend.StatusFailed {
		t.Fatalf("the run with a broken model ended %s: %s, want failed", last.Status, last.Message)
	}
	before, err := a.Run(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range before.Steps {
		status[s.StepID] = s.Status
	}
	if status["design"] != backend.StatusSucceeded || status["code"] != backend.StatusFailed {
		t.Fatalf("before the resume: steps %v, want design succeeded and code failed", status)
	}
	designCalls := calls.get("design")

	broken.Store(false)
	resumed, err := a.Resume(run.ID[:12]) // a unique prefix is enough
	if err != nil {
		t.Fatal(err)
	}
	if resumed.ID != run.ID || resumed.Status != backend.StatusRunning {
		t.Errorf("Resume answered %s %s, want %s running", resumed.ID, resumed.Status, run.ID)
	}
	events = l.until(t, runEnded(run.ID))
	if last := events[len(events)-1]; last.Status != backend.StatusSucceeded {
		t.Fatalf("the resumed run ended %s: %s", last.Status, last.Message)
	}
	kept, codeDone := false, false
	for _, e := range events {
		if e.RunID != run.ID {
			t.Errorf("event of another run: %+v", e)
		}
		if e.Kind == "step" && e.StepID == "design" && e.Status == backend.StatusSucceeded && strings.Contains(e.Message, "kept") {
			kept = true
		}
		if e.Kind == "step" && e.StepID == "code" && e.Status == backend.StatusSucceeded {
			codeDone = true
		}
	}
	if !kept || !codeDone {
		t.Errorf("resume events: design kept %v, code succeeded %v; events %+v", kept, codeDone, events)
	}
	if n := calls.get("design"); n != designCalls {
		t.Errorf("design was asked again: %d calls, %d before the resume", n, designCalls)
	}

	d, err := a.Run(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Status != backend.StatusSucceeded || d.Run.Error != "" {
		t.Errorf("recorded run %s %q, want succeeded", d.Run.Status, d.Run.Error)
	}
	for _, s := range d.Steps {
		if s.Status != backend.StatusSucceeded {
			t.Errorf("step %s recorded %s", s.StepID, s.Status)
		}
	}
	for step, files := range answers {
		if step == "change" {
			continue
		}
		for path, want := range files {
			got, err := os.ReadFile(filepath.Join(a.cfg.Root, filepath.FromSlash(d.Run.Output), filepath.FromSlash(path)))
			if err != nil || string(got) != want {
				t.Errorf("%s on disk = %q, %v; want %q", path, got, err, want)
			}
		}
	}
	if err := a.CancelRun(run.ID); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Errorf("canceling the ended resumed run: %v, want a conflict", err)
	}
	if _, err := a.Resume(run.ID); backend.ErrorCode(err) != backend.ECONFLICT || !strings.Contains(err.Error(), "already succeeded") {
		t.Errorf("resuming the succeeded run: %v, want a conflict", err)
	}
}

func TestResumeRunsInTheBackgroundAndCancels(t *testing.T) {
	var stall atomic.Bool
	stall.Store(true)
	srv := modeltest.NewOllama(t)
	answer := responder(loadAnswers(t))
	srv.Respond(func(req modeltest.Request) modeltest.Reply {
		if stall.Load() {
			return modeltest.Reply{Content: "{}", Stall: true}
		}
		return answer(req)
	})
	a := newTestApp(t, srv)
	l := listen(t, a)
	run, err := a.StartRun(StartRunRequest{Blueprint: "pipeline"})
	if err != nil {
		t.Fatal(err)
	}
	l.until(t, func(e Event) bool { return e.Kind == "step" && e.Status == backend.StatusRunning })

	// Going on in this App: Resume refuses it.
	if _, err := a.Resume(run.ID); backend.ErrorCode(err) != backend.ECONFLICT || !strings.Contains(err.Error(), "this window") {
		t.Errorf("resuming a run going on here: %v, want a conflict", err)
	}
	if err := a.CancelRun(run.ID); err != nil {
		t.Fatal(err)
	}
	if events := l.until(t, runEnded(run.ID)); events[len(events)-1].Status != backend.StatusCanceled {
		t.Fatalf("the run ended %s, want canceled", events[len(events)-1].Status)
	}

	// Resumed, it runs in the background and CancelRun stops it again.
	resumed, err := a.Resume(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Status != backend.StatusRunning {
		t.Errorf("Resume answered status %s, want running", resumed.Status)
	}
	l.until(t, func(e Event) bool { return e.Kind == "step" && e.RunID == run.ID && e.Status == backend.StatusRunning })
	if _, err := a.Resume(run.ID); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Errorf("resuming a resumed run going on: %v, want a conflict", err)
	}
	if err := a.CancelRun(run.ID); err != nil {
		t.Fatalf("CancelRun of the resumed run: %v", err)
	}
	if events := l.until(t, runEnded(run.ID)); events[len(events)-1].Status != backend.StatusCanceled {
		t.Fatalf("the resumed run ended %s, want canceled", events[len(events)-1].Status)
	}

	// Canceled twice, it still resumes, and succeeds once the model answers.
	stall.Store(false)
	if _, err := a.Resume(run.ID); err != nil {
		t.Fatal(err)
	}
	if events := l.until(t, runEnded(run.ID)); events[len(events)-1].Status != backend.StatusSucceeded {
		t.Fatalf("the run resumed a second time ended %s: %s", events[len(events)-1].Status, events[len(events)-1].Message)
	}
}

func TestResumeRefuses(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Respond(responder(loadAnswers(t)))
	a := newTestApp(t, srv)
	l := listen(t, a)
	run, _ := startAndWait(t, a, l, StartRunRequest{Blueprint: "pipeline"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := a.Resume("ffffffff"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("resuming an unknown run: %v, want not_found", err)
	}
	if _, err := a.Resume(run.ID); backend.ErrorCode(err) != backend.ECONFLICT || !strings.Contains(err.Error(), "already succeeded") {
		t.Errorf("resuming a succeeded run: %v, want a conflict", err)
	}

	// Held by another live process (this test's parent stands in for it).
	d, err := a.cfg.Store.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	other := os.Getppid()
	for _, tt := range []struct{ status, msg string }{
		{backend.StatusRunning, "running in process"},
		{backend.StatusAwaitingReview, "still running"},
	} {
		r := d.Run
		r.Status, r.PID = tt.status, other
		if err := a.cfg.Store.UpdateRun(ctx, &r); err != nil {
			t.Fatal(err)
		}
		_, err := a.Resume(run.ID)
		if backend.ErrorCode(err) != backend.ECONFLICT || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("resuming a run %s in process %d: %v, want a conflict mentioning %q", tt.status, other, err, tt.msg)
		}
		got, err := a.cfg.Store.Run(ctx, run.ID)
		if err != nil || got.Run.Status != tt.status {
			t.Errorf("a refused resume changed the run: %+v, %v", got, err)
		}
		a.mu.Lock()
		_, here := a.runs[run.ID]
		a.mu.Unlock()
		if here {
			t.Errorf("a refused resume left the run registered here")
		}
	}
}

func TestResumeRefusesARunWaitingForAReviewHere(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Respond(responder(loadAnswers(t)))
	a := newTestApp(t, srv)
	l := listen(t, a)
	run, err := a.StartRun(StartRunRequest{Blueprint: "reviewed"})
	if err != nil {
		t.Fatal(err)
	}
	l.until(t, func(e Event) bool { return e.Kind == "step" && e.Status == backend.StatusAwaitingReview })
	// The run's record says awaiting_review, held by this very process.
	waitFor(t, func() bool {
		d, err := a.Run(run.ID)
		return err == nil && d.Run.Status == backend.StatusAwaitingReview
	})
	if _, err := a.Resume(run.ID); backend.ErrorCode(err) != backend.ECONFLICT || !strings.Contains(err.Error(), "approve or reject") {
		t.Errorf("resuming a run waiting for a review here: %v, want a conflict", err)
	}
	if _, err := a.Review(run.ID, "change", ReviewDecision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	if events := l.until(t, runEnded(run.ID)); events[len(events)-1].Status != backend.StatusSucceeded {
		t.Fatalf("the reviewed run ended %s", events[len(events)-1].Status)
	}
}

// waitFor polls cond until it holds, failing the test after a generous limit.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("the condition never held")
}
