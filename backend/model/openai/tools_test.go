package openai_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/openai"
)

var readFileTool = backend.Tool{Name: "read_file", Description: "Read a file.",
	Parameters: json.RawMessage(`{"type":"object","required":["path"],"properties":{"path":{"type":"string"}}}`)}

// toolServer is an OpenAI-compatible server scripted with replies: OpenAI's
// own (arguments streamed in pieces) or Ollama's /v1 (each call whole).
type toolServer struct {
	name     string
	model    string
	base     string
	enqueue  func(...modeltest.Reply)
	requests func() []modeltest.ChatRequestRecord
}

func toolServers(t *testing.T) []toolServer {
	o := modeltest.NewOpenAI(t)
	ol := modeltest.NewOllama(t)
	return []toolServer{
		{"openai", modeltest.DefaultOpenAIModel, o.BaseURL(), o.Enqueue, o.Requests},
		{"ollama v1", modeltest.DefaultModel, ol.URL() + "/v1", ol.Enqueue, ol.Requests},
	}
}

func TestChatToolCalls(t *testing.T) {
	for _, s := range toolServers(t) {
		t.Run(s.name, func(t *testing.T) {
			s.enqueue(modeltest.Reply{Content: "Looking.", ToolCalls: []backend.ToolCall{
				modeltest.ToolCall("read_file", `{"path": "main.go"}`),
				modeltest.ToolCall("list_files", `{}`),
				modeltest.ToolCall("read_file", `"{\"path\": \"main.go\""`), // a string of broken JSON
			}}, modeltest.Reply{Content: "done"})
			p := openai.New(openai.Config{BaseURL: s.base, StallTimeout: time.Second, CallTimeout: time.Minute})
			req := chatReq(s.model)
			req.Tools = []backend.Tool{readFileTool}
			var streamed strings.Builder
			resp, err := p.Chat(t.Context(), req, func(piece string) { streamed.WriteString(piece) })
			if err != nil {
				t.Fatal(err)
			}
			if resp.Content != "Looking." || streamed.String() != "Looking." || resp.DoneReason != "tool_calls" {
				t.Errorf("content %q, streamed %q, done %q", resp.Content, streamed.String(), resp.DoneReason)
			}
			want := []string{`{"path":"main.go"}`, `{}`, `"{\"path\": \"main.go\""`}
			if len(resp.ToolCalls) != len(want) {
				t.Fatalf("tool calls %+v", resp.ToolCalls)
			}
			for i, tc := range resp.ToolCalls {
				if string(tc.Arguments) != want[i] || !strings.HasPrefix(tc.ID, "call_") {
					t.Errorf("call %d: %s %s %s, want arguments %s", i, tc.ID, tc.Name, tc.Arguments, want[i])
				}
			}
			if got := s.requests()[len(s.requests())-1].Tools; !reflect.DeepEqual(got, req.Tools) {
				t.Errorf("tools sent %+v", got)
			}
			req.Messages = append(req.Messages,
				backend.Message{Role: "assistant", Content: resp.Content, ToolCalls: resp.ToolCalls[:2]},
				backend.Message{Role: "tool", Content: "1\tpackage main", ToolCallID: resp.ToolCalls[0].ID},
				backend.Message{Role: "tool", Content: "main.go\t13", ToolCallID: resp.ToolCalls[1].ID})
			if _, err := p.Chat(t.Context(), req, nil); err != nil {
				t.Fatal(err)
			}
			if got := s.requests()[len(s.requests())-1].Messages; !reflect.DeepEqual(got, req.Messages) {
				t.Errorf("messages sent\n%+v\nwant\n%+v", got, req.Messages)
			}
		})
	}
}

func TestChatToolCallsWhole(t *testing.T) {
	srv := modeltest.NewOpenAI(t)
	srv.Enqueue(modeltest.Reply{ToolCalls: []backend.ToolCall{modeltest.ToolCall("read_file", `{"path":"a.go"}`)}})
	// A proxy in front that turns the request into a non-streamed one.
	proxy := &http.Client{Transport: rewrite{func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		b = []byte(strings.Replace(string(b), `"stream":true`, `"stream":false`, 1))
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(string(b))), int64(len(b))
	}}}
	p := openai.New(openai.Config{BaseURL: srv.BaseURL(), HTTPClient: proxy})
	resp, err := p.Chat(t.Context(), chatReq(modeltest.DefaultOpenAIModel), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Name != "read_file" || string(resp.ToolCalls[0].Arguments) != `{"path":"a.go"}` {
		t.Errorf("%+v", resp.ToolCalls)
	}
}

func TestChatToolsUnsupported(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.AddModel("tiny")
	srv.WithoutTools("tiny")
	p := openai.New(openai.Config{BaseURL: srv.URL() + "/v1", StallTimeout: time.Second})
	req := chatReq("tiny")
	req.Tools = []backend.Tool{readFileTool}
	_, err := p.Chat(t.Context(), req, nil)
	if !errors.Is(err, backend.ErrToolsUnsupported) || !strings.Contains(err.Error(), "does not support tools") {
		t.Fatalf("err = %v", err)
	}
}
