package modeltest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/openai"

	"factorydesk/backend"
)

// Tool calling, as each server sends it:
//
//   - Ollama's /api/chat: each call in its own streamed line,
//     message.tool_calls[{id, function:{index, name, arguments}}] with the
//     arguments as a JSON object and the content empty, then the final line
//     (done_reason "stop"). Ids are "call_" and 8 lowercase letters or digits.
//   - Ollama's /v1/chat/completions: each call whole in one chunk,
//     delta.tool_calls[{id, index, type, function:{name, arguments}}] with the
//     arguments as one JSON string, then a chunk with finish_reason
//     "tool_calls".
//   - OpenAI: per call a chunk naming it (index, id, type, function.name,
//     arguments "") and then chunks with only index and a piece of the
//     arguments string; the finish chunk says "tool_calls".

// ToolCall scripts one tool call of a Reply: the tool and its arguments as
// JSON (an object, unless a test means a broken one).
func ToolCall(name, arguments string) backend.ToolCall {
	return backend.ToolCall{Name: name, Arguments: json.RawMessage(arguments)}
}

// callID returns the call's id, or one made up as the flavor makes them.
func callID(c backend.ToolCall, openAIStyle bool) string {
	if c.ID != "" {
		return c.ID
	}
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	n := 8
	if openAIStyle {
		n = 24
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return "call_" + string(b)
}

// apiToolCalls converts scripted calls to Ollama's type, ids made up.
func apiToolCalls(calls []backend.ToolCall) []api.ToolCall {
	out := make([]api.ToolCall, len(calls))
	for i, c := range calls {
		args := api.NewToolCallFunctionArguments()
		_ = args.UnmarshalJSON(c.Arguments) // a test may script arguments that are not an object
		out[i] = api.ToolCall{ID: callID(c, false), Function: api.ToolCallFunction{Index: i, Name: c.Name, Arguments: args}}
	}
	return out
}

// fromAPIMessages converts the messages of an /api/chat body.
func fromAPIMessages(in []api.Message) []backend.Message {
	out := make([]backend.Message, len(in))
	for i, m := range in {
		out[i] = backend.Message{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, ToolName: m.ToolName}
		for _, tc := range m.ToolCalls {
			args, _ := json.Marshal(tc.Function.Arguments)
			out[i].ToolCalls = append(out[i].ToolCalls, backend.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
		}
	}
	return out
}

// fromAPITools converts the tools of an /api/chat body.
func fromAPITools(in []api.Tool) []backend.Tool {
	var out []backend.Tool
	for _, t := range in {
		params, _ := json.Marshal(t.Function.Parameters)
		out = append(out, backend.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: params})
	}
	return out
}

// v1Message is a message of a chat completions body.
type v1Message struct {
	Role       string       `json:"role"`
	Content    any          `json:"content"`
	ToolCalls  []v1ToolCall `json:"tool_calls"`
	ToolCallID string       `json:"tool_call_id"`
	Name       string       `json:"name"`
}

// v1Tool is a tool of a chat completions body.
type v1Tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// v1ToolCall is a tool call as OpenAI writes it, in a message or a delta
// (index only in a delta, id and type only in a call's first delta).
type v1ToolCall struct {
	Index    *int           `json:"index,omitempty"`
	ID       string         `json:"id,omitempty"`
	Type     string         `json:"type,omitempty"`
	Function v1ToolFunction `json:"function"`
}

type v1ToolFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// fromV1 converts the messages and tools of a chat completions body.
func fromV1(msgs []v1Message, tools []v1Tool) ([]backend.Message, []backend.Tool) {
	out := make([]backend.Message, len(msgs))
	for i, m := range msgs {
		content, _ := m.Content.(string)
		out[i] = backend.Message{Role: m.Role, Content: content, ToolCallID: m.ToolCallID, ToolName: m.Name}
		for _, tc := range m.ToolCalls {
			args := json.RawMessage(tc.Function.Arguments)
			if !json.Valid(args) {
				args, _ = json.Marshal(tc.Function.Arguments)
			}
			out[i].ToolCalls = append(out[i].ToolCalls, backend.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
		}
	}
	var ts []backend.Tool
	for _, t := range tools {
		ts = append(ts, backend.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	return out, ts
}

// argumentString is a call's arguments as the string the chat completions
// API carries: the JSON text, or the string itself when the JSON is one.
func argumentString(args json.RawMessage) string {
	var s string
	if json.Unmarshal(args, &s) == nil {
		return s
	}
	return string(args)
}

// v1ToolCalls converts scripted calls for a whole chat completion (no
// index) or, with ollama set, for Ollama's /v1 chunk (its own type and
// field order).
func v1ToolCalls(calls []backend.ToolCall, flavor v1Flavor) any {
	if flavor == flavorOllama {
		out := make([]openai.ToolCall, len(calls))
		for i, c := range calls {
			out[i] = openai.ToolCall{ID: callID(c, false), Index: i, Type: "function"}
			out[i].Function.Name = c.Name
			out[i].Function.Arguments = argumentString(c.Arguments)
		}
		return out
	}
	out := make([]v1ToolCall, len(calls))
	for i, c := range calls {
		out[i] = v1ToolCall{ID: callID(c, true), Type: "function",
			Function: v1ToolFunction{Name: c.Name, Arguments: argumentString(c.Arguments)}}
	}
	return out
}

// openAIToolDeltas are the chunks' deltas streaming calls as OpenAI does:
// per call, one naming it, then its arguments in pieces of about 8 bytes.
func openAIToolDeltas(calls []backend.ToolCall) []*openAIDelta {
	var out []*openAIDelta
	for i, c := range calls {
		idx := i
		out = append(out, &openAIDelta{ToolCalls: []v1ToolCall{{Index: &idx, ID: callID(c, true), Type: "function",
			Function: v1ToolFunction{Name: c.Name}}}})
		for _, piece := range (Reply{Content: argumentString(c.Arguments)}).pieces() {
			out = append(out, &openAIDelta{ToolCalls: []v1ToolCall{{Index: &idx, Function: v1ToolFunction{Arguments: piece}}}})
		}
	}
	return out
}

// noToolsError is Ollama's refusal of tools for a model whose template
// cannot call them.
func noToolsError(model string) string {
	return fmt.Sprintf("%s does not support tools", fullName(model))
}

// fullName is a model's name as Ollama's errors spell it, e.g.
// registry.ollama.ai/library/tiny:latest.
func fullName(name string) string {
	name = normalizeName(name)
	switch strings.Count(strings.Split(name, ":")[0], "/") {
	case 0:
		return "registry.ollama.ai/library/" + name
	case 1:
		return "registry.ollama.ai/" + name
	}
	return name
}
