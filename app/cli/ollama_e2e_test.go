package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest/gguf"
)

// The tests in this file run the real factory binary against a real Ollama
// server serving a tiny random model, as `.ci/ollama.sh test` starts one.
// Without FACTORY_OLLAMA_HOST they skip. The model's answers are random:
// the tests check what must hold whatever it says.

// realOllama returns the real server's base URL and model, or skips.
func realOllama(t *testing.T) (host, model string) {
	t.Helper()
	host = os.Getenv("FACTORY_OLLAMA_HOST")
	if host == "" {
		t.Skip("FACTORY_OLLAMA_HOST not set (.ci/ollama.sh test starts a real Ollama and sets it)")
	}
	model = os.Getenv("FACTORY_OLLAMA_MODEL")
	if model == "" {
		model = "tiny"
	}
	return strings.TrimRight(host, "/"), model
}

// realEnv points both providers of a factory process at the real server:
// ollama at its /api, openai at its /v1.
func realEnv(host string) []string {
	return []string{"OLLAMA_HOST=" + host, "OPENAI_BASE_URL=" + host + "/v1"}
}

// The template of the tiny model, as .ci/ollama.sh creates it.
const tinyTemplate = "{{ range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}assistant: "

// apiCall sends one request to the server's API and fails the test unless
// it answers 200.
func apiCall(t *testing.T, method, url string, body any) []byte {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s %s (%v)", method, url, resp.Status, out, err)
	}
	return out
}

// createModel makes model name on the server from the model from, with
// parameters added to its own, and deletes it when the test ends. The
// factory has no per-run model options: a model's parameters are how a
// test keeps its answers short.
func createModel(t *testing.T, host, name, from string, params map[string]any) {
	t.Helper()
	apiCall(t, http.MethodPost, host+"/api/create",
		map[string]any{"model": name, "from": from, "parameters": params, "stream": false})
	t.Cleanup(func() { deleteModel(t, host, name) })
}

