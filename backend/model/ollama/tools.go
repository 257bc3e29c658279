package ollama

import (
	"encoding/json"
	"strings"

	"github.com/ollama/ollama/api"

	"factorydesk/backend"
)

// apiMessages converts a request's messages to Ollama's, tool calls and
// tool results included.
func apiMessages(in []backend.Message) []api.Message {
	msgs := make([]api.Message, len(in))
	for i, m := range in {
		msgs[i] = api.Message{Role: m.Role, Content: m.Content, ToolName: m.ToolName, ToolCallID: m.ToolCallID}
		for j, tc := range m.ToolCalls {
			args := api.NewToolCallFunctionArguments()
			_ = args.UnmarshalJSON(tc.Arguments) // Ollama only sends objects; anything else goes back empty
			msgs[i].ToolCalls = append(msgs[i].ToolCalls, api.ToolCall{ID: tc.ID,
				Function: api.ToolCallFunction{Index: j, Name: tc.Name, Arguments: args}})
		}
	}
	return msgs
}

// apiTools converts the tools offered to Ollama's type.
func apiTools(in []backend.Tool) (api.Tools, error) {
	var out api.Tools
	for _, t := range in {
		var params api.ToolFunctionParameters
		if err := json.Unmarshal(t.Parameters, &params); err != nil {
			return nil, backend.WrapError(backend.EINVALID, err, "the parameters of tool %s are not a JSON schema object", t.Name)
		}
		out = append(out, api.Tool{Type: "function",
			Function: api.ToolFunction{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	return out, nil
}

// toolCalls converts the tool calls of a streamed answer.
func toolCalls(in []api.ToolCall) []backend.ToolCall {
	out := make([]backend.ToolCall, 0, len(in))
	for _, tc := range in {
		args, err := json.Marshal(tc.Function.Arguments)
		if err != nil {
			args = json.RawMessage("{}")
		}
		out = append(out, backend.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
	}
	return out
}

// noTools reports whether a server's message refuses tools for the model.
func noTools(msg string) bool { return strings.Contains(msg, "does not support tools") }
