package modeltest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"factorydesk/backend/model/modeltest"
)

func TestOpenAIStreamEvents(t *testing.T) {
	srv := modeltest.NewOpenAI(t)
	srv.Enqueue(modeltest.Reply{Content: "Hi there", Chunks: 2, PromptTokens: 5, EvalTokens: 2})
	status, ctype, body := call(t, "POST", srv.BaseURL()+"/chat/completions",
		`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	if status != 200 || !strings.HasPrefix(ctype, "text/event-stream") {
		t.Fatalf("status %d, content type %q", status, ctype)
	}
	events := strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n")
	if len(events) != 6 || events[5] != "data: [DONE]" {
		t.Fatalf("want role, 2 pieces, finish, usage, [DONE]; got %d events:\n%s", len(events), body)
	}
	var content strings.Builder
	for i, ev := range events[:5] {
		var c struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
				TotalTokens      int `json:"total_tokens"`
			} `json:"usage"`
		}
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok {
			t.Fatalf("event %d: %q", i, ev)
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("event %d: %q: %v", i, data, err)
		}
		for _, ch := range c.Choices {
			content.WriteString(ch.Delta.Content)
			if ch.FinishReason != nil && (i != 3 || *ch.FinishReason != "stop") {
				t.Errorf("event %d finish_reason %q", i, *ch.FinishReason)
			}
		}
		if (c.Usage != nil) != (i == 4) {
			t.Errorf("event %d usage %+v", i, c.Usage)
		}
		if i == 4 && (c.Usage.PromptTokens != 5 || c.Usage.CompletionTokens != 2 || c.Usage.TotalTokens != 7 || len(c.Choices) != 0) {
			t.Errorf("usage event %s", data)
		}
	}
	if content.String() != "Hi there" {
		t.Errorf("content %q", content.String())
	}
}

func TestOpenAIEndpoints(t *testing.T) {
	srv := modeltest.NewOpenAI(t)
	srv.Respond(func(req modeltest.Request) modeltest.Reply { return modeltest.Reply{Content: "ok"} })
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantBody                 string
	}{
		{"models", "GET", "/models", "", 200, `"object":"list","data":[{"id":"gpt-4o-mini","object":"model"`},
		{"whole answer", "POST", "/chat/completions", `{"model":"gpt-4o-mini"}`, 200,
			`"object":"chat.completion"`},
		{"whole answer usage", "POST", "/chat/completions", `{"model":"gpt-4o-mini"}`, 200,
			`"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}`},
		{"unknown model", "POST", "/chat/completions", `{"model":"gpt-9"}`, 404,
			`{"error":{"message":"The model ` + "`gpt-9`" + ` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}`},
		{"no model", "POST", "/chat/completions", `{}`, 400, `"type":"invalid_request_error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := call(t, tt.method, srv.BaseURL()+tt.path, tt.body)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%s %s: %d %s; want %d with %s", tt.method, tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	srv.Enqueue(modeltest.Reply{Status: 429, Error: "Rate limit reached"})
	status, _, body := call(t, "POST", srv.BaseURL()+"/chat/completions", `{"model":"gpt-4o-mini"}`)
	if status != 429 || !strings.Contains(body, `"message":"Rate limit reached"`) {
		t.Errorf("scripted error: %d %s", status, body)
	}
}
