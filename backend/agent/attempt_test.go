package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/ollama"
)

// sandbox is a temp folder holding the output folder "out" and a sibling
// "outside" that no attempt may touch.
type sandbox struct {
	dir, out, outside string
}

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	dir := t.TempDir()
	s := sandbox{dir: dir, out: filepath.Join(dir, "out"), outside: filepath.Join(dir, "outside")}
	for _, d := range []string{s.out, s.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.outside, "target.go"), []byte("package outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// link creates a symlink at out/name pointing to target.
func (s sandbox) link(t *testing.T, target, name string) {
	t.Helper()
	p := filepath.Join(s.out, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// snapshot describes every entry under dir, without following symlinks.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			snap[rel] = "symlink to " + target
			return err
		case d.IsDir():
			snap[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			sum := sha256.Sum256(b)
			snap[rel] = "file " + hex.EncodeToString(sum[:8])
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// changes lists entries that differ between two snapshots, split into
// those inside the output folder and those outside it.
func changes(before, after map[string]string) (inside, outside []string) {
	note := func(k, what string) {
		if k == "out" || strings.HasPrefix(k, "out"+string(filepath.Separator)) {
			inside = append(inside, k+": "+what)
		} else {
			outside = append(outside, k+": "+what)
		}
	}
	for k, v := range after {
		if before[k] != v {
			note(k, fmt.Sprintf("%q -> %q", before[k], v))
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			note(k, "removed")
		}
	}
	return inside, outside
}

// harness is an agent, a real Ollama provider and the Ollama test server.
type harness struct {
	srv   *modeltest.Ollama
	agent *Agent
	req   backend.AttemptRequest
}

func newHarness(t *testing.T, out string, cfg Config) *harness {
	t.Helper()
	srv := modeltest.NewOllama(t)
	req := testRequest()
	req.Step.Writes = []string{"go.mod", "src/**", "docs/*.md", "!src/secret/**", "**/.git/**", ".factory/**"}
	req.Model = backend.ModelRef{Provider: backend.ProviderOllama, Model: modeltest.DefaultModel}
	req.Provider = ollama.New(ollama.Config{Host: srv.URL(), StallTimeout: 10 * time.Second})
	req.OutputDir = out
	return &harness{srv: srv, agent: New(cfg), req: req}
}

func jsonFiles(pathContent ...string) string {
	type file struct {
		Path    string `json:"path"`
		Content string `json:"content"`
	}
	ans := struct {
		Files []file `json:"files"`
	}{Files: []file{}}
	for i := 0; i+1 < len(pathContent); i += 2 {
		ans.Files = append(ans.Files, file{Path: pathContent[i], Content: pathContent[i+1]})
	}
	b, err := json.Marshal(ans)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestAttemptHostileAnswers(t *testing.T) {
	many := make([]string, 0, 402)
	for i := range 201 {
		many = append(many, fmt.Sprintf("src/f%03d.go", i), "package src\n")
	}
	ok := `{"path":"src/ok.go","content":"package src\n"}`
	tests := []struct {
		name  string
		setup func(t *testing.T, s sandbox)
		reply modeltest.Reply
		want  string
	}{
		{name: "dotdot traversal", reply: modeltest.Reply{Content: jsonFiles("src/ok.go", "x", "../outside/pwned.go", "x")}, want: `"../outside/pwned.go": ".." segment`},
		{name: "deep traversal", reply: modeltest.Reply{Content: jsonFiles("src/a/b/../../../../../../etc/cron.d/x", "x")}, want: `".." segment`},
		{name: "absolute unix path", reply: modeltest.Reply{Content: jsonFiles("/tmp/pwned.go", "x")}, want: "absolute path"},
		{name: "windows drive path", reply: modeltest.Reply{Content: jsonFiles(`C:\Windows\pwned.go`, "x")}, want: "Windows drive"},
		{name: "backslash path", reply: modeltest.Reply{Content: jsonFiles(`src\..\..\outside\pwned.go`, "x")}, want: "backslash"},
		{
			name:  "symlink escape",
			setup: func(t *testing.T, s sandbox) { s.link(t, "../../outside", "src/link") },
			reply: modeltest.Reply{Content: jsonFiles("src/link/pwned.go", "x")},
			want:  `parent "src/link" is a symlink that leads outside the output folder`,
		},
		{
			name:  "symlinked parent dir",
			setup: func(t *testing.T, s sandbox) { s.link(t, s.outside, "src/vendor") },
			reply: modeltest.Reply{Content: jsonFiles("src/vendor/new/deep/pwned.go", "x")},
			want:  `parent "src/vendor" is a symlink`,
		},
		{
			name:  "target is a symlink",
			setup: func(t *testing.T, s sandbox) { s.link(t, "../../outside/target.go", "src/target.go") },
			reply: modeltest.Reply{Content: jsonFiles("src/target.go", "package pwned\n")},
			want:  "the target is a symlink",
		},
		{name: "outside writes", reply: modeltest.Reply{Content: jsonFiles("main.go", "x")}, want: "outside the step's writes globs"},
		{name: "excluded by ! glob", reply: modeltest.Reply{Content: jsonFiles("src/secret/key.go", "x")}, want: `excluded by the step's writes glob "!src/secret/**"`},
		{name: "huge file", reply: modeltest.Reply{Content: jsonFiles("src/huge.go", strings.Repeat("a", 1<<20+1)), Chunks: 16}, want: "1048577 bytes, over the limit of 1048576"},
		{name: "too many files", reply: modeltest.Reply{Content: jsonFiles(many...), Chunks: 16}, want: "201 files, over the limit of 200"},
		{name: "duplicate paths", reply: modeltest.Reply{Content: jsonFiles("src/a.go", "a", "src/a.go", "b")}, want: "duplicate path"},
		{name: "NUL in content", reply: modeltest.Reply{Content: jsonFiles("src/a.go", "a\x00b")}, want: "NUL bytes"},
		{name: "invalid UTF-8 content", reply: modeltest.Reply{Content: `{"files":[` + ok + `,{"path":"src/a.go","content":"bad \udcff"}]}`}, want: "files[1].content is not valid UTF-8"},
		{name: "control char in name", reply: modeltest.Reply{Content: jsonFiles("src/a\x1b[31m.go", "x")}, want: "control character U+001B"},
		{name: "newline in name", reply: modeltest.Reply{Content: jsonFiles("src/a.go\n../../x", "x")}, want: "control character U+000A"},
		{name: ".git/config", reply: modeltest.Reply{Content: jsonFiles(".git/config", "[core]\n")}, want: ".git/ is reserved"},
		{name: ".factory/x", reply: modeltest.Reply{Content: jsonFiles(".factory/x", "x")}, want: ".factory/ is reserved"},
		{name: "invalid JSON", reply: modeltest.Reply{Content: `{"files": [{"path": "src/a.go", "content": "x"},]}`}, want: "not valid JSON: invalid character ']'"},
		{name: "truncated JSON", reply: modeltest.Reply{Content: `{"files": [{"path": "src/a.go", "content": "pack`}, want: "ends early"},
		{name: "empty answer", reply: modeltest.Reply{Content: ""}, want: "the answer is empty"},
		{name: "JSON null", reply: modeltest.Reply{Content: "null"}, want: "the answer is null, want an object"},
		{name: "files not an array", reply: modeltest.Reply{Content: `{"files":{"src/a.go":"x"}}`}, want: `"files" is an object, want an array`},
		{name: "path not a string", reply: modeltest.Reply{Content: `{"files":[{"path":["src/a.go"],"content":"x"}]}`}, want: "files[0].path is an array, want a string"},
		{name: "missing files key", reply: modeltest.Reply{Content: `{"notes":"all done"}`}, want: `no "files" key`},
		{name: "extra key", reply: modeltest.Reply{Content: `{"files":[` + ok + `],"shell":"rm -rf /"}`}, want: `unknown key "shell"`},
		{name: "trailing garbage", reply: modeltest.Reply{Content: `{"files":[` + ok + `]}` + "\n\nLet me know if you need more!"}, want: "trailing text after the JSON object"},
		{name: "prose with no code blocks", reply: modeltest.Reply{Content: "Sure! I would create a main.go with a handler."}, want: "answer is not JSON (invalid character 'S' looking for beginning of value at offset 1) and has no fenced code blocks headed by a path"},
		{name: "prose with hostile path", reply: modeltest.Reply{Content: "../outside/pwned.go\n```go\npackage pwned\n```\n"}, want: `".." segment`},
		{name: "zero files", reply: modeltest.Reply{Content: `{"files":[],"notes":"nothing to do"}`}, want: "the answer has no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			h := newHarness(t, s.out, Config{})
			h.srv.Enqueue(tt.reply)
			before := snapshot(t, s.dir)

			res := h.agent.Attempt(t.Context(), h.req)

			if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
				t.Fatalf("Err = %v, want it to contain %q", res.Err, tt.want)
			}
			if code := backend.ErrorCode(res.Err); code != backend.EINVALID {
				t.Errorf("code = %q, want %q", code, backend.EINVALID)
			}
			if len(res.Files) != 0 || res.Notes != "" {
				t.Errorf("Files = %v, Notes = %q; want none", res.Files, res.Notes)
			}
			if len(res.Calls) != 1 || res.Calls[0].Err != nil || res.Calls[0].Response.Content != tt.reply.Content {
				t.Errorf("Calls = %d, want one successful call recorded with the answer", len(res.Calls))
			}
			inside, outside := changes(before, snapshot(t, s.dir))
			if len(outside) > 0 {
				t.Errorf("%d entries changed outside the output folder:\n%s", len(outside), strings.Join(outside, "\n"))
			}
			if len(inside) > 0 {
				t.Errorf("a refused answer changed the output folder:\n%s", strings.Join(inside, "\n"))
			}
		})
	}
}

func TestAttemptWritesFiles(t *testing.T) {
	s := newSandbox(t)
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, filepath.Join(s.out, "orders"), Config{
		Now:    func() time.Time { return start },
		Redact: func(m string) string { return strings.ReplaceAll(m, "hunter2", "[REDACTED]") },
	})
	h.req.Feedback = "the gate printed password=hunter2"
	h.req.Options = map[string]any{"temperature": 0.0, "seed": 7.0}
	var mu sync.Mutex
	var streamed strings.Builder
	h.req.OnToken = func(s string) {
		mu.Lock()
		defer mu.Unlock()
		streamed.WriteString(s)
	}
	answer := modeltest.FilesAnswer(map[string]string{
		"go.mod":          "module orders\n\ngo 1.26\n",
		"src/orders.go":   "package orders\n\ntype Order struct{ ID string }\n",
		"docs/design.md":  "# Design\n",
		"src/api/http.go": "package api\n",
	}, "four files")
	h.srv.Enqueue(modeltest.Reply{Content: answer, PromptTokens: 1234, EvalTokens: 56})

	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Notes != "four files" || len(res.Files) != 4 {
		t.Fatalf("Notes = %q, Files = %+v", res.Notes, res.Files)
	}
	for _, f := range res.Files {
		b, err := os.ReadFile(filepath.Join(h.req.OutputDir, filepath.FromSlash(f.Path)))
		sum := sha256.Sum256(b)
		if err != nil || hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size {
			t.Errorf("%s on disk does not match %+v (%v)", f.Path, f, err)
		}
	}

	if len(res.Calls) != 1 {
		t.Fatalf("Calls = %d, want 1", len(res.Calls))
	}
	call := res.Calls[0]
	if call.Provider != backend.ProviderOllama || !call.StartedAt.Equal(start) || call.Err != nil {
		t.Errorf("call = %s at %v, err %v", call.Provider, call.StartedAt, call.Err)
	}
	if call.Response.InputTokens != 1234 || call.Response.OutputTokens != 56 || call.Response.Content != answer {
		t.Errorf("response tokens %d/%d, content %q", call.Response.InputTokens, call.Response.OutputTokens, call.Response.Content)
	}
	if streamed.String() != answer {
		t.Errorf("streamed %q, want the whole answer", streamed.String())
	}
	if call.Request.Model != modeltest.DefaultModel || !bytes.Equal(call.Request.Schema, Schema()) ||
		!reflect.DeepEqual(call.Request.Options, h.req.Options) {
		t.Errorf("request = %+v", call.Request)
	}

	sent := h.srv.Requests()
	if len(sent) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(sent))
	}
	var gotSchema, wantSchema any
	_ = json.Unmarshal(sent[0].Format, &gotSchema)
	_ = json.Unmarshal(Schema(), &wantSchema)
	if !reflect.DeepEqual(gotSchema, wantSchema) {
		t.Errorf("format sent = %s, want the answer schema", sent[0].Format)
	}
	if !reflect.DeepEqual(sent[0].Messages, call.Request.Messages) {
		t.Errorf("messages sent differ from the recorded request")
	}
	last := sent[0].Messages[len(sent[0].Messages)-1].Content
	if strings.Contains(last, "hunter2") || !strings.Contains(last, "password=[REDACTED]") {
		t.Errorf("the redactor was not applied to the messages sent:\n%s", last)
	}
}

