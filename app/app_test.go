package app

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// eventLog collects the App's events.
type eventLog struct{ ch chan Event }

func listen(t *testing.T, a *App) *eventLog {
	t.Helper()
	l := &eventLog{ch: make(chan Event, 4096)}
	t.Cleanup(a.subscribe(func(batch []Event) {
		for _, e := range batch {
			l.ch <- e
		}
	}))
	return l
}

// until returns the events up to and including the first that matches
// done, failing the test if none comes within a generous limit.
func (l *eventLog) until(t *testing.T, done func(Event) bool) []Event {
	t.Helper()
	limit := time.NewTimer(30 * time.Second)
	defer limit.Stop()
	var got []Event
	for {
		select {
		case e := <-l.ch:
			got = append(got, e)
			if done(e) {
				return got
			}
		case <-limit.C:
			t.Fatalf("no final event; got %d events: %+v", len(got), got)
		}
	}
}

func runEnded(id string) func(Event) bool {
	return func(e Event) bool {
		return e.Kind == "run" && e.RunID == id && e.Status != backend.StatusRunning && e.Status != ""
	}
}

// startAndWait starts a run of blueprint and waits for its last event.
func startAndWait(t *testing.T, a *App, l *eventLog, req StartRunRequest) (*backend.Run, []Event) {
	t.Helper()
	run, err := a.StartRun(req)
	if err != nil {
		t.Fatal(err)
	}
	return run, l.until(t, runEnded(run.ID))
}

