package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/sqlite"
)

// factoryBin is the real factory binary, built once by TestMain.
var factoryBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "factory-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	factoryBin = filepath.Join(dir, "factory")
	build := exec.Command("go", "build", "-o", factoryBin, "factorydesk")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building factory:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one factory process did.
type result struct {
	code           int
	stdout, stderr string
	maxRSS         int64 // peak resident memory in bytes
}

// factory runs the binary in dir with env added to a minimal environment.
func factory(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return factoryWith(t, dir, env, nil, args...)
}

// factoryWith runs the binary with env added and stdin (nil: none).
func factoryWith(t *testing.T, dir string, env []string, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, factoryBin, args...)
	cmd.Dir, cmd.Stdin = dir, stdin
	cmd.Env = append(baseEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("factory %v: %v", args, err)
	}
	r := result{code: code, stdout: out.String(), stderr: errb.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = int64(ru.Maxrss) << 10 // Linux reports KiB
	}
	return r
}

func baseEnv() []string {
	env := []string{"HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}
	for _, k := range []string{"GOCACHE", "GOPATH", "GOMODCACHE", "GOFLAGS", "GOPROXY"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func must(t *testing.T, r result, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// workspace makes a fresh workspace with factory init.
func workspace(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ws")
	must(t, factory(t, t.TempDir(), nil, "init", dir), 0)
	return dir
}

// helloFiles is a correct answer for blueprints/hello.md.
var helloFiles = map[string]string{
	"go.mod":    "module hello\n\ngo 1.22\n",
	"main.go":   "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"Hello, world!\") }\n",
	"README.md": "# Hello\n\nRun it with `go run .`.\n",
}

func ollamaEnv(srv *modeltest.Ollama) []string { return []string{"OLLAMA_HOST=" + srv.URL()} }

var runIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func openDB(t *testing.T, ws string) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(ws, ".factory", "factory.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestInitCheckRunHello(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(helloFiles, "done"), PromptTokens: 321, EvalTokens: 123}
	})

	must(t, factory(t, ws, nil, "check"), 0)
	r := must(t, factory(t, ws, ollamaEnv(srv), "run", "hello", "--model", "ollama:"+modeltest.DefaultModel), 0)
	id := strings.TrimSpace(r.stdout)
	if !runIDPattern.MatchString(id) {
		t.Fatalf("stdout %q is not a run id", r.stdout)
	}
	if !strings.Contains(r.stderr, "hello") || !strings.Contains(r.stderr, "succeeded") {
		t.Errorf("progress on stderr does not name the step and its end:\n%s", r.stderr)
	}
	for path, want := range helloFiles {
		got, err := os.ReadFile(filepath.Join(ws, "out", "hello", path))
		if err != nil || string(got) != want {
			t.Errorf("out/hello/%s = %q, %v; want %q", path, got, err, want)
		}
	}

	d, err := openDB(t, ws).Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Status != backend.StatusSucceeded || len(d.Steps) != 1 || len(d.Calls) != 1 || len(d.Artifacts) != 3 {
		t.Fatalf("recorded run %+v with %d steps, %d calls, %d artifacts", d.Run, len(d.Steps), len(d.Calls), len(d.Artifacts))
	}
	if c := d.Calls[0]; c.TokensIn != 321 || c.TokensOut != 123 || c.PromptHash == "" || c.AnswerHash == "" {
		t.Errorf("call recorded as %+v", c)
	}
	for _, a := range d.Artifacts {
		if len(a.Sections) == 0 || a.SHA256 == "" {
			t.Errorf("artifact %+v lacks sections or hash", a)
		}
	}

	var runs []backend.Run
	decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &runs)
	if len(runs) != 1 || runs[0].ID != id {
		t.Errorf("runs --json = %+v", runs)
	}
	var shown backend.RunDetail
	decode(t, must(t, factory(t, ws, nil, "show", id[:8], "--json"), 0).stdout, &shown)
	if shown.Run.ID != id || len(shown.Artifacts) != 3 {
		t.Errorf("show --json = %+v", shown.Run)
	}
	text := must(t, factory(t, ws, nil, "show", id), 0).stdout
	for _, want := range []string{id, "succeeded", "main.go", "321/123"} {
		if !strings.Contains(text, want) {
			t.Errorf("show lacks %q:\n%s", want, text)
		}
	}
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v in:\n%s", err, s)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	ws := workspace(t)
	hello := filepath.Join(ws, "blueprints", "hello.md")
	if err := os.WriteFile(hello, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := must(t, factory(t, ws, nil, "init"), 1)
	if !strings.Contains(r.stderr, "overwrite") || !strings.Contains(r.stderr, "hello.md") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if got, _ := os.ReadFile(hello); string(got) != "mine" {
		t.Errorf("hello.md was overwritten: %q", got)
	}
}

func TestCheckReportsEveryError(t *testing.T) {
	ws := workspace(t)
	bad := "---\nblueprint: bad\nsteps:\n  - id: a\n    role: nobody\n    needs: [ghost]\n---\n# Bad\n"
	if err := os.WriteFile(filepath.Join(ws, "blueprints", "bad.md"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := must(t, factory(t, ws, nil, "check"), 1)
	for _, want := range []string{"blueprints/bad.md:5:11: ", "blueprints/bad.md:6:13: "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	var rep struct {
		OK          bool                `json:"ok"`
		Diagnostics backend.Diagnostics `json:"diagnostics"`
	}
	decode(t, must(t, factory(t, ws, nil, "check", "--json", "bad"), 1).stdout, &rep)
	if rep.OK || len(rep.Diagnostics) < 2 {
		t.Errorf("check --json = %+v", rep)
	}
	must(t, factory(t, ws, nil, "check", "hello"), 0)
	r = must(t, factory(t, ws, nil, "run", "bad"), 1)
	if !strings.Contains(r.stderr, "blueprints/bad.md:5:11") {
		t.Errorf("run of a broken blueprint did not show its errors:\n%s", r.stderr)
	}
}

func TestRunModelServerProblems(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	oom := modeltest.Reply{Status: 500, Error: "CUDA out of memory"}
	srv.Enqueue(oom, oom, oom) // the call and its two tries again
	retries := "FACTORY_MODEL_RETRIES=1ms,1ms"
	cases := []struct {
		name  string
		env   []string
		model string
		want  string
	}{
		{"server down", []string{"OLLAMA_HOST=" + closedAddr(t)}, "ollama:qwen2.5-coder:7b", "not reachable"},
		{"model not found", ollamaEnv(srv), "ollama:nosuch:1b", "ollama pull nosuch:1b"},
		// A server failing on its side is tried again, then blamed, not the model.
		{"server error", append(ollamaEnv(srv), retries), "ollama:" + modeltest.DefaultModel, "not of the model's answer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := must(t, factory(t, ws, tc.env, "run", "hello", "--model", tc.model), 1)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if tc.name == "server error" && (!strings.Contains(r.stderr, "CUDA out of memory") || strings.Contains(r.stderr, "attempt 2")) {
				t.Errorf("a server failure should end the step in its first attempt, naming the server's message:\n%s", r.stderr)
			}
		})
	}
}

// closedAddr returns the URL of a loopback port nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestRunRetriesWithFeedback(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	srv.Enqueue(
		modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"../escape.go": "package x\n"}, "")},
		modeltest.Reply{Content: modeltest.FilesAnswer(helloFiles, "fixed")},
	)
	bp := strings.Replace(mustRead(t, filepath.Join(ws, "blueprints", "hello.md")), "    writes:", "    retries: 1\n    writes:", 1)
	if err := os.WriteFile(filepath.Join(ws, "blueprints", "hello.md"), []byte(bp), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, factory(t, ws, ollamaEnv(srv), "run", "hello"), 0)
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1].Content
	if !strings.Contains(last, "../escape.go") {
		t.Errorf("the retry's prompt does not carry the refusal of ../escape.go:\n%s", last)
	}
	if _, err := os.Stat(filepath.Join(ws, "out", "escape.go")); err == nil {
		t.Error("a file was written outside the output folder")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunCtrlCCancels(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	srv.Enqueue(modeltest.Reply{Content: modeltest.FilesAnswer(helloFiles, ""), Chunks: 50, CutAfter: 3, Stall: true})
	cmd := exec.Command(factoryBin, "run", "hello")
	cmd.Dir = ws
	cmd.Env = append(baseEnv(), ollamaEnv(srv)...)
	var out bytes.Buffer
	stderr := &lineWaiter{want: "attempt 1", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stderr.seen:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the step never started:\n%s", stderr.String())
	}
	for len(srv.Requests()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("exited %v after SIGINT", time.Since(start))
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\nstderr:\n%s", err, stderr.String())
	}
	runs, err := openDB(t, ws).Runs(context.Background(), backend.RunFilter{})
	if err != nil || len(runs) != 1 || runs[0].Status != backend.StatusCanceled {
		t.Fatalf("runs after Ctrl-C: %+v, %v", runs, err)
	}
}

// lineWaiter is a writer that signals when its text first contains want.
type lineWaiter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	done bool
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.want) {
		w.done = true
		close(w.seen)
	}
	return n, err
}