func TestAttemptProseFallback(t *testing.T) {
	s := newSandbox(t)
	h := newHarness(t, s.out, Config{})
	h.srv.Enqueue(modeltest.Reply{Content: "Here is the module.\n\n**go.mod**\n```\nmodule x\n```\n\n" +
		"```go path=src/x.go\npackage x\n```\n"})
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Files) != 2 || res.Files[0].Path != "go.mod" || res.Files[1].Path != "src/x.go" || res.Notes != "Here is the module." {
		t.Fatalf("Files = %+v, Notes = %q", res.Files, res.Notes)
	}
	if b, err := os.ReadFile(filepath.Join(s.out, "src", "x.go")); err != nil || string(b) != "package x\n" {
		t.Errorf("src/x.go = %q, %v", b, err)
	}
}

func TestAttemptProviderErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, h *harness) context.Context
		code  string
		want  string
	}{
		{
			name: "unknown model",
			setup: func(t *testing.T, h *harness) context.Context {
				h.req.Model.Model = "no-such-model:1b"
				return t.Context()
			},
			code: backend.ENOTFOUND, want: "model ollama:no-such-model:1b",
		},
		{
			name: "server down",
			setup: func(t *testing.T, h *harness) context.Context {
				if err := h.srv.Close(); err != nil {
					t.Fatal(err)
				}
				return t.Context()
			},
			code: backend.EUNAVAILABLE, want: "not reachable",
		},
		{
			name: "canceled",
			setup: func(t *testing.T, h *harness) context.Context {
				h.srv.Enqueue(modeltest.Reply{Content: jsonFiles("src/a.go", "x"), Stall: true})
				ctx, cancel := context.WithCancel(t.Context())
				h.req.OnToken = nil
				go func() {
					for len(h.srv.Requests()) == 0 {
						time.Sleep(5 * time.Millisecond)
					}
					cancel()
				}()
				return ctx
			},
			code: backend.ECANCELED, want: "canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			h := newHarness(t, s.out, Config{})
			ctx := tt.setup(t, h)
			before := snapshot(t, s.dir)
			res := h.agent.Attempt(ctx, h.req)
			if backend.ErrorCode(res.Err) != tt.code || !strings.Contains(res.Err.Error(), tt.want) {
				t.Fatalf("Err = %v (%s), want %s containing %q", res.Err, backend.ErrorCode(res.Err), tt.code, tt.want)
			}
			if len(res.Calls) != 1 || res.Calls[0].Err == nil {
				t.Errorf("Calls = %+v, want the failed call recorded with its error", res.Calls)
			}
			if in, out := changes(before, snapshot(t, s.dir)); len(in)+len(out) > 0 {
				t.Errorf("files changed: %v %v", in, out)
			}
		})
	}
}

func TestAttemptRefusesBadRequest(t *testing.T) {
	s := newSandbox(t)
	h := newHarness(t, s.out, Config{})
	tests := []struct {
		name string
		edit func(r *backend.AttemptRequest)
		want string
	}{
		{name: "no step", edit: func(r *backend.AttemptRequest) { r.Step = nil }, want: "no step"},
		{name: "no provider", edit: func(r *backend.AttemptRequest) { r.Provider = nil }, want: "no provider"},
		{name: "relative output", edit: func(r *backend.AttemptRequest) { r.OutputDir = "out" }, want: "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := h.req
			tt.edit(&req)
			res := h.agent.Attempt(t.Context(), req)
			if backend.ErrorCode(res.Err) != backend.EINVALID || !strings.Contains(res.Err.Error(), tt.want) || len(res.Calls) != 0 {
				t.Fatalf("Err = %v, Calls = %d; want EINVALID %q and no call", res.Err, len(res.Calls), tt.want)
			}
		})
	}
	if got := len(h.srv.Requests()); got != 0 {
		t.Errorf("the server saw %d requests, want none", got)
	}
}