func TestStartRunStreamsEventsAndRecordsTheRun(t *testing.T) {
	answers := loadAnswers(t)
	srv := modeltest.NewOllama(t)
	srv.Respond(responder(answers))
	a := newTestApp(t, srv)
	l := listen(t, a)

	run, events := startAndWait(t, a, l, StartRunRequest{Blueprint: "pipeline", Model: "ollama:" + modeltest.DefaultModel, Parallel: 2})
	if run.Status != backend.StatusRunning || run.BlueprintID != "pipeline" {
		t.Errorf("StartRun answered %+v, want a running run of pipeline", run)
	}
	if last := events[len(events)-1]; last.Status != backend.StatusSucceeded {
		t.Fatalf("the run ended %s: %s", last.Status, last.Message)
	}

	stepDone := map[string]bool{}
	tokens := map[string]string{}
	for _, e := range events {
		if e.RunID != run.ID {
			t.Errorf("event of another run: %+v", e)
		}
		switch e.Kind {
		case "step":
			if e.Status == backend.StatusSucceeded {
				stepDone[e.StepID] = true
			}
		case "token":
			tokens[e.StepID] += e.Text
		}
	}
	for _, step := range []string{"design", "code", "docs"} {
		files := answers[step]
		if !stepDone[step] {
			t.Errorf("no succeeded event for step %s", step)
		}
		if want := modeltest.FilesAnswer(files, "done"); tokens[step] != want {
			t.Errorf("tokens of %s = %q, want the whole answer %q", step, tokens[step], want)
		}
	}

	d, err := a.Run(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Status != backend.StatusSucceeded || len(d.Steps) != 3 || len(d.Calls) != 3 || len(d.Artifacts) != 4 {
		t.Fatalf("recorded %+v with %d steps, %d calls, %d artifacts", d.Run, len(d.Steps), len(d.Calls), len(d.Artifacts))
	}
	if d.Run.TokensIn != 300 || d.Run.TokensOut != 60 {
		t.Errorf("run tokens %d/%d, want 300/60", d.Run.TokensIn, d.Run.TokensOut)
	}
	var paths []string
	for _, art := range d.Artifacts {
		paths = append(paths, art.Path)
		want := answers[art.StepID][art.Path]
		got, err := os.ReadFile(filepath.Join(a.cfg.Root, filepath.FromSlash(d.Run.Output), filepath.FromSlash(art.Path)))
		if err != nil || string(got) != want {
			t.Errorf("%s on disk = %q, %v; want %q", art.Path, got, err, want)
		}
		if blob, err := a.Blob(art.SHA256); err != nil || blob != want {
			t.Errorf("Blob(%s) = %q, %v", art.Path, blob, err)
		}
	}
	sort.Strings(paths)
	if strings.Join(paths, " ") != "README.md docs/design.md go.mod main.go" {
		t.Errorf("artifacts %v", paths)
	}

	runs, err := a.Runs(RunFilter{Blueprint: "pipeline"})
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID {
		t.Errorf("Runs = %+v, %v", runs, err)
	}
}

func TestCompareTwoRuns(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Respond(responder(loadAnswers(t)))
	a := newTestApp(t, srv)
	l := listen(t, a)
	first, _ := startAndWait(t, a, l, StartRunRequest{Blueprint: "pipeline"})
	second, _ := startAndWait(t, a, l, StartRunRequest{Blueprint: "pipeline"})
	c, err := a.Compare(first.ID, second.ID[:10])
	if err != nil {
		t.Fatal(err)
	}
	if c.A.Run.ID != first.ID || c.B.Run.ID != second.ID || len(c.A.Steps) != 3 || len(c.B.Steps) != 3 {
		t.Errorf("Compare = %s (%d steps) vs %s (%d steps)", c.A.Run.ID, len(c.A.Steps), c.B.Run.ID, len(c.B.Steps))
	}
	if _, err := a.Compare(first.ID, "ffffffff"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("Compare with an unknown run: %v, want not_found", err)
	}
}

func TestStartRunRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		req   StartRunRequest
		code  string
		msg   string
	}{
		{name: "unknown blueprint", req: StartRunRequest{Blueprint: "nope"}, code: backend.ENOTFOUND, msg: "nope"},
		{name: "malformed model", req: StartRunRequest{Blueprint: "pipeline", Model: "no-provider"}, code: backend.EINVALID},
		{name: "blueprint with lint errors", req: StartRunRequest{Blueprint: "broken"}, code: backend.EINVALID, msg: "ghost",
			setup: func(t *testing.T, root string) {
				bad := "---\nblueprint: broken\nsteps:\n  - id: a\n    role: architect\n    needs: [ghost]\n---\n# Broken\n"
				if err := os.WriteFile(filepath.Join(root, "blueprints", "broken.md"), []byte(bad), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t, nil)
			if tt.setup != nil {
				tt.setup(t, a.cfg.Root)
			}
			run, err := a.StartRun(tt.req)
			if err == nil {
				t.Fatalf("StartRun = %+v, want an error", run)
			}
			if backend.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q (%s), want code %s mentioning %q", err, backend.ErrorCode(err), tt.code, tt.msg)
			}
			if runs, _ := a.Runs(RunFilter{}); len(runs) != 0 {
				t.Errorf("a refused run was recorded: %+v", runs)
			}
		})
	}
}

func TestCancelRun(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: "{}", Stall: true}
	})
	a := newTestApp(t, srv)
	l := listen(t, a)
	run, err := a.StartRun(StartRunRequest{Blueprint: "pipeline"})
	if err != nil {
		t.Fatal(err)
	}
	l.until(t, func(e Event) bool { return e.Kind == "step" && e.Status == backend.StatusRunning })
	if err := a.CancelRun(run.ID); err != nil {
		t.Fatal(err)
	}
	events := l.until(t, runEnded(run.ID))
	if last := events[len(events)-1]; last.Status != backend.StatusCanceled {
		t.Errorf("the run ended %s, want canceled", last.Status)
	}
	if err := a.CancelRun(run.ID); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Errorf("canceling an ended run: %v, want a conflict", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := a.cfg.Store.Run(ctx, run.ID)
	if err != nil || d.Run.Status != backend.StatusCanceled {
		t.Errorf("recorded run %+v, %v; want canceled", d, err)
	}
}
