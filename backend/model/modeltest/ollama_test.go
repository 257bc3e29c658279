package modeltest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"factorydesk/backend/model/modeltest"
)

// call makes a raw request and returns the status, content type and body.
func call(t *testing.T, method, u, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func client(t *testing.T, srv *modeltest.Ollama) *api.Client {
	t.Helper()
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(u, http.DefaultClient)
}

func TestOllamaEndpoints(t *testing.T) {
	srv := modeltest.NewOllama(t)
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantBody                 string // a substring
	}{
		{"root", "GET", "/", "", 200, "Ollama is running"},
		{"version", "GET", "/api/version", "", 200, `{"version":"0.17.4"}`},
		{"tags", "GET", "/api/tags", "", 200, `"name":"qwen2.5-coder:7b","model":"qwen2.5-coder:7b"`},
		{"show", "POST", "/api/show", `{"model":"qwen2.5-coder:7b"}`, 200, `"parameter_size":"7B"`},
		{"show unknown", "POST", "/api/show", `{"model":"nope"}`, 404, `{"error":"model 'nope' not found"}`},
		{"chat unknown model", "POST", "/api/chat", `{"model":"x"}`, 404, `{"error":"model 'x' not found"}`},
		{"chat no model", "POST", "/api/chat", `{}`, 400, `{"error":"model is required"}`},
		{"chat bad json", "POST", "/api/chat", `{`, 400, `"error"`},
		{"chat unscripted", "POST", "/api/chat", `{"model":"qwen2.5-coder:7b"}`, 500, `{"error":"no reply scripted"}`},
		{"delete unknown", "DELETE", "/api/delete", `{"model":"nope"}`, 404, `{"error":"model 'nope' not found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := call(t, tt.method, srv.URL()+tt.path, tt.body)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%s %s: %d %s; want %d with %s", tt.method, tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestOllamaChatStreamLines(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Enqueue(modeltest.Reply{Content: "Hello there", Chunks: 2, PromptTokens: 9, EvalTokens: 2})
	status, ctype, body := call(t, "POST", srv.URL()+"/api/chat",
		`{"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}]}`)
	if status != 200 || ctype != "application/x-ndjson" {
		t.Fatalf("status %d, content type %q", status, ctype)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 2 pieces and the final line:\n%s", len(lines), body)
	}
	for i, want := range []string{"Hello", " there", ""} {
		msg := lines[i]["message"].(map[string]any)
		if msg["content"] != want || msg["role"] != "assistant" || lines[i]["done"] != (i == 2) {
			t.Errorf("line %d: %v", i, lines[i])
		}
	}
	last := lines[2]
	for _, k := range []string{"created_at", "total_duration", "load_duration", "prompt_eval_duration", "eval_duration"} {
		if _, ok := last[k]; !ok {
			t.Errorf("final line lacks %s: %v", k, last)
		}
	}
	if last["done_reason"] != "stop" || last["prompt_eval_count"] != 9.0 || last["eval_count"] != 2.0 {
		t.Errorf("final line %v", last)
	}
}

func TestOllamaChatWhole(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Respond(func(req modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: "echo: " + req.Messages[len(req.Messages)-1].Content}
	})
	stream := false
	var got []api.ChatResponse
	err := client(t, srv).Chat(t.Context(), &api.ChatRequest{
		Model: modeltest.DefaultModel, Stream: &stream,
		Messages: []api.Message{{Role: "user", Content: "ping"}},
		Format:   json.RawMessage(`"json"`),
		Options:  map[string]any{"temperature": 0},
	}, func(r api.ChatResponse) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Message.Content != "echo: ping" || !got[0].Done || got[0].EvalCount == 0 {
		t.Fatalf("answer %+v", got)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Stream || string(reqs[0].Format) != `"json"` ||
		!reflect.DeepEqual(reqs[0].Options, map[string]any{"temperature": 0.0}) {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestScriptOrder(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply { return modeltest.Reply{Content: "from responder"} })
	srv.Enqueue(modeltest.Reply{Content: "first"}, modeltest.Reply{Content: "second"})
	c := client(t, srv)
	for _, want := range []string{"first", "second", "from responder", "from responder"} {
		var sb strings.Builder
		err := c.Chat(t.Context(), &api.ChatRequest{Model: modeltest.DefaultModel},
			func(r api.ChatResponse) error { sb.WriteString(r.Message.Content); return nil })
		if err != nil || sb.String() != want {
			t.Errorf("got %q, %v; want %q", sb.String(), err, want)
		}
	}
}

func TestOllamaPullStream(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.AllowPull("tinyllama")
	var statuses []string
	err := client(t, srv).Pull(t.Context(), &api.PullRequest{Model: "tinyllama"}, func(p api.ProgressResponse) error {
		statuses = append(statuses, p.Status)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if statuses[0] != "pulling manifest" || statuses[len(statuses)-1] != "success" {
		t.Errorf("statuses %v", statuses)
	}
	if !reflect.DeepEqual(srv.Models(), []string{modeltest.DefaultModel, "tinyllama:latest"}) {
		t.Errorf("models %v", srv.Models())
	}
	err = client(t, srv).Pull(t.Context(), &api.PullRequest{Model: "nope"}, func(api.ProgressResponse) error { return nil })
	if err == nil || err.Error() != "pull model manifest: file does not exist" {
		t.Errorf("pull of an unknown model: %v", err)
	}
}

func TestOllamaServerStandalone(t *testing.T) {
	srv, err := modeltest.NewOllamaServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Enqueue(modeltest.Reply{Stall: true}) // held open until Close
	done := make(chan error, 1)
	go func() {
		done <- client(t, srv).Chat(context.Background(), &api.ChatRequest{Model: modeltest.DefaultModel},
			func(api.ChatResponse) error { return nil })
	}()
	if status, _, _ := call(t, "GET", srv.URL()+"/", ""); status != 200 {
		t.Fatalf("status %d", status)
	}
	for i := 0; len(srv.Requests()) == 0; i++ {
		if i == 10000 {
			t.Fatal("the chat never arrived")
		}
		call(t, "GET", srv.URL()+"/api/version", "")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Logf("held chat ended with %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFilesAnswer(t *testing.T) {
	got := modeltest.FilesAnswer(map[string]string{"b.go": "package b\n", "a/a.go": "package a\n"}, "two files")
	want := `{"files":[{"path":"a/a.go","content":"package a\n"},{"path":"b.go","content":"package b\n"}],"notes":"two files"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := modeltest.FilesAnswer(nil, ""); got != `{"files":[],"notes":""}` {
		t.Errorf("empty: %s", got)
	}
}
