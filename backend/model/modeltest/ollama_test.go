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

// hi is a conversation to answer: a chat with no messages only loads the
// model, as in Ollama.
var hi = []api.Message{{Role: "user", Content: "hi"}}

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
		{"chat unscripted", "POST", "/api/chat", `{"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}]}`,
			500, `{"error":"no reply scripted"}`},
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

// TestOllamaAsReal checks answers the real Ollama 0.17.4 gives, taken
// from one serving a tiny model (.ci/ollama.sh): status, content type and
// the whole body. None of these calls generates, so no reply is scripted.
func TestOllamaAsReal(t *testing.T) {
	srv := modeltest.NewOllama(t)
	const (
		apiJSON = "application/json; charset=utf-8" // Ollama's own endpoints
		v1JSON  = "application/json"                // its OpenAI-compatible ones
		plain   = "text/plain"
	)
	tests := []struct {
		name, method, path, body string
		status                   int
		ctype, want              string // want: the body; with "~" first, a prefix of it
	}{
		{"chat no body", "POST", "/api/chat", "", 400, apiJSON, `{"error":"missing request body"}`},
		{"show no body", "POST", "/api/show", "", 400, apiJSON, `{"error":"missing request body"}`},
		{"pull no body", "POST", "/api/pull", "", 400, apiJSON, `{"error":"missing request body"}`},
		{"delete no body", "DELETE", "/api/delete", "", 400, apiJSON, `{"error":"missing request body"}`},
		{"chat field of the wrong type", "POST", "/api/chat", `{"model":"m","stream":"yes"}`, 400, apiJSON,
			`{"error":"json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool"}`},
		{"pull field of the wrong type", "POST", "/api/pull", `{"model":"m","stream":"yes"}`, 400, apiJSON,
			`{"error":"json: cannot unmarshal string into Go struct field PullRequest.stream of type bool"}`},
		{"chat bad name", "POST", "/api/chat", `{"model":"Bad Name!!"}`, 400, apiJSON, `{"error":"model is required"}`},
		{"show bad name", "POST", "/api/show", `{"model":"Bad Name!!"}`, 500, apiJSON,
			`{"error":"unqualified name: registry.ollama.ai/library/Bad Name!!:latest"}`},
		{"pull no model", "POST", "/api/pull", `{}`, 400, apiJSON, `{"error":"invalid model name"}`},
		{"delete no model", "DELETE", "/api/delete", `{}`, 400, apiJSON, `{"error":"name \"\" is invalid"}`},
		{"chat top_logprobs", "POST", "/api/chat", `{"model":"qwen2.5-coder:7b","top_logprobs":30}`, 400, apiJSON,
			`{"error":"top_logprobs must be between 0 and 20"}`},
		{"chat load", "POST", "/api/chat", `{"model":"qwen2.5-coder:7b"}`, 200, apiJSON,
			`~{"model":"qwen2.5-coder:7b","created_at":"`},
		{"chat load says so", "POST", "/api/chat", `{"model":"qwen2.5-coder:7b","messages":[]}`, 200, apiJSON,
			`~{"model":"qwen2.5-coder:7b","created_at":"`},
		{"chat think", "POST", "/api/chat", `{"model":"qwen2.5-coder:7b","think":true,"messages":[{"role":"user","content":"hi"}]}`,
			400, apiJSON, `{"error":"\"qwen2.5-coder:7b\" does not support thinking"}`},
		{"unknown path", "GET", "/api/nothing", "", 404, plain, "404 page not found"},
		{"wrong method", "GET", "/api/chat", "", 405, plain, "405 method not allowed"},
		{"v1 model", "GET", "/v1/models/qwen2.5-coder:7b", "", 200, v1JSON,
			`~{"id":"qwen2.5-coder:7b","object":"model","created":`},
		{"v1 unknown model", "GET", "/v1/models/nosuch", "", 404, v1JSON,
			`{"error":{"message":"model 'nosuch' not found","type":"api_error","param":null,"code":null}}` + "\n"},
		{"v1 no messages", "POST", "/v1/chat/completions", `{"model":"qwen2.5-coder:7b"}`, 400, apiJSON,
			`{"error":{"message":"[] is too short - 'messages'","type":"invalid_request_error","param":null,"code":null}}`},
		{"v1 field of the wrong type", "POST", "/v1/chat/completions",
			`{"model":"qwen2.5-coder:7b","temperature":"hot","messages":[{"role":"user","content":"hi"}]}`, 400, apiJSON,
			`{"error":{"message":"json: cannot unmarshal string into Go struct field ChatCompletionRequest.temperature of type float64",` +
				`"type":"invalid_request_error","param":null,"code":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := call(t, tt.method, srv.URL()+tt.path, tt.body)
			want, prefix := strings.CutPrefix(tt.want, "~")
			ok := body == want || (prefix && strings.HasPrefix(body, want))
			if status != tt.status || ctype != tt.ctype || !ok {
				t.Errorf("%s %s: %d %q %s\nwant %d %q %s", tt.method, tt.path, status, ctype, body, tt.status, tt.ctype, tt.want)
			}
		})
	}
	for _, tt := range []struct{ body, reason string }{
		{`{"model":"qwen2.5-coder:7b"}`, "load"},
		{`{"model":"qwen2.5-coder:7b","keep_alive":0}`, "unload"},
	} {
		_, _, body := call(t, "POST", srv.URL()+"/api/chat", tt.body)
		if !strings.HasSuffix(body, `"message":{"role":"assistant","content":""},"done":true,"done_reason":"`+tt.reason+`"}`) {
			t.Errorf("chat %s = %s, want done_reason %s and nothing else", tt.body, body, tt.reason)
		}
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
		err := c.Chat(t.Context(), &api.ChatRequest{Model: modeltest.DefaultModel, Messages: hi},
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
		done <- client(t, srv).Chat(context.Background(), &api.ChatRequest{Model: modeltest.DefaultModel, Messages: hi},
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