// createEndlessModel uploads a tiny model that never closes a JSON string
// and makes model name from it: under the factory's answer schema it
// generates until the client goes away.
//
// gguf.LlamaConfig.NeverQuote alone is not enough: before the first string
// opens, the model may close the array and the object ({"files":[]}) and
// end. So "]" and "}" are kept down too, the way NeverQuote keeps the quote
// down (dimension 0 of output.weight, a constant of the residual stream):
// the grammar then has to open a file object, whose "path" string never
// ends.
func createEndlessModel(t *testing.T, host, name string) {
	t.Helper()
	cfg := gguf.TinyLlama()
	cfg.NeverQuote = true
	f, err := gguf.NewLlama(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &f.Tensors[len(f.Tensors)-1]
	if out.Name != "output.weight" {
		t.Fatalf("last tensor is %s, want output.weight", out.Name)
	}
	n := out.Shape[0]
	tokens, _, _ := gguf.Vocab()
	for id, tok := range tokens {
		switch tok {
		case "]", "}", "<0x5D>", "<0x7D>":
			out.Data[uint64(id)*n] = out.Data[gguf.EOSID*n] // as far down as the end token
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	digest := "sha256:" + hex.EncodeToString(sum[:])
	apiCall(t, http.MethodPost, host+"/api/blobs/"+digest, buf.Bytes())
	apiCall(t, http.MethodPost, host+"/api/create", map[string]any{
		"model": name, "files": map[string]string{"endless.gguf": digest}, "template": tinyTemplate,
		"parameters": map[string]any{"num_ctx": 2048, "num_thread": 1}, "stream": false,
	})
	t.Cleanup(func() { deleteModel(t, host, name) })
}

// deleteModel removes a model the test made; the server outlives the test.
func deleteModel(t *testing.T, host, name string) {
	req, err := http.NewRequest(http.MethodDelete, host+"/api/delete", strings.NewReader(`{"model":"`+name+`"}`))
	if err != nil {
		t.Error(err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("delete model %s: %v", name, err)
		return
	}
	resp.Body.Close()
}

// tinyRole is a role with a short prompt: the tiny model's context holds
// 2048 tokens of about one byte each.
const tinyRole = `---
role: scribe
description: Writes the files it is asked for.
---
You write small text files.
`

// realWorkspace makes a workspace with the scribe role and the blueprint
// named name, whose steps (YAML list items) are steps, running model.
func realWorkspace(t *testing.T, name, model, steps string) string {
	t.Helper()
	ws := workspace(t)
	writeFile(t, filepath.Join(ws, "blueprints", "roles", "scribe.md"), tinyRole)
	writeBlueprint(t, ws, name, fmt.Sprintf(`---
blueprint: %s
title: Tiny
model: %s
output: out/%s
steps:
%s---
# Tiny

## Overview

A note in one small text file.
`, name, model, name, steps))
	must(t, factory(t, ws, nil, "check", name), 0)
	return ws
}

// ranRun is the run id a factory run printed, or the only run's id.
func ranRun(t *testing.T, ws string, r result) string {
	t.Helper()
	if id := strings.TrimSpace(r.stdout); runIDPattern.MatchString(id) {
		return id
	}
	var runs []backend.Run
	decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &runs)
	if len(runs) != 1 {
		t.Fatalf("%d runs recorded, want 1\nstdout:\n%s\nstderr:\n%s", len(runs), r.stdout, r.stderr)
	}
	return runs[0].ID
}

// finished fails the test unless a run ended with 0 (succeeded) or 1
// (failed): the random model's answers may well be refused.
func finished(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit %d, want 0 or 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestRealOllamaModels(t *testing.T) {
	host, model := realOllama(t)
	env := realEnv(host)
	var rep struct {
		Models []backend.ModelInfo `json:"models"`
		Errors map[string]string   `json:"errors"`
	}
	decode(t, must(t, factory(t, t.TempDir(), env, "models", "--json"), 0).stdout, &rep)
	if len(rep.Errors) > 0 {
		t.Errorf("models --json reports errors: %v", rep.Errors)
	}
	for _, provider := range []string{backend.ProviderOllama, backend.ProviderOpenAI} {
		var names []string
		for _, m := range rep.Models {
			if m.Provider == provider {
				names = append(names, m.Name)
			}
		}
		if !slices.Contains(names, model) && !slices.Contains(names, model+":latest") {
			t.Errorf("%s lists %v, want %s among them", provider, names, model)
		}
		for _, m := range rep.Models {
			if m.Provider == backend.ProviderOllama && strings.HasPrefix(m.Name, model) && m.Size <= 0 {
				t.Errorf("ollama lists %s with size %d", m.Name, m.Size)
			}
		}
	}
	text := must(t, factory(t, t.TempDir(), env, "models"), 0).stdout
	contains(t, "factory models", text, "ollama:"+model)
	contains(t, "factory models", text, "openai:"+model)
}

// TestRealOllamaRunRecordsCalls runs a one-step blueprint through each
// provider and reads the model call back with factory show --json: real
// token counts and durations, whatever the random answer was worth.
func TestRealOllamaRunRecordsCalls(t *testing.T) {
	host, model := realOllama(t)
	const short = "factory-e2e-short"
	createModel(t, host, short, model, map[string]any{"num_predict": 300})
	for _, provider := range []string{backend.ProviderOllama, backend.ProviderOpenAI} {
		t.Run(provider, func(t *testing.T) {
			ws := realWorkspace(t, "note", "ollama:"+model, "  - id: note\n    role: scribe\n    uses: [Overview]\n    writes: [\"**\"]\n")
			ref := provider + ":" + short
			start := time.Now()
			r := factory(t, ws, realEnv(host), "run", "note", "--model", ref)
			finished(t, r)
			id := ranRun(t, ws, r)
			d := runDetail(t, ws, id)
			t.Logf("run %s %s in %v: %s", id[:8], d.Run.Status, time.Since(start).Round(time.Millisecond), firstLineOf(d.Run.Error))
			if len(d.Calls) != 1 {
				t.Fatalf("%d model calls recorded, want 1: %+v", len(d.Calls), d.Calls)
			}
			c := d.Calls[0]
			if c.Provider != provider || !strings.HasPrefix(c.Model, short) || c.Error != "" {
				t.Errorf("call recorded as provider %q, model %q, error %q", c.Provider, c.Model, c.Error)
			}
			if c.TokensIn <= 0 || c.TokensOut <= 0 || c.Duration <= 0 || c.FirstToken <= 0 || c.FirstToken > c.Duration {
				t.Errorf("call: tokens in %d out %d, duration %v, first token %v; want real counts and times",
					c.TokensIn, c.TokensOut, c.Duration, c.FirstToken)
			}
			if c.TokensOut > 300 || (c.DoneReason == "length" && c.TokensOut != 300) {
				t.Errorf("call: %d tokens out, done reason %q; the model's num_predict is 300", c.TokensOut, c.DoneReason)
			}
			if c.DoneReason != "stop" && c.DoneReason != "length" {
				t.Errorf("call: done reason %q, want stop or length", c.DoneReason)
			}
			if c.PromptHash == "" || c.AnswerHash == "" {
				t.Errorf("call: prompt %q, answer %q; want both stored", c.PromptHash, c.AnswerHash)
			}
			if d.Run.TokensIn != c.TokensIn || d.Run.TokensOut != c.TokensOut || d.Run.Calls != 1 {
				t.Errorf("run totals %d/%d in %d calls, want the call's %d/%d in 1",
					d.Run.TokensIn, d.Run.TokensOut, d.Run.Calls, c.TokensIn, c.TokensOut)
			}
			if d.Run.Status == backend.StatusFailed && d.Run.Error == "" {
				t.Error("the run failed without saying why")
			}
			t.Logf("%s: %d tokens in, %d out in %v (first token %v, %.0f tokens/s), done reason %q",
				ref, c.TokensIn, c.TokensOut, c.Duration, c.FirstToken,
				float64(c.TokensOut)/c.Duration.Seconds(), c.DoneReason)
		})
	}
}

// TestRealOllamaGarbageStaysInside lets the random model's answers reach
// the file writer, over several attempts: whatever it answers, nothing is
// written outside the output folder, no name has a control character, and
// every failed attempt says why.
func TestRealOllamaGarbageStaysInside(t *testing.T) {
	host, model := realOllama(t)
	const garbage = "factory-e2e-garbage"
	createModel(t, host, garbage, model, map[string]any{"num_predict": 1500})
	tests := []struct {
		name   string
		writes string
	}{
		{"narrow writes", `["*.md", "docs/*.txt"]`},
		{"writes everything", `["**"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := fmt.Sprintf("  - id: scribble\n    role: scribe\n    uses: [Overview]\n    writes: %s\n    retries: 3\n", tt.writes)
			ws := realWorkspace(t, "scribble", "ollama:"+garbage, steps)
			// The test's whole temporary tree: the workspace and what is
			// around it, where a "../" escape would land.
			parent := filepath.Dir(filepath.Dir(ws))
			before := snapshot(t, parent)
			r := factory(t, ws, realEnv(host), "run", "scribble")
			finished(t, r)
			id := ranRun(t, ws, r)
			d := runDetail(t, ws, id)

			out := filepath.Join(ws, "out", "scribble")
			for path, what := range snapshot(t, parent) {
				if was, ok := before[path]; ok && was == what {
					continue
				}
				switch {
				case inside(path, out), inside(path, filepath.Join(ws, ".factory")):
				case inside(out, path) && strings.HasPrefix(what, "d"): // out/, made for out/scribble
				default:
					t.Errorf("%q (%s) was written outside the output folder", path, what)
				}
			}
			written := checkNames(t, out)
			for _, a := range d.Artifacts {
				if !slices.Contains(written, a.Path) {
					t.Errorf("artifact %q is not on disk under out/scribble", a.Path)
				}
			}

			if len(d.Attempts) == 0 || len(d.Calls) != len(d.Attempts) {
				t.Errorf("%d attempts, %d model calls recorded", len(d.Attempts), len(d.Calls))
			}
			for _, a := range d.Attempts {
				t.Logf("attempt %d %s: %s", a.N, a.Status, clipText(a.Error, 300))
				if a.Status == backend.StatusFailed && !clearReason(a.Error) {
					t.Errorf("attempt %d failed without a clear reason: %q", a.N, a.Error)
				}
				if a.N > 1 && a.Feedback == "" {
					t.Errorf("attempt %d was given no feedback", a.N)
				}
			}
			switch d.Run.Status {
			case backend.StatusFailed:
				if r.code != 1 || !clearReason(d.Run.Error) {
					t.Errorf("run failed with exit %d, reason %q", r.code, d.Run.Error)
				}
				contains(t, "stderr", r.stderr, "attempt 1 failed: ")
			case backend.StatusSucceeded:
				if r.code != 0 || len(d.Artifacts) == 0 {
					t.Errorf("run succeeded with exit %d and %d artifacts", r.code, len(d.Artifacts))
				}
			default:
				t.Errorf("run %s, want failed or succeeded", d.Run.Status)
			}
			t.Logf("run %s after %d attempts; files written under out/scribble: %q", d.Run.Status, len(d.Attempts), written)
		})
	}
}

// snapshot lists every file and folder under root with its size and time.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	all := map[string]string{}
	err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		all[path] = fmt.Sprintf("%v %d %v", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// inside reports whether path is dir or under it.
func inside(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkNames fails the test for any name under dir that is not valid UTF-8
// or holds a control character, or any entry that is not a regular file or
// a folder; it returns the files' slash-separated paths.
func checkNames(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if os.IsNotExist(err) && path == dir {
			return fs.SkipAll // nothing was written
		}
		if err != nil {
			return err
		}
		name := de.Name()
		if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
			t.Errorf("name %q under the output folder has a control character or is not UTF-8", name)
		}
		if !de.Type().IsRegular() && !de.IsDir() {
			t.Errorf("%q under the output folder is a %v", path, de.Type())
		}
		if de.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// clearReason reports whether an error message says something and is
// printable: control characters of a refused name are quoted, not printed.
func clearReason(msg string) bool {
	return strings.TrimSpace(msg) != "" && utf8.ValidString(msg) &&
		!strings.ContainsFunc(msg, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func firstLineOf(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// TestRealOllamaCancel interrupts factory run while the model generates an
// answer that would never end: the process exits 130 and the run is
// canceled. The design asks for a stop within a second; the test logs the
// time and fails only past 10 s, so a busy machine does not fail it.
func TestRealOllamaCancel(t *testing.T) {
	host, _ := realOllama(t)
	const endless = "factory-e2e-endless"
	createEndlessModel(t, host, endless)
	for _, provider := range []string{backend.ProviderOllama, backend.ProviderOpenAI} {
		t.Run(provider, func(t *testing.T) {
			ws := realWorkspace(t, "endless", provider+":"+endless,
				"  - id: endless\n    role: scribe\n    uses: [Overview]\n    writes: [\"**\"]\n")
			cmd := exec.Command(factoryBin, "run", "endless")
			cmd.Dir = ws
			cmd.Env = append(baseEnv(), realEnv(host)...)
			var out bytes.Buffer
			stderr := &lineWaiter{want: "attempt 1", seen: make(chan struct{})}
			cmd.Stdout, cmd.Stderr = &out, stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-stderr.seen:
			case err := <-exited:
				t.Fatalf("factory run ended (%v) before its step started:\n%s", err, stderr.String())
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				t.Fatalf("the step never started:\n%s", stderr.String())
			}
			loaded := waitLoaded(t, host, endless, exited)
			// The model is loaded: the answer is being generated. Let it
			// run a little, so the interrupt lands mid-stream.
			time.Sleep(500 * time.Millisecond)
			sent := time.Now()
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("factory run did not exit within 10 s of SIGINT\nstderr:\n%s", stderr.String())
			}
			took := time.Since(sent)
			t.Logf("%s: factory run exited %v after SIGINT (model loaded %v before; design target 1 s)",
				provider, took.Round(time.Millisecond), sent.Sub(loaded).Round(time.Millisecond))
			if took > time.Second {
				t.Logf("note: over the 1 s target")
			}
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 130 {
				t.Fatalf("exit %v, want 130\nstderr:\n%s", err, stderr.String())
			}
			var runs []backend.Run
			decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &runs)
			if len(runs) != 1 || runs[0].Status != backend.StatusCanceled {
				t.Fatalf("runs after SIGINT: %+v", runs)
			}
			d := runDetail(t, ws, runs[0].ID)
			for _, c := range d.Calls {
				t.Logf("call recorded: %d tokens in, %d out, %v, error %q", c.TokensIn, c.TokensOut, c.Duration, c.Error)
			}
			if len(d.Artifacts) > 0 {
				t.Errorf("a canceled run wrote %d files", len(d.Artifacts))
			}
			// The server gave up the abandoned answer: a short one of the
			// same model comes back at once instead of queueing behind it.
			start := time.Now()
			apiCall(t, http.MethodPost, host+"/api/chat", map[string]any{"model": endless, "stream": false,
				"messages": []backend.Message{{Role: "user", Content: "hi"}}, "options": map[string]any{"num_predict": 8}})
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("a chat after the cancel took %v: the server still generated the abandoned answer", took)
			} else {
				t.Logf("a chat after the cancel took %v", took.Round(time.Millisecond))
			}
		})
	}
}

// waitLoaded waits until the server has model loaded (GET /api/ps) and
// returns when it saw it.
func waitLoaded(t *testing.T, host, model string, exited <-chan error) time.Time {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var ps struct {
			Models []struct {
				Name string `json:"name"`
			} `json:"models"`
		}
		if err := json.Unmarshal(apiCall(t, http.MethodGet, host+"/api/ps", nil), &ps); err != nil {
			t.Fatal(err)
		}
		for _, m := range ps.Models {
			if strings.HasPrefix(m.Name, model) {
				return time.Now()
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("factory run ended (%v) before the model was loaded", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("model %s was not loaded within a minute", model)
	return time.Time{}
}

// TestRealOllamaUnknownModel runs a blueprint with a model the server does
// not have: ollama's error names the command that fetches it.
func TestRealOllamaUnknownModel(t *testing.T) {
	host, model := realOllama(t)
	ws := realWorkspace(t, "note", "ollama:"+model, "  - id: note\n    role: scribe\n    uses: [Overview]\n    writes: [\"**\"]\n")
	const name = "no-such-model-here:1b"
	tests := []struct {
		provider string
		want     []string
	}{
		{backend.ProviderOllama, []string{name, "ollama pull " + name}},
		{backend.ProviderOpenAI, []string{name, "not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			r := must(t, factory(t, ws, realEnv(host), "run", "note", "--model", tt.provider+":"+name), 1)
			for _, want := range tt.want {
				contains(t, "stderr", r.stderr, want)
			}
			t.Logf("stderr:\n%s", r.stderr)
		})
	}
}

// TestRealOllamaPullOffline pulls a model the server cannot fetch: its
// registry is out of reach (.ci/ollama.sh points its proxy at a closed
// port). factory models pull fails at once, naming the model and why.
func TestRealOllamaPullOffline(t *testing.T) {
	host, _ := realOllama(t)
	const name = "factory-no-such-model:0.1b"
	start := time.Now()
	r := must(t, factory(t, t.TempDir(), realEnv(host), "models", "pull", name), 1)
	took := time.Since(start)
	t.Logf("factory models pull failed after %v:\n%s", took.Round(time.Millisecond), r.stderr)
	contains(t, "stderr", r.stderr, name)
	if !strings.Contains(r.stderr, "registry") {
		t.Errorf("stderr does not say the registry is the problem:\n%s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing for a failed pull", r.stdout)
	}
	if took > time.Minute {
		t.Errorf("the pull took %v to fail", took)
	}
	var rep struct {
		Models []backend.ModelInfo `json:"models"`
	}
	decode(t, must(t, factory(t, t.TempDir(), realEnv(host), "models", "--json"), 0).stdout, &rep)
	for _, m := range rep.Models {
		if strings.HasPrefix(m.Name, "factory-no-such-model") {
			t.Errorf("the failed pull left model %s:%s behind", m.Provider, m.Name)
		}
	}
}
