package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/openai"
)

func newProvider(t testing.TB, srv *modeltest.OpenAI, key string) *openai.Provider {
	t.Helper()
	return openai.New(openai.Config{BaseURL: srv.BaseURL(), APIKey: key,
		StallTimeout: 200 * time.Millisecond, CallTimeout: time.Minute})
}

func downURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr + "/v1"
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
		wantTokens int
		wantIn     int
		wantOut    int
		wantReason string
	}{
		{"five chunks", modeltest.Reply{Content: answer, Chunks: 5, PromptTokens: 31, EvalTokens: 17}, 5, 31, 17, "stop"},
		{"one chunk", modeltest.Reply{Content: answer, Chunks: 1, PromptTokens: 3, EvalTokens: 1}, 1, 3, 1, "stop"},
		{"length limit", modeltest.Reply{Content: "partial", Chunks: 7, PromptTokens: 2, DoneReason: "length"}, 7, 2, 2, "length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modeltest.NewOpenAI(t)
			srv.Enqueue(tt.reply)
			var pieces []string
			resp, err := newProvider(t, srv, "").Chat(t.Context(), chatReq(modeltest.DefaultOpenAIModel), func(s string) {
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
			if resp.Model != modeltest.DefaultOpenAIModel || resp.DoneReason != tt.wantReason {
				t.Errorf("model %q finish_reason %q", resp.Model, resp.DoneReason)
			}
		})
	}
}

func TestChatSendsRequest(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"notes":{"type":"string"}},"required":["notes"]}`)
	tests := []struct {
		name        string
		schema      json.RawMessage
		options     map[string]any
		wantOptions map[string]any
	}{
		{"schema and options", schema,
			map[string]any{"temperature": 0.2, "seed": 42, "top_p": 0.9, "num_predict": 512, "num_ctx": 8192},
			map[string]any{"temperature": 0.2, "seed": 42.0, "top_p": 0.9, "max_tokens": 512.0}},
		{"no schema", nil, map[string]any{"stop": []string{"END"}}, map[string]any{"stop": []any{"END"}}},
		{"nothing", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modeltest.NewOpenAI(t)
			srv.RequireKey("sk-test-key-123456")
			srv.Enqueue(modeltest.Reply{Content: `{"notes":"ok"}`})
			req := chatReq(modeltest.DefaultOpenAIModel)
			req.Schema, req.Options = tt.schema, tt.options
			if _, err := newProvider(t, srv, "sk-test-key-123456").Chat(t.Context(), req, nil); err != nil {
				t.Fatal(err)
			}
			r := srv.Requests()[0]
			if r.Model != req.Model || !reflect.DeepEqual(r.Messages, req.Messages) || !r.Stream {
				t.Errorf("request %+v", r)
			}
			if !reflect.DeepEqual(r.Options, tt.wantOptions) {
				t.Errorf("options %v, want %v", r.Options, tt.wantOptions)
			}
			var body struct {
				StreamOptions  map[string]any `json:"stream_options"`
				ResponseFormat *struct {
					Type       string `json:"type"`
					JSONSchema struct {
						Name   string          `json:"name"`
						Schema json.RawMessage `json:"schema"`
						Strict bool            `json:"strict"`
					} `json:"json_schema"`
				} `json:"response_format"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.StreamOptions["include_usage"] != true {
				t.Errorf("stream_options %v", body.StreamOptions)
			}
			rf := body.ResponseFormat
			switch {
			case tt.schema == nil && rf != nil:
				t.Errorf("response_format sent without a schema")
			case tt.schema != nil && (rf == nil || rf.Type != "json_schema" || rf.JSONSchema.Name != "answer" ||
				!rf.JSONSchema.Strict || string(rf.JSONSchema.Schema) != string(tt.schema)):
				t.Errorf("response_format %+v", rf)
			}
		})
	}
}

