package backend

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Known model providers. A model reference is "provider:model", e.g.
// "ollama:qwen2.5-coder:7b" or "openai:gpt-4o-mini".
const (
	ProviderOllama = "ollama"
	ProviderOpenAI = "openai"
)

// Providers lists the provider names a blueprint may name.
var Providers = []string{ProviderOllama, ProviderOpenAI}

// ModelRef is a parsed "provider:model" reference.
type ModelRef struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
}

// String returns "provider:model".
func (r ModelRef) String() string { return r.Provider + ":" + r.Model }

// ParseModelRef splits "provider:model" at the first colon. The model part
// may itself contain colons (Ollama tags).
func ParseModelRef(s string) (ModelRef, error) {
	p, m, ok := strings.Cut(s, ":")
	if !ok || p == "" || m == "" {
		return ModelRef{}, Errorf(EINVALID, "model %q: want provider:model, e.g. ollama:qwen2.5-coder:7b", s)
	}
	for _, known := range Providers {
		if p == known {
			return ModelRef{Provider: p, Model: m}, nil
		}
	}
	return ModelRef{}, Errorf(EINVALID, "model %q: unknown provider %q (known: %s)", s, p, strings.Join(Providers, ", "))
}

// Message is one chat message. An assistant message may carry the tool
// calls the model made; a "tool" message answers one of them.
type Message struct {
	Role       string     `json:"role"` // system, user, assistant, tool
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`   // an assistant's calls
	ToolCallID string     `json:"tool_call_id,omitempty"` // the call a tool message answers
	ToolName   string     `json:"tool_name,omitempty"`    // the tool a tool message is from
}

// ChatRequest is one model call.
type ChatRequest struct {
	Model    string          `json:"model"` // the provider's model name, without the provider prefix
	Messages []Message       `json:"messages"`
	Schema   json.RawMessage `json:"schema,omitempty"`  // JSON schema for structured output, if any
	Options  map[string]any  `json:"options,omitempty"` // temperature, seed, num_ctx, ...
	Tools    []Tool          `json:"tools,omitempty"`   // tools the model may call
	// MaxAnswerBytes bounds the answer (text and tool calls): past it the
	// provider stops reading and fails the call with EINVALID. 0 means
	// DefaultMaxAnswerBytes. It is not part of the recorded request.
	MaxAnswerBytes int `json:"-"`
}

// ChatResponse is the outcome of a model call.
type ChatResponse struct {
	Content      string        `json:"content"`
	ToolCalls    []ToolCall    `json:"tool_calls,omitempty"` // the tools the model asked to call
	Model        string        `json:"model"`                // the model that answered, as the server names it
	InputTokens  int           `json:"input_tokens"`
	OutputTokens int           `json:"output_tokens"`
	DoneReason   string        `json:"done_reason,omitempty"`
	Duration     time.Duration `json:"duration"`    // wall time of the whole call
	FirstToken   time.Duration `json:"first_token"` // time to the first streamed token
}

// ModelInfo describes one model a provider offers.
type ModelInfo struct {
	Provider string    `json:"provider"`
	Name     string    `json:"name"`
	Size     int64     `json:"size,omitempty"`
	Modified time.Time `json:"modified,omitempty"`
	Family   string    `json:"family,omitempty"`
	Params   string    `json:"parameters,omitempty"`
}

// PullProgress is one progress report of a model pull.
type PullProgress struct {
	Status    string `json:"status"`
	Total     int64  `json:"total,omitempty"`
	Completed int64  `json:"completed,omitempty"`
}

// Provider is a model server. Implementations stream: onToken, when not nil,
// is called with each piece of the answer as it arrives. Errors are *Error
// with a message an operator can act on (EUNAVAILABLE when the server cannot
// be reached, ENOTFOUND for an unknown model, EINTERNAL for a broken stream).
type Provider interface {
	Name() string
	Chat(ctx context.Context, req ChatRequest, onToken func(string)) (ChatResponse, error)
	List(ctx context.Context) ([]ModelInfo, error)
}

// Puller is implemented by providers that can download models.
type Puller interface {
	Pull(ctx context.Context, model string, progress func(PullProgress)) error
}
