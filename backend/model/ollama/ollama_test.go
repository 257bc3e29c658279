package ollama_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/ollama"
)

var update = flag.Bool("update", false, "rewrite golden files")

// newProvider returns a provider for srv with a short stall timeout.
func newProvider(t *testing.T, srv *modeltest.Ollama) *ollama.Provider {
	t.Helper()
	return ollama.New(ollama.Config{Host: srv.URL(), StallTimeout: 200 * time.Millisecond, CallTimeout: time.Minute})
}

// downHost returns the address of a port nothing listens on.
func downHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func chatReq(model string) backend.ChatRequest {
	return backend.ChatRequest{Model: model, Messages: []backend.Message{
		{Role: "system", Content: "You write Go."},
		{Role: "user", Content: "Write main.go"},
	}}
}

func TestChatStreams(t *testing.T) {
	answer := modeltest.FilesAnswer(map[string]string{"main.go": "package main\n"}, "done")
	tests := []struct {
		name       string
		reply      modeltest.Reply
		wantTokens int // onToken calls
		wantIn     int
		wantOut    int
	}{
		{"five chunks", modeltest.Reply{Content: answer, Chunks: 5, PromptTokens: 31, EvalTokens: 17}, 5, 31, 17},
		{"one chunk", modeltest.Reply{Content: answer, Chunks: 1, PromptTokens: 3, EvalTokens: 1}, 1, 3, 1},
		// Without EvalTokens the server counts about a token per 4 bytes,
		// however the answer is streamed, as Ollama counts tokens, not chunks.
		{"default chunking", modeltest.Reply{Content: "0123456789abcdef", PromptTokens: 2}, 2, 2, 4},
		{"unicode pieces", modeltest.Reply{Content: "héllo wörld ✓", Chunks: 13, PromptTokens: 1}, 13, 1, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modeltest.NewOllama(t)
			srv.Enqueue(tt.reply)
			var pieces []string
			resp, err := newProvider(t, srv).Chat(t.Context(), chatReq(modeltest.DefaultModel), func(s string) {
				pieces = append(pieces, s)
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Content != tt.reply.Content || strings.Join(pieces, "") != tt.reply.Content {
				t.Errorf("content %q, pieces %q; want %q", resp.Content, pieces, tt.reply.Content)
			}
			if len(pieces) != tt.wantTokens {
				t.Errorf("onToken called %d times, want %d", len(pieces), tt.wantTokens)
			}
			if resp.InputTokens != tt.wantIn || resp.OutputTokens != tt.wantOut {
				t.Errorf("tokens in/out %d/%d, want %d/%d", resp.InputTokens, resp.OutputTokens, tt.wantIn, tt.wantOut)
			}
			if resp.Model != modeltest.DefaultModel || resp.DoneReason != "stop" {
				t.Errorf("model %q done_reason %q", resp.Model, resp.DoneReason)
			}
			if resp.Duration <= 0 || resp.FirstToken <= 0 || resp.FirstToken > resp.Duration {
				t.Errorf("duration %v first token %v", resp.Duration, resp.FirstToken)
			}
		})
	}
}

func TestChatSendsRequest(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"notes":{"type":"string"}},"required":["notes"]}`)
	tests := []struct {
		name    string
		schema  json.RawMessage
		options map[string]any
		want    map[string]any // the options Ollama gets, when not options
	}{
		{"schema and options", schema, map[string]any{"temperature": 0.2, "seed": 42.0, "num_ctx": 8192.0, "num_predict": 512.0}, nil},
		{"no schema", nil, map[string]any{"top_p": 0.5}, nil},
		{"nothing", nil, nil, nil},
		{"max_tokens is num_predict", nil, map[string]any{"max_tokens": 64, "stop": []string{"###"}},
			map[string]any{"num_predict": 64.0, "stop": []any{"###"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modeltest.NewOllama(t)
			srv.Enqueue(modeltest.Reply{Content: `{"notes":"ok"}`})
			req := chatReq(modeltest.DefaultModel)
			req.Schema, req.Options = tt.schema, tt.options
			if _, err := newProvider(t, srv).Chat(t.Context(), req, nil); err != nil {
				t.Fatal(err)
			}
			got := srv.Requests()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			r := got[0]
			if r.Model != req.Model || !reflect.DeepEqual(r.Messages, req.Messages) || !r.Stream {
				t.Errorf("request %+v", r)
			}
			if string(r.Format) != string(tt.schema) {
				t.Errorf("format %s, want %s", r.Format, tt.schema)
			}
			want := tt.want
			if want == nil {
				want = tt.options
			}
			if !reflect.DeepEqual(r.Options, want) {
				t.Errorf("options %v, want %v", r.Options, want)
			}
		})
	}
}

func TestChatErrors(t *testing.T) {
	content := "0123456789" // five pieces of two bytes
	tests := []struct {
		name     string
		model    string
		reply    modeltest.Reply
		down     bool
		wantCode string
		wantMsg  string // with %s for the server's URL
	}{
		{"server down", modeltest.DefaultModel, modeltest.Reply{}, true, backend.EUNAVAILABLE,
			`ollama at %s is not reachable (is it running? start it with "ollama serve", or set OLLAMA_HOST)`},
		{"unknown model", "nope:1b", modeltest.Reply{}, false, backend.ENOTFOUND,
			`model "nope:1b" not found; pull it with: ollama pull nope:1b`},
		{"server error", modeltest.DefaultModel, modeltest.Reply{Status: 500, Error: "llama runner process has terminated"}, false,
			backend.EUNAVAILABLE, "ollama at %s answered 500 Internal Server Error: llama runner process has terminated"},
		{"stall", modeltest.DefaultModel, modeltest.Reply{Content: content, Chunks: 5, CutAfter: 2, Stall: true}, false,
			backend.EUNAVAILABLE, "no data from the model server for 200ms"},
		{"stall before first chunk", modeltest.DefaultModel, modeltest.Reply{Content: content, Stall: true}, false,
			backend.EUNAVAILABLE, "no data from the model server for 200ms"},
		{"cut mid-stream", modeltest.DefaultModel, modeltest.Reply{Content: content, Chunks: 5, CutAfter: 2}, false,
			backend.EINTERNAL, "stream ended before the answer was complete (4 bytes received)"},
		{"cut before done", modeltest.DefaultModel, modeltest.Reply{Content: content, Chunks: 5, CutAfter: 9}, false,
			backend.EINTERNAL, "stream ended before the answer was complete (10 bytes received)"},
		{"garbage line", modeltest.DefaultModel, modeltest.Reply{Content: content, Chunks: 5, Garbage: true}, false,
			backend.EINTERNAL, "ollama at %s broke off the answer (4 bytes received): this line is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modeltest.NewOllama(t)
			srv.Enqueue(tt.reply)
			p := newProvider(t, srv)
			host := srv.URL()
			if tt.down {
				host = downHost(t)
				p = ollama.New(ollama.Config{Host: host})
			}
			_, err := p.Chat(t.Context(), chatReq(tt.model), nil)
			assertError(t, err, tt.wantCode, strings.ReplaceAll(tt.wantMsg, "%s", host))
		})
	}
}

// assertError checks err's code and that its message starts with want.
func assertError(t *testing.T, err error, code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s: %s", code, want)
	}
	var be *backend.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %T %v is not a *backend.Error", err, err)
	}
	if got := backend.ErrorCode(err); got != code {
		t.Errorf("code %q, want %q (%v)", got, code, err)
	}
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error\n %s\nwant it to start with\n %s", err, want)
	}
}

func TestChatCancel(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Enqueue(modeltest.Reply{Content: strings.Repeat("x", 100), Chunks: 100, Delay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	resp, err := newProvider(t, srv).Chat(ctx, chatReq(modeltest.DefaultModel), func(string) {
		if n++; n == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || backend.ErrorCode(err) != backend.ECANCELED {
		t.Fatalf("error %v (code %s), want canceled", err, backend.ErrorCode(err))
	}
	if len(resp.Content) >= 100 {
		t.Errorf("got the whole answer after cancel")
	}
}

func TestList(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.SetModels("llama3.2", "qwen2.5-coder:7b")
	models, err := newProvider(t, srv).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range models {
		names = append(names, m.Name)
		if m.Provider != backend.ProviderOllama || m.Size <= 0 || m.Modified.IsZero() || m.Family == "" || m.Params == "" {
			t.Errorf("model %+v lacks details", m)
		}
	}
	if want := []string{"llama3.2:latest", "qwen2.5-coder:7b"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}

	host := downHost(t)
	_, err = ollama.New(ollama.Config{Host: host}).List(t.Context())
	assertError(t, err, backend.EUNAVAILABLE, "ollama at "+host+" is not reachable")
}

func TestPull(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.AllowPull("llama3.2:1b")
	p := newProvider(t, srv)
	var log strings.Builder
	err := p.Pull(t.Context(), "llama3.2:1b", func(pp backend.PullProgress) {
		fmt.Fprintf(&log, "%s %d/%d\n", pp.Status, pp.Completed, pp.Total)
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "pull.golden", log.String())
	if got := srv.Models(); !reflect.DeepEqual(got, []string{"llama3.2:1b", modeltest.DefaultModel}) {
		t.Errorf("models after pull %v", got)
	}

	t.Run("unknown", func(t *testing.T) {
		err := p.Pull(t.Context(), "no-such-model", nil)
		assertError(t, err, backend.ENOTFOUND, `model "no-such-model" not found in the registry`)
		if !strings.Contains(err.Error(), "pull model manifest: file does not exist") {
			t.Errorf("error %v lacks the server's reason", err)
		}
	})
	t.Run("registry unreachable", func(t *testing.T) {
		offline := modeltest.NewOllama(t)
		offline.SetOffline(true)
		offline.AllowPull("llama3.2:1b")
		var statuses []string
		err := newProvider(t, offline).Pull(t.Context(), "llama3.2:1b", func(pp backend.PullProgress) {
			statuses = append(statuses, pp.Status)
		})
		assertError(t, err, backend.EUNAVAILABLE,
			"ollama at "+offline.URL()+` cannot reach its model registry to pull "llama3.2:1b" (offline?`)
		if !strings.Contains(err.Error(), "lookup registry.ollama.ai") || !reflect.DeepEqual(statuses, []string{"pulling manifest"}) {
			t.Errorf("error %v after %q: want the server's reason after its first status", err, statuses)
		}
		if got := offline.Models(); !reflect.DeepEqual(got, []string{modeltest.DefaultModel}) {
			t.Errorf("models after a failed pull %v", got)
		}
	})
	t.Run("server down", func(t *testing.T) {
		host := downHost(t)
		err := ollama.New(ollama.Config{Host: host}).Pull(t.Context(), "llama3.2:1b", nil)
		assertError(t, err, backend.EUNAVAILABLE, "ollama at "+host+" is not reachable")
	})
}

func TestDelete(t *testing.T) {
	srv := modeltest.NewOllama(t)
	p := newProvider(t, srv)
	if err := p.Delete(t.Context(), modeltest.DefaultModel); err != nil {
		t.Fatal(err)
	}
	if got := srv.Models(); len(got) != 0 {
		t.Errorf("models after delete %v", got)
	}
	err := p.Delete(t.Context(), modeltest.DefaultModel)
	assertError(t, err, backend.ENOTFOUND, `model "qwen2.5-coder:7b" not found at ollama at `)
}

func TestParseHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "http://127.0.0.1:11434"},
		{"0.0.0.0", "http://0.0.0.0:11434"},
		{"gpu-box", "http://gpu-box:11434"},
		{"gpu-box:9000", "http://gpu-box:9000"},
		{":9000", "http://127.0.0.1:9000"},
		{"http://gpu-box", "http://gpu-box:80"},
		{"https://gpu-box", "https://gpu-box:443"},
		{"http://gpu-box:11434/", "http://gpu-box:11434"},
		{"http://proxy:8080/ollama", "http://proxy:8080/ollama"},
		{"[::1]:11434", "http://[::1]:11434"},
		{`"127.0.0.1:5000"`, "http://127.0.0.1:5000"},
		{"ollama.com", "https://ollama.com:443"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ollama.ParseHost(tt.in).String(); got != tt.want {
				t.Errorf("ParseHost(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