func TestChatErrors(t *testing.T) {
	content := "0123456789"
	tests := []struct {
		name     string
		model    string
		key      string
		reply    modeltest.Reply
		down     bool
		wantCode string
		wantMsg  string // %s is the base URL
	}{
		{"server down", modeltest.DefaultOpenAIModel, "", modeltest.Reply{}, true, backend.EUNAVAILABLE,
			"the OpenAI-compatible server at %s is not reachable"},
		{"bad key", modeltest.DefaultOpenAIModel, "sk-wrong-key-0000", modeltest.Reply{}, false, backend.EUNAVAILABLE,
			"the OpenAI-compatible server at %s refused the API key (401 Unauthorized: Incorrect API key provided: sk-*****0000.); set OPENAI_API_KEY to a valid key"},
		{"no key", modeltest.DefaultOpenAIModel, "", modeltest.Reply{}, false, backend.EUNAVAILABLE,
			"the OpenAI-compatible server at %s refused the API key (401 Unauthorized: You didn't provide an API key."},
		{"unknown model", "gpt-nope", "sk-good-key-1234", modeltest.Reply{}, false, backend.ENOTFOUND,
			"model \"gpt-nope\" not found at %s: The model `gpt-nope` does not exist"},
		{"server error", modeltest.DefaultOpenAIModel, "sk-good-key-1234", modeltest.Reply{Status: 500, Error: "upstream overloaded"}, false,
			backend.EUNAVAILABLE, "the OpenAI-compatible server at %s answered 500 Internal Server Error: upstream overloaded"},
		{"stall", modeltest.DefaultOpenAIModel, "sk-good-key-1234", modeltest.Reply{Content: content, Chunks: 5, CutAfter: 2, Stall: true}, false,
			backend.EUNAVAILABLE, "no data from the model server for 200ms"},
		{"cut mid-stream", modeltest.DefaultOpenAIModel, "sk-good-key-1234", modeltest.Reply{Content: content, Chunks: 5, CutAfter: 2}, false,
			backend.EINTERNAL, "stream ended before the answer was complete (4 bytes received)"},
		{"garbage line", modeltest.DefaultOpenAIModel, "sk-good-key-1234", modeltest.Reply{Content: content, Chunks: 5, Garbage: true}, false,
			backend.EINTERNAL, "the OpenAI-compatible server at %s sent a stream event that is not JSON (4 bytes received)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modeltest.NewOpenAI(t)
			srv.RequireKey("sk-good-key-1234")
			srv.Enqueue(tt.reply)
			p, base := newProvider(t, srv, tt.key), srv.BaseURL()
			if tt.down {
				base = downURL(t)
				p = openai.New(openai.Config{BaseURL: base})
			}
			_, err := p.Chat(t.Context(), chatReq(tt.model), nil)
			assertError(t, err, tt.wantCode, strings.ReplaceAll(tt.wantMsg, "%s", base))
		})
	}
}

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
	srv := modeltest.NewOpenAI(t)
	srv.Enqueue(modeltest.Reply{Content: strings.Repeat("x", 100), Chunks: 100, Delay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	resp, err := newProvider(t, srv, "").Chat(ctx, chatReq(modeltest.DefaultOpenAIModel), func(string) {
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

// TestChatWholeAnswer covers servers that ignore "stream": true.
func TestChatWholeAnswer(t *testing.T) {
	srv := modeltest.NewOpenAI(t)
	srv.Enqueue(modeltest.Reply{Content: "all at once", PromptTokens: 4, EvalTokens: 3})
	base := srv.BaseURL()
	// A proxy in front that turns the request into a non-streamed one.
	proxy := &http.Client{Transport: rewrite{func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		b = []byte(strings.Replace(string(b), `"stream":true`, `"stream":false`, 1))
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(string(b))), int64(len(b))
	}}}
	p := openai.New(openai.Config{BaseURL: base, HTTPClient: proxy})
	var pieces []string
	resp, err := p.Chat(t.Context(), chatReq(modeltest.DefaultOpenAIModel), func(s string) { pieces = append(pieces, s) })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "all at once" || len(pieces) != 1 || resp.InputTokens != 4 || resp.OutputTokens != 3 {
		t.Errorf("response %+v, pieces %q", resp, pieces)
	}
}

type rewrite struct{ fn func(*http.Request) }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	rw.fn(r)
	return http.DefaultTransport.RoundTrip(r)
}

func TestList(t *testing.T) {
	srv := modeltest.NewOpenAI(t)
	srv.SetModels("gpt-4o", "gpt-4o-mini")
	models, err := newProvider(t, srv, "").List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range models {
		names = append(names, m.Name)
		if m.Provider != backend.ProviderOpenAI || m.Modified.IsZero() {
			t.Errorf("model %+v", m)
		}
	}
	if want := []string{"gpt-4o", "gpt-4o-mini"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}

	t.Run("wrong base URL", func(t *testing.T) {
		p := openai.New(openai.Config{BaseURL: srv.URL()}) // without /v1
		_, err := p.List(t.Context())
		assertError(t, err, backend.ENOTFOUND, "the OpenAI-compatible server at "+srv.URL()+" has no /models (404")
	})
	t.Run("server down", func(t *testing.T) {
		base := downURL(t)
		_, err := openai.New(openai.Config{BaseURL: base}).List(t.Context())
		assertError(t, err, backend.EUNAVAILABLE, "the OpenAI-compatible server at "+base+" is not reachable")
	})
}
