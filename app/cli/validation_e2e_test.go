package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// writeBlueprint writes blueprints/NAME.md in the workspace.
func writeBlueprint(t *testing.T, ws, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(ws, "blueprints", name+".md"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runStatus reads a run's status through factory show --json.
func runDetail(t *testing.T, ws string, id string) backend.RunDetail {
	t.Helper()
	r := must(t, factory(t, ws, nil, "show", id, "--json"), 0)
	var d backend.RunDetail
	decode(t, r.stdout, &d)
	return d
}

// lastPrompt is the content of the last message of the n-th chat request.
func lastPrompt(srv *modeltest.Ollama, n int) string {
	reqs := srv.Requests()
	if n >= len(reqs) {
		return ""
	}
	m := reqs[n].Messages
	return m[len(m)-1].Content
}

const reviewBlueprint = `---
blueprint: reviewed
title: Reviewed
model: ollama:qwen2.5-coder:7b
output: out/reviewed
steps:
  - id: api
    role: backend-developer
    uses: [Overview]
    writes: [api.md]
    validate: ["test -s api.md"]
    review: required
---
# Reviewed

## Overview

An API description someone must approve.
`

// TestReviewRoundTripAcrossProcesses: the run waits for a review and its
// process exits (3); a rejection in another process; factory resume makes a
// new attempt whose prompt carries the comment, and the comment is a lesson;
// an approval and a resume finish the run.
func TestReviewRoundTripAcrossProcesses(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	writeBlueprint(t, ws, "reviewed", reviewBlueprint)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"api.md": "# API\n"}, "done")}
	})
	env := ollamaEnv(srv)

	r := must(t, factory(t, ws, env, "run", "reviewed", "--no-wait"), 3)
	id := strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, "factory resume "+id) || !strings.Contains(r.stderr, "factory review "+id+" api") {
		t.Fatalf("stderr does not say how to review and resume:\n%s", r.stderr)
	}
	if d := runDetail(t, ws, id); d.Run.Status != backend.StatusAwaitingReview || d.Steps[0].Status != backend.StatusAwaitingReview {
		t.Fatalf("run %s, step %s; want both awaiting_review", d.Run.Status, d.Steps[0].Status)
	}

	const comment = "Document the error responses of every endpoint."
	must(t, factory(t, ws, nil, "review", id, "api", "--reject", comment), 0)
	must(t, factory(t, ws, nil, "review", id, "api", "--approve"), 1) // already decided
	must(t, factory(t, ws, env, "resume", id, "--no-wait"), 3)
	if n := len(srv.Requests()); n != 2 {
		t.Fatalf("%d model calls, want 2 (one new attempt after the rejection)", n)
	}
	if p := lastPrompt(srv, 1); !strings.Contains(p, comment) {
		t.Errorf("the new attempt's prompt lacks the review comment:\n%s", p)
	}
	lr := must(t, factory(t, ws, nil, "lessons", "--role", "backend-developer", "--json"), 0)
	var lessons []backend.Lesson
	decode(t, lr.stdout, &lessons)
	if len(lessons) != 1 || lessons[0].Text != comment || lessons[0].RunID != id || lessons[0].StepID != "api" {
		t.Fatalf("lessons = %+v, want the comment from run %s step api", lessons, id)
	}

	must(t, factory(t, ws, nil, "review", id, "api", "--approve"), 0)
	must(t, factory(t, ws, env, "resume", id), 0)
	d := runDetail(t, ws, id)
	if d.Run.Status != backend.StatusSucceeded || len(d.Reviews) != 2 {
		t.Fatalf("run %s with reviews %+v; want succeeded after two reviews", d.Run.Status, d.Reviews)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d model calls, want 2: an approved step is not run again", n)
	}
	show := must(t, factory(t, ws, nil, "show", id), 0)
	for _, want := range []string{"GATE", "test -s api.md", "REVIEWS", "rejected: " + comment} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("factory show lacks %q:\n%s", want, show.stdout)
		}
	}
	// A later run of the role is given the lesson.
	must(t, factory(t, ws, env, "run", "reviewed", "--no-wait"), 3)
	if p := lastPrompt(srv, 2); !strings.Contains(p, "Lessons from earlier runs") || !strings.Contains(p, comment) {
		t.Errorf("a later run's prompt lacks the lesson:\n%s", p)
	}
	lr = must(t, factory(t, ws, nil, "lessons"), 0)
	if !strings.Contains(lr.stdout, "backend-developer") {
		t.Errorf("factory lessons:\n%s", lr.stdout)
	}
	must(t, factory(t, ws, nil, "lessons", "rm", "999"), 1)
	must(t, factory(t, ws, nil, "lessons", "rm", "1"), 0)
}

