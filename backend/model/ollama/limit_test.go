package ollama_test

import (
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// TestChatStopsAtTheAnswerLimit: an answer (text or tool calls) longer than
// the request's limit fails the call with EINVALID, keeping no more than
// the limit of it.
func TestChatStopsAtTheAnswerLimit(t *testing.T) {
	tests := []struct {
		name  string
		reply modeltest.Reply
	}{
		{"text", modeltest.Reply{Content: strings.Repeat("x", 256<<10), Chunks: 256}},
		{"tool calls", modeltest.Reply{ToolCalls: []backend.ToolCall{
			{Name: "read_file", Arguments: []byte(`{"path":"` + strings.Repeat("a", 64<<10) + `"}`)},
			{Name: "read_file", Arguments: []byte(`{"path":"` + strings.Repeat("b", 64<<10) + `"}`)},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modeltest.NewOllama(t)
			srv.Enqueue(tt.reply)
			req := chatReq(modeltest.DefaultModel)
			req.MaxAnswerBytes = 16 << 10
			streamed := 0
			resp, err := newProvider(t, srv).Chat(t.Context(), req, func(s string) { streamed += len(s) })
			if backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(err.Error(), "passed its limit of 16384 bytes") {
				t.Fatalf("err = %v, want EINVALID naming the limit", err)
			}
			kept := len(resp.Content)
			for _, c := range resp.ToolCalls {
				kept += len(c.Arguments)
			}
			if kept > 16<<10 || streamed > 16<<10 {
				t.Errorf("kept %d bytes and streamed %d, over the limit", kept, streamed)
			}
		})
	}
}
