package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"factorydesk/app"
	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// sseLog reads the event stream of a factory serve.
type sseLog struct {
	ch     chan app.Event
	cancel context.CancelFunc
}

// listenSSE subscribes to the events of the factory serve at base.
func listenSSE(t *testing.T, base string) *sseLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /api/events: %v %v", res, err)
	}
	l := &sseLog{ch: make(chan app.Event, 8192), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var batch []app.Event
			if json.Unmarshal([]byte(data), &batch) == nil {
				for _, e := range batch {
					l.ch <- e
				}
			}
		}
	}()
	return l
}

// until returns the events up to the first that matches done, failing the
// test when none comes within a generous limit.
func (l *sseLog) until(t *testing.T, what string, done func(app.Event) bool) []app.Event {
	t.Helper()
	limit := time.NewTimer(90 * time.Second)
	defer limit.Stop()
	var got []app.Event
	for {
		select {
		case e := <-l.ch:
			got = append(got, e)
			if done(e) {
				return got
			}
		case <-limit.C:
			t.Fatalf("no event %s; got %d events: %+v", what, len(got), got)
		}
	}
}

// callAPI calls a method of the factory serve at base.
func callAPI(t *testing.T, base, method string, out any, args ...any) {
	t.Helper()
	body, _ := json.Marshal(args)
	req, _ := http.NewRequest("POST", base+"/api/"+method, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Factory-Request", "1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d %s", method, res.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s answered %s: %v", method, data, err)
		}
	}
}

// cliRun starts `factory run` in ws as its own process and returns a
// channel closed with its exit code when it ends.
func cliRun(t *testing.T, bin, ws string, env []string, args ...string) (*exec.Cmd, <-chan int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-w", ws, "run"}, args...)...)
	cmd.Env = append(baseEnv(t.TempDir()), env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := make(chan int, 1)
	go func() {
		_ = cmd.Wait()
		code <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("factory run %v:\n%s", args, out.String())
		}
	})
	return cmd, code
}

// exitCode waits for a process's exit code.
func exitCode(t *testing.T, ch <-chan int) int {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(90 * time.Second):
		t.Fatal("factory run did not end")
	}
	return -1
}

// heldResponder answers like pacedResponder but holds the first call for
// step "code" of each run until release is closed: the test sees the run
// at that point before it goes on.
type heldResponder struct {
	answer  func(modeltest.Request) modeltest.Reply
	mu      sync.Mutex
	release chan struct{}
	stall   bool // answer "code" never (a run to cancel)
}

func (h *heldResponder) respond(req modeltest.Request) modeltest.Reply {
	if app.StepOf(req) == "code" {
		h.mu.Lock()
		release, stall := h.release, h.stall
		h.mu.Unlock()
		if stall {
			return modeltest.Reply{Stall: true}
		}
		<-release
	}
	return h.answer(req)
}

// TestFollowRunsOfOtherProcesses: factory serve shows, as events, runs that
// `factory run` processes record in the same workspace — started, each step,
// ended —, cancels one of them through the database, and a review decided
// in it continues a run whose CLI process stopped waiting (--no-wait).
func TestFollowRunsOfOtherProcesses(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	srv := modeltest.NewOllama(t)
	h := &heldResponder{answer: pacedResponder(app.LoadAnswers(t)), release: make(chan struct{})}
	srv.Respond(h.respond)
	env := []string{"OLLAMA_HOST=" + srv.URL()}
	u, _ := serve(t, bin, ws, env)
	base := strings.TrimSuffix(u, "/")
	events := listenSSE(t, base)
	model := "ollama:" + modeltest.DefaultModel

	t.Run("a CLI run shows live", func(t *testing.T) {
		_, code := cliRun(t, bin, ws, env, "pipeline", "--model", model)
		got := events.until(t, "of the design step succeeding", func(e app.Event) bool {
			return e.Kind == "step" && e.StepID == "design" && e.Status == backend.StatusSucceeded
		})
		if got[0].Kind != "run" || got[0].Status != backend.StatusRunning {
			t.Errorf("the first event is %+v, want the run running", got[0])
		}
		id := got[0].RunID
		close(h.release) // the code step goes on only now: the test saw design end before
		events.until(t, "of the run succeeding", func(e app.Event) bool {
			return e.Kind == "run" && e.RunID == id && e.Status == backend.StatusSucceeded
		})
		if c := exitCode(t, code); c != 0 {
			t.Errorf("factory run exited %d", c)
		}
	})

	t.Run("a CLI run is canceled from the app", func(t *testing.T) {
		h.mu.Lock()
		h.stall = true
		h.mu.Unlock()
		_, code := cliRun(t, bin, ws, env, "pipeline", "--model", model, "--no-cache")
		got := events.until(t, "of the code step running", func(e app.Event) bool {
			return e.Kind == "attempt" && e.StepID == "code" && e.Status == backend.StatusRunning
		})
		id := got[len(got)-1].RunID
		callAPI(t, base, "CancelRun", nil, id)
		events.until(t, "of the run canceled", func(e app.Event) bool {
			return e.Kind == "run" && e.RunID == id && e.Status == backend.StatusCanceled
		})
		if c := exitCode(t, code); c == 0 {
			t.Errorf("the canceled factory run exited 0")
		}
	})

	t.Run("a review decided in the app continues a CLI run", func(t *testing.T) {
		_, code := cliRun(t, bin, ws, env, "reviewed", "--model", model, "--no-wait")
		if c := exitCode(t, code); c != 3 {
			t.Fatalf("factory run --no-wait of a reviewed step exited %d, want 3", c)
		}
		var runs []backend.Run
		callAPI(t, base, "Runs", &runs, map[string]any{"blueprint": "reviewed"})
		if len(runs) != 1 || runs[0].Status != backend.StatusAwaitingReview {
			t.Fatalf("runs of reviewed: %+v", runs)
		}
		id := runs[0].ID
		events.until(t, "of the CLI's run waiting", func(e app.Event) bool {
			return e.Kind == "run" && e.RunID == id && e.Status == backend.StatusAwaitingReview
		})
		callAPI(t, base, "Review", nil, id, "change", map[string]any{"approve": false, "comment": "Say what changed."})
		events.until(t, "of a second attempt after the rejection", func(e app.Event) bool {
			return e.Kind == "attempt" && e.RunID == id && e.Attempt == 2
		})
		events.until(t, "of the second attempt waiting for its review", func(e app.Event) bool {
			return e.Kind == "step" && e.RunID == id && e.Status == backend.StatusAwaitingReview
		})
		callAPI(t, base, "Review", nil, id, "change", map[string]any{"approve": true})
		events.until(t, "of the run succeeding", func(e app.Event) bool {
			return e.Kind == "run" && e.RunID == id && e.Status == backend.StatusSucceeded
		})
		var d backend.RunDetail
		callAPI(t, base, "Run", &d, id)
		if n := len(d.Attempts); n != 2 || len(d.Reviews) != 2 {
			t.Errorf("%d attempts and reviews %+v, want 2 attempts and both decisions", n, d.Reviews)
		}
	})
}