// TestCanarySecretNeverLeaks puts a secret's value in the blueprint's prose
// (given to the model), in the model's answer (a file and the notes) and
// in a gate's output, then searches every byte the run left: database (with
// its WAL), output folder, stdout and stderr.
func TestCanarySecretNeverLeaks(t *testing.T) {
	t.Parallel()
	const canary = "c4n4ry-7f3a9e1b55d2"
	ws := workspace(t)
	writeBlueprint(t, ws, "secretive", `---
blueprint: secretive
title: Secretive
model: ollama:qwen2.5-coder:7b
output: out/secretive
secrets: [CANARY_TOKEN]
checks: [secrets]
steps:
  - id: config
    role: backend-developer
    uses: [Overview]
    writes: [config.txt]
    validate: ["cat config.txt", "echo token=$CANARY_TOKEN"]
    retries: 1
---
# Secretive

## Overview

The service reads its token from CANARY_TOKEN (today it is `+canary+`).
`)
	srv := modeltest.NewOllama(t)
	srv.Enqueue(
		modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"config.txt": "token: " + canary + "\n"}, "I used "+canary)},
		modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"config.txt": "token: ${CANARY_TOKEN}\n"}, "read from the environment")},
	)
	env := append(ollamaEnv(srv), "CANARY_TOKEN="+canary, "FACTORY_DEBUG=1")
	r := factory(t, ws, env, "run", "secretive")
	id := strings.TrimSpace(r.stdout)
	show := factory(t, ws, env, "show", id, "--json")
	if r.code != 0 {
		t.Fatalf("run exit %d:\n%s", r.code, r.stderr)
	}
	for i, req := range srv.Requests() {
		if bytes.Contains(req.Body, []byte(canary)) {
			t.Errorf("model call %d was sent the secret's value", i+1)
		}
		if !bytes.Contains(req.Body, []byte("${CANARY_TOKEN}")) {
			t.Errorf("model call %d does not show the secret as ${CANARY_TOKEN}", i+1)
		}
	}
	var d backend.RunDetail
	decode(t, show.stdout, &d)
	if len(d.Attempts) != 2 || !strings.Contains(d.Attempts[0].Error, "secret CANARY_TOKEN") {
		t.Errorf("attempt 1 was not failed by the secrets gate: %+v", d.Attempts)
	}
	found := 0
	scan := func(what string, data []byte) {
		if n := bytes.Count(data, []byte(canary)); n > 0 {
			found += n
			t.Errorf("%s holds the secret's value %d time(s)", what, n)
		}
	}
	for _, dir := range []string{".factory", "out"} {
		err := filepath.WalkDir(filepath.Join(ws, dir), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			scan(p, data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	scan("stdout", []byte(r.stdout+show.stdout))
	scan("stderr", []byte(r.stderr+show.stderr))
	if found == 0 && !strings.Contains(show.stdout, "${CANARY_TOKEN}") {
		t.Error("the record shows no redacted placeholder at all; was the secret exercised?")
	}
}

// TestBudgetEstimateAndLimit: an estimate over the budget is refused with the
// numbers, --over-budget runs it, and the run stops when it goes over.
func TestBudgetEstimateAndLimit(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	writeBlueprint(t, ws, "costly", `---
blueprint: costly
title: Costly
model: ollama:qwen2.5-coder:7b
output: out/costly
budget: {max_tokens: 500}
steps:
  - id: code
    role: backend-developer
    uses: [Overview]
    writes: [a.txt]
    validate: ["false"]
    retries: 2
---
# Costly

## Overview

Anything.
`)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"a.txt": "a\n"}, ""), PromptTokens: 300, EvalTokens: 50}
	})
	env := ollamaEnv(srv)
	r := must(t, factory(t, ws, env, "run", "costly"), 1)
	if !strings.Contains(r.stderr, "estimate:") || !strings.Contains(r.stderr, "max_tokens 500 (estimate") || !strings.Contains(r.stderr, "--over-budget") {
		t.Fatalf("refusal does not name the numbers and the way out:\n%s", r.stderr)
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("a refused run called the model")
	}
	r = must(t, factory(t, ws, env, "run", "costly", "--over-budget"), 1)
	if !strings.Contains(r.stderr, "failed: budget max_tokens 500 exceeded at step code attempt 2") {
		t.Errorf("the run did not stop on its budget:\n%s", r.stderr)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d model calls, want 2 (stopped after the attempt that went over)", n)
	}
}

// TestConcurrentRunsOneWorkspace runs 10 factory processes at once on one
// workspace: all finish, none sees "database is locked".
func TestConcurrentRunsOneWorkspace(t *testing.T) {
	t.Parallel()
	const runs = 10
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(helloFiles, "done"), Chunks: 20}
	})
	var wg sync.WaitGroup
	results := make([]result, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = factory(t, ws, ollamaEnv(srv), "run", "hello", "--json")
		}()
	}
	wg.Wait()
	held := 0
	for i, r := range results {
		if strings.Contains(r.stderr, "locked") || strings.Contains(r.stderr, "busy") {
			t.Errorf("run %d: %s", i, r.stderr)
		}
		if r.code == 0 {
			held++
		} else {
			t.Errorf("run %d exit %d:\n%s", i, r.code, r.stderr)
		}
	}
	t.Logf("concurrent runs held: %d of %d", held, runs)
	var list []backend.Run
	decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &list)
	if len(list) != runs {
		t.Errorf("%d runs recorded, want %d", len(list), runs)
	}
	checkIntegrity(t, ws)
}

// checkIntegrity runs PRAGMA integrity_check on the workspace database.
func checkIntegrity(t *testing.T, ws string) {
	t.Helper()
	path := filepath.Join(ws, ".factory", "factory.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return // killed before it opened the store: nothing to check
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(context.Background(), "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check = %q, %v", res, err)
	}
}
