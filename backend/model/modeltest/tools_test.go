package modeltest_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// toolReply calls read_file after a little text.
func toolReply() modeltest.Reply {
	return modeltest.Reply{Content: "Looking.", Chunks: 1, PromptTokens: 9, EvalTokens: 7, ToolCalls: []backend.ToolCall{
		modeltest.ToolCall("read_file", `{"path":"main.go","from_line":1}`),
		modeltest.ToolCall("list_files", `{}`),
	}}
}

// toolBody is a chat body offering read_file, with a finished round of
// tool calling in its messages, in Ollama's /api/chat shape.
const toolBody = `{"model":"qwen2.5-coder:7b","messages":[` +
	`{"role":"user","content":"hi"},` +
	`{"role":"assistant","content":"","tool_calls":[{"id":"call_a1","function":{"index":0,"name":"read_file","arguments":{"path":"go.mod"}}}]},` +
	`{"role":"tool","content":"1\tmodule x","tool_name":"read_file","tool_call_id":"call_a1"}],` +
	`"tools":[{"type":"function","function":{"name":"read_file","description":"Read a file.","parameters":{"type":"object","required":["path"],"properties":{"path":{"type":"string"}}}}}]`

// toolV1Body is the same in the chat completions shape.
const toolV1Body = `{"model":"%s","messages":[` +
	`{"role":"user","content":"hi"},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"call_a1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"go.mod\"}"}}]},` +
	`{"role":"tool","content":"1\tmodule x","tool_call_id":"call_a1"}],` +
	`"tools":[{"type":"function","function":{"name":"read_file","description":"Read a file.","parameters":{"type":"object","required":["path"],"properties":{"path":{"type":"string"}}}}}]`

// wantToolRequest is what each server records of those bodies.
func wantToolRequest(toolName string) ([]backend.Message, []backend.Tool) {
	return []backend.Message{
			{Role: "user", Content: "hi"},
			{Role: "assistant", ToolCalls: []backend.ToolCall{{ID: "call_a1", Name: "read_file", Arguments: json.RawMessage(`{"path":"go.mod"}`)}}},
			{Role: "tool", Content: "1\tmodule x", ToolCallID: "call_a1", ToolName: toolName},
		}, []backend.Tool{{Name: "read_file", Description: "Read a file.",
			Parameters: json.RawMessage(`{"type":"object","required":["path"],"properties":{"path":{"type":"string"}}}`)}}
}

var (
	createdAt = regexp.MustCompile(`"created_at":"[^"]+"`)
	created   = regexp.MustCompile(`"created":\d+`)
	chatID    = regexp.MustCompile(`"id":"chatcmpl-\d+"`)
	ollamaID  = regexp.MustCompile(`"id":"call_[a-z0-9]{8}"`)
	openaiID  = regexp.MustCompile(`"id":"call_[a-z0-9]{24}"`)
	durations = regexp.MustCompile(`"(total|load|prompt_eval|eval)_duration":\d+`)
)

