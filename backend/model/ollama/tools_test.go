package ollama_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// readFileTool is a tool as the agent offers it.
var readFileTool = backend.Tool{Name: "read_file", Description: "Read a file.",
	Parameters: json.RawMessage(`{"type":"object","required":["path"],"properties":{"path":{"type":"string"}}}`)}

func TestChatToolCalls(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Enqueue(modeltest.Reply{Content: "Let me look.", ToolCalls: []backend.ToolCall{
		modeltest.ToolCall("read_file", `{"path":"main.go"}`),
		{ID: "call_fixed01", Name: "read_file", Arguments: json.RawMessage(`{"path":"go.mod"}`)},
	}}, modeltest.Reply{Content: "done"})
	p := newProvider(t, srv)
	req := chatReq(modeltest.DefaultModel)
	req.Tools = []backend.Tool{readFileTool}
	var streamed strings.Builder
	resp, err := p.Chat(t.Context(), req, func(s string) { streamed.WriteString(s) })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "Let me look." || streamed.String() != resp.Content {
		t.Errorf("content %q, streamed %q", resp.Content, streamed.String())
	}
	if len(resp.ToolCalls) != 2 || !strings.HasPrefix(resp.ToolCalls[0].ID, "call_") ||
		resp.ToolCalls[0].Name != "read_file" || string(resp.ToolCalls[0].Arguments) != `{"path":"main.go"}` ||
		resp.ToolCalls[1].ID != "call_fixed01" || string(resp.ToolCalls[1].Arguments) != `{"path":"go.mod"}` {
		t.Fatalf("tool calls %+v", resp.ToolCalls)
	}
	if got := srv.Requests()[0].Tools; !reflect.DeepEqual(got, req.Tools) {
		t.Errorf("tools sent %+v, want %+v", got, req.Tools)
	}

	// The next turn carries the calls and their results back.
	req.Messages = append(req.Messages,
		backend.Message{Role: "assistant", Content: resp.Content, ToolCalls: resp.ToolCalls},
		backend.Message{Role: "tool", Content: "1\tpackage main", ToolCallID: resp.ToolCalls[0].ID, ToolName: "read_file"},
		backend.Message{Role: "tool", Content: "1\tmodule x", ToolCallID: "call_fixed01", ToolName: "read_file"})
	if _, err := p.Chat(t.Context(), req, nil); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[1].Messages; !reflect.DeepEqual(got, req.Messages) {
		t.Errorf("messages sent\n%+v\nwant\n%+v", got, req.Messages)
	}
}

func TestChatToolsUnsupported(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.AddModel("tiny")
	srv.WithoutTools("tiny")
	req := chatReq("tiny")
	req.Tools = []backend.Tool{readFileTool}
	_, err := newProvider(t, srv).Chat(t.Context(), req, nil)
	if !errors.Is(err, backend.ErrToolsUnsupported) || backend.ErrorCode(err) != backend.EINVALID ||
		!strings.Contains(err.Error(), "does not support tools") {
		t.Fatalf("err = %v", err)
	}
}
