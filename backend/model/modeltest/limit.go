package modeltest

import (
	"strings"
	"testing"

	"factorydesk/backend"
)

// AnswerLimitCases are replies past an answer limit of 16 KiB: a long text
// and long tool calls.
func AnswerLimitCases() map[string]Reply {
	return map[string]Reply{
		"text": {Content: strings.Repeat("x", 256<<10), Chunks: 256},
		"tool calls": {ToolCalls: []backend.ToolCall{
			{Name: "read_file", Arguments: []byte(`{"path":"` + strings.Repeat("a", 64<<10) + `"}`)},
			{Name: "read_file", Arguments: []byte(`{"path":"` + strings.Repeat("b", 64<<10) + `"}`)},
		}},
	}
}

// CheckAnswerLimit makes a call with a 16 KiB answer limit through chat
// and fails t unless it fails with EINVALID naming the limit, having kept
// and streamed no more than the limit.
func CheckAnswerLimit(t *testing.T, req backend.ChatRequest, chat func(backend.ChatRequest, func(string)) (backend.ChatResponse, error)) {
	t.Helper()
	req.MaxAnswerBytes = 16 << 10
	streamed := 0
	resp, err := chat(req, func(s string) { streamed += len(s) })
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
}