// normal replaces what changes from call to call.
func normal(s string) string {
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{{createdAt, `"created_at":"T"`}, {created, `"created":0`}, {chatID, `"id":"chatcmpl-N"`},
		{ollamaID, `"id":"call_ID"`}, {openaiID, `"id":"call_ID"`}, {durations, `"${1}_duration":0`}} {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

func TestToolCallsOnTheWire(t *testing.T) {
	const ndjson, sse, sseUTF8 = "application/x-ndjson", "text/event-stream", "text/event-stream; charset=utf-8"
	tests := []struct {
		name, path, body string
		openai           bool
		ctype            string
		want             []string // the lines (NDJSON) or events (SSE), normalized
	}{
		{"ollama api chat", "/api/chat", `{"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}]}`, false, ndjson, []string{
			`{"model":"qwen2.5-coder:7b","created_at":"T","message":{"role":"assistant","content":"Looking."},"done":false}`,
			`{"model":"qwen2.5-coder:7b","created_at":"T","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_ID","function":{"index":0,"name":"read_file","arguments":{"path":"main.go","from_line":1}}}]},"done":false}`,
			`{"model":"qwen2.5-coder:7b","created_at":"T","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_ID","function":{"index":1,"name":"list_files","arguments":{}}}]},"done":false}`,
			`{"model":"qwen2.5-coder:7b","created_at":"T","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":0,"load_duration":0,"prompt_eval_count":9,"prompt_eval_duration":0,"eval_count":7,"eval_duration":0}`,
		}},
		{"ollama v1", "/v1/chat/completions", `{"model":"qwen2.5-coder:7b","stream":true,"messages":[{"role":"user","content":"hi"}]}`, false, sse, []string{
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"qwen2.5-coder:7b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"Looking."},"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"qwen2.5-coder:7b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_ID","index":0,"type":"function","function":{"name":"read_file","arguments":"{\"path\":\"main.go\",\"from_line\":1}"}}]},"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"qwen2.5-coder:7b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_ID","index":1,"type":"function","function":{"name":"list_files","arguments":"{}"}}]},"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"qwen2.5-coder:7b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"tool_calls"}]}`,
			`data: [DONE]`,
		}},
		{"openai", "/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`, true, sseUTF8, []string{
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"content":"Looking."},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_ID","type":"function","function":{"name":"read_file","arguments":""}}]},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"main.go"}}]},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\",\"from_"}}]},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"line\":1}"}}]},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_ID","type":"function","function":{"name":"list_files","arguments":""}}]},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-N","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_modeltest","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}`,
			`data: [DONE]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := ""
			if tt.openai {
				srv := modeltest.NewOpenAI(t)
				srv.Enqueue(toolReply())
				url = srv.URL()
			} else {
				srv := modeltest.NewOllama(t)
				srv.Enqueue(toolReply())
				url = srv.URL()
			}
			status, ctype, body := call(t, "POST", url+tt.path, tt.body)
			if status != 200 || ctype != tt.ctype {
				t.Fatalf("status %d, content type %q: %s", status, ctype, body)
			}
			sep := "\n"
			if strings.HasPrefix(tt.ctype, sse) {
				sep = "\n\n"
			}
			got := strings.Split(strings.TrimSuffix(normal(body), sep), sep)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestToolCallsWhole(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.Enqueue(toolReply(), toolReply())
	_, _, body := call(t, "POST", srv.URL()+"/api/chat", `{"model":"qwen2.5-coder:7b","stream":false,"messages":[{"role":"user","content":"hi"}]}`)
	if want := `"message":{"role":"assistant","content":"Looking.","tool_calls":[{"id":"call_ID","function":{"index":0,"name":"read_file","arguments":{"path":"main.go","from_line":1}}},{"id":"call_ID","function":{"index":1,"name":"list_files","arguments":{}}}]},"done":true`; !strings.Contains(normal(body), want) {
		t.Errorf("api/chat whole: %s", body)
	}
	_, _, body = call(t, "POST", srv.URL()+"/v1/chat/completions", `{"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}]}`)
	if want := `"message":{"role":"assistant","content":"Looking.","tool_calls":[{"id":"call_ID","index":0,"type":"function","function":{"name":"read_file","arguments":"{\"path\":\"main.go\",\"from_line\":1}"}},{"id":"call_ID","index":1,"type":"function","function":{"name":"list_files","arguments":"{}"}}]},"finish_reason":"tool_calls"`; !strings.Contains(normal(body), want) {
		t.Errorf("v1 whole: %s", body)
	}
}

func TestToolRequestsRecorded(t *testing.T) {
	ollamaSrv := modeltest.NewOllama(t)
	openaiSrv := modeltest.NewOpenAI(t)
	ollamaSrv.Enqueue(modeltest.Reply{Content: "ok"}, modeltest.Reply{Content: "ok"})
	openaiSrv.Enqueue(modeltest.Reply{Content: "ok"})
	for _, c := range []struct {
		name, url, body, toolName string
		requests                  func() []modeltest.ChatRequestRecord
	}{
		{"api chat", ollamaSrv.URL() + "/api/chat", toolBody + "}", "read_file", ollamaSrv.Requests},
		{"ollama v1", ollamaSrv.URL() + "/v1/chat/completions", strings.Replace(toolV1Body, "%s", modeltest.DefaultModel, 1) + "}", "", ollamaSrv.Requests},
		{"openai", openaiSrv.BaseURL() + "/chat/completions", strings.Replace(toolV1Body, "%s", modeltest.DefaultOpenAIModel, 1) + "}", "", openaiSrv.Requests},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, _, body := call(t, "POST", c.url, c.body); status != 200 {
				t.Fatalf("%d: %s", status, body)
			}
			reqs := c.requests()
			got := reqs[len(reqs)-1]
			msgs, tools := wantToolRequest(c.toolName)
			if !reflect.DeepEqual(got.Messages, msgs) || !reflect.DeepEqual(got.Tools, tools) {
				t.Errorf("recorded\n%+v\n%+v\nwant\n%+v\n%+v", got.Messages, got.Tools, msgs, tools)
			}
		})
	}
}

func TestModelWithoutTools(t *testing.T) {
	srv := modeltest.NewOllama(t)
	srv.AddModel("tiny")
	srv.WithoutTools("tiny")
	tools := `,"tools":[{"type":"function","function":{"name":"list_files","parameters":{"type":"object","properties":{}}}}]}`
	tests := []struct {
		name, path, body string
		status           int
		ctype, want      string
	}{
		{"api chat", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]` + tools, 400, "application/json; charset=utf-8",
			`{"error":"registry.ollama.ai/library/tiny:latest does not support tools"}`},
		{"v1", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]` + tools, 400, "application/json",
			`{"error":{"message":"registry.ollama.ai/library/tiny:latest does not support tools","type":"api_error","param":null,"code":null}}` + "\n"},
		{"show", "/api/show", `{"model":"tiny"}`, 200, "application/json; charset=utf-8", `"capabilities":["completion"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := call(t, "POST", srv.URL()+tt.path, tt.body)
			if status != tt.status || ctype != tt.ctype || !strings.Contains(body, tt.want) {
				t.Errorf("%d %q %s\nwant %d %q %s", status, ctype, body, tt.status, tt.ctype, tt.want)
			}
		})
	}
}
