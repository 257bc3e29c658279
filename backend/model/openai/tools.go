package openai

import (
	"bytes"
	"encoding/json"
	"strings"

	"factorydesk/backend"
)

// message is a chat completions message: tool calls with their arguments
// as a JSON string, tool results naming the call they answer.
type message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// toolCall is a tool call in a message, or a piece of one in a streamed
// delta (where index says which call it belongs to).
type toolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// tool is a tool offered in a request.
type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// messages converts a request's messages to the API's shape.
func messages(in []backend.Message) []message {
	out := make([]message, len(in))
	for i, m := range in {
		out[i] = message{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			c := toolCall{ID: tc.ID, Type: "function"}
			c.Function.Name = tc.Name
			c.Function.Arguments = argumentText(tc.Arguments)
			out[i].ToolCalls = append(out[i].ToolCalls, c)
		}
	}
	return out
}

// tools converts the tools offered.
func tools(in []backend.Tool) []tool {
	out := make([]tool, len(in))
	for i, t := range in {
		out[i] = tool{Type: "function", Function: toolFunction{Name: t.Name, Description: t.Description, Parameters: t.Parameters}}
	}
	return out
}

// argumentText is the arguments string a call carries: the JSON text, or
// the text itself when the model's arguments were kept as a JSON string.
func argumentText(args json.RawMessage) string {
	var s string
	if json.Unmarshal(args, &s) == nil {
		return s
	}
	return string(args)
}

// arguments reads a call's arguments string: JSON as it is, "" as {}, and
// anything else (a model's broken JSON) kept as a JSON string, so that the
// tool's checks can say what is wrong with it.
func arguments(s string) json.RawMessage {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return json.RawMessage("{}")
	case json.Valid([]byte(t)):
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(t)) == nil {
			return buf.Bytes()
		}
	}
	b, _ := json.Marshal(s)
	return b
}

// calls assembles streamed tool call pieces by their index, in order of
// first appearance.
type calls struct {
	order []int
	by    map[int]*pending
}

type pending struct {
	id, name string
	args     strings.Builder
}

// add takes the tool calls of one delta, or of a whole message (whole).
func (c *calls) add(in []toolCall, whole bool) {
	if c.by == nil {
		c.by = map[int]*pending{}
	}
	for i, tc := range in {
		idx := i
		if tc.Index != nil && !whole {
			idx = *tc.Index
		}
		p, ok := c.by[idx]
		if !ok {
			p = &pending{}
			c.by[idx] = p
			c.order = append(c.order, idx)
		}
		if tc.ID != "" {
			p.id = tc.ID
		}
		if tc.Function.Name != "" && p.name == "" {
			p.name = tc.Function.Name
		}
		p.args.WriteString(tc.Function.Arguments)
	}
}

// result returns the assembled calls.
func (c *calls) result() []backend.ToolCall {
	var out []backend.ToolCall
	for _, idx := range c.order {
		p := c.by[idx]
		out = append(out, backend.ToolCall{ID: p.id, Name: p.name, Arguments: arguments(p.args.String())})
	}
	return out
}

// noTools reports whether a server's message refuses tools for the model:
// Ollama's "does not support tools", and the wording of other servers.
func noTools(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "does not support tools") ||
		(strings.Contains(m, "tool") && (strings.Contains(m, "not supported") || strings.Contains(m, "does not support")))
}