func (w *lineWaiter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestModelsLists(t *testing.T) {
	srv := modeltest.NewOllama(t)
	var rep struct {
		Models []backend.ModelInfo `json:"models"`
	}
	decode(t, must(t, factory(t, t.TempDir(), ollamaEnv(srv), "models", "--json"), 0).stdout, &rep)
	if len(rep.Models) != 1 || rep.Models[0].Name != modeltest.DefaultModel || rep.Models[0].Provider != "ollama" {
		t.Errorf("models --json = %+v", rep.Models)
	}
	r := must(t, factory(t, t.TempDir(), []string{"OLLAMA_HOST=" + closedAddr(t)}, "models"), 1)
	if !strings.Contains(r.stderr, "not reachable") {
		t.Errorf("stderr: %s", r.stderr)
	}
	r = must(t, factory(t, t.TempDir(), ollamaEnv(srv), "models", "pull", "nosuch:1b"), 1)
	if !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("pull of an unknown model: %s", r.stderr)
	}
}

func TestUsageAndHelp(t *testing.T) {
	dir := t.TempDir()
	for _, cmd := range []string{"init", "check", "run", "runs", "show", "models", "serve"} {
		r := must(t, factory(t, dir, nil, cmd, "--help"), 0)
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "--workspace") {
			t.Errorf("%s --help:\n%s", cmd, r.stdout)
		}
	}
	for _, args := range [][]string{{"run"}, {"run", "a", "b"}, {"show"}, {"runs", "--bogus"}, {"nosuchcommand"}} {
		r := must(t, factory(t, dir, nil, args...), 2)
		if r.stderr == "" {
			t.Errorf("%v: no message", args)
		}
	}
	must(t, factory(t, dir, nil, "run", "hello", "--parallel", "0"), 2)
	r := must(t, factory(t, dir, nil, "run", "hello", "--model", "gpt4"), 2)
	if !strings.Contains(r.stderr, "provider:model") {
		t.Errorf("bad --model: %s", r.stderr)
	}
}
