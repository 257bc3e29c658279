package modeltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"factorydesk/backend"
)

// ollamaChatRequest is the body of /api/chat.
type ollamaChatRequest struct {
	Model    string            `json:"model"`
	Messages []backend.Message `json:"messages"`
	Stream   *bool             `json:"stream"`
	Format   json.RawMessage   `json:"format"`
	Options  map[string]any    `json:"options"`
}

// ollamaMessage is the "message" of a chat answer.
type ollamaMessage struct {
	Role      string         `json:"role"`
	Content   string         `json:"content"`
	ToolCalls []api.ToolCall `json:"tool_calls,omitempty"`
}

// ollamaChunk is one line of a chat answer, with its fields in Ollama's order.
type ollamaChunk struct {
	Model              string        `json:"model"`
	CreatedAt          string        `json:"created_at"`
	Message            ollamaMessage `json:"message"`
	Done               bool          `json:"done"`
	DoneReason         string        `json:"done_reason,omitempty"`
	TotalDuration      int64         `json:"total_duration,omitempty"`
	LoadDuration       int64         `json:"load_duration,omitempty"`
	PromptEvalCount    int           `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration int64         `json:"prompt_eval_duration,omitempty"`
	EvalCount          int           `json:"eval_count,omitempty"`
	EvalDuration       int64         `json:"eval_duration,omitempty"`
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// finalChunk is the last line of an answer: empty or whole content, done,
// and the metrics.
func finalChunk(req Request, reply Reply, content string, start time.Time) ollamaChunk {
	total := time.Since(start)
	return ollamaChunk{
		Model: req.Model, CreatedAt: now(),
		Message:    ollamaMessage{Role: "assistant", Content: content},
		DoneReason: reply.doneReason(), Done: true,
		TotalDuration:      int64(total),
		LoadDuration:       int64(total / 10),
		PromptEvalCount:    reply.promptTokens(req),
		PromptEvalDuration: int64(total / 10),
		EvalCount:          reply.evalTokens(),
		EvalDuration:       int64(total * 8 / 10),
	}
}

// errFormat marks a "format" that is neither "json" nor a JSON schema.
var errFormat = errors.New("invalid format")

// checkOptions refuses options of the wrong type, by Ollama's own rules.
func checkOptions(in ollamaChatRequest) error {
	opts := api.DefaultOptions()
	return opts.FromMap(in.Options)
}

// checkFormat refuses a format that is neither "json" nor a JSON schema
// object.
func checkFormat(in ollamaChatRequest) error {
	switch f := string(in.Format); {
	case f == "", f == "null", f == `""`, f == `"json"`, strings.HasPrefix(f, "{"):
		return nil
	default:
		return fmt.Errorf(`%w: %q; expected "json" or a valid JSON Schema object`, errFormat, f)
	}
}

// The test server's models can complete and call tools, not think.
var capabilities = []string{"completion", "tools"}

// loadChunk is Ollama's answer to a chat with no messages: the model is
// loaded ("load") or, with keep_alive 0, unloaded ("unload"); nothing is
// generated.
func loadChunk(model, reason string) ollamaChunk {
	return ollamaChunk{Model: model, CreatedAt: now(), Message: ollamaMessage{Role: "assistant"},
		Done: true, DoneReason: reason}
}

// beforeGenerating returns what Ollama answers, in its order of checks,
// to a chat for a model it has that it refuses or answers without
// generating: 0 when it generates an answer.
func beforeGenerating(in ollamaChatRequest, typed api.ChatRequest, stream, tools bool) (status int, answer any, ctype string) {
	const jsonType = "application/json; charset=utf-8"
	fail := func(status int, msg string) (int, any, string) {
		return status, map[string]string{"error": msg}, jsonType
	}
	switch {
	case len(in.Messages) == 0 && typed.KeepAlive != nil && typed.KeepAlive.Duration == 0:
		return http.StatusOK, loadChunk(in.Model, "unload"), jsonType
	case typed.Think != nil && typed.Think.Bool() && !slices.Contains(capabilities, "thinking"):
		return fail(http.StatusBadRequest, fmt.Sprintf("%q does not support thinking", in.Model))
	case len(typed.Tools) > 0 && !tools:
		return fail(http.StatusBadRequest, noToolsError(in.Model))
	}
	if err := checkOptions(in); err != nil {
		return fail(http.StatusInternalServerError, err.Error())
	}
	if len(in.Messages) == 0 {
		return http.StatusOK, loadChunk(in.Model, "load"), jsonType
	}
	if err := checkFormat(in); err != nil {
		status, answer, ctype := fail(http.StatusInternalServerError, err.Error())
		if stream {
			ctype = "application/json" // the error comes from inside the stream
		}
		return status, answer, ctype
	}
	return 0, nil, ""
}

func (o *Ollama) chat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var body json.RawMessage
	var typed api.ChatRequest // what Ollama reads the body into
	var in ollamaChatRequest
	err := json.NewDecoder(r.Body).Decode(&body)
	if err == nil {
		err = json.Unmarshal(body, &typed)
	}
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		badBody(w, err)
		return
	}
	if typed.TopLogprobs < 0 || typed.TopLogprobs > 20 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "top_logprobs must be between 0 and 20"})
		return
	}
	if !validName(in.Model) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "model is required"})
		return
	}
	req := Request{Model: in.Model, Messages: fromAPIMessages(typed.Messages), Options: in.Options,
		Tools: fromAPITools(typed.Tools), Stream: in.Stream == nil || *in.Stream, Body: body}
	if len(in.Format) > 0 && string(in.Format) != "null" && string(in.Format) != `""` {
		req.Format = in.Format
	}
	m, ok := o.model(in.Model)
	if !ok {
		o.record(req)
		notFound(w, in.Model)
		return
	}
	if status, answer, ctype := beforeGenerating(in, typed, req.Stream, !m.noTools); status != 0 {
		o.record(req)
		writeJSONAs(w, ctype, status, answer)
		return
	}
	reply := o.next(req)
	if reply.Status != 0 {
		writeJSON(w, reply.Status, map[string]string{"error": reply.errorText()})
		return
	}
	if !req.Stream {
		o.chatWhole(w, r, req, reply, start)
		return
	}
	o.chatStream(w, r, req, reply, start)
}

// chatWhole answers with one JSON object ("stream": false).
func (o *Ollama) chatWhole(w http.ResponseWriter, r *http.Request, req Request, reply Reply, start time.Time) {
	pieces := reply.pieces()
	if !wait(reply.FirstDelay+time.Duration(len(pieces))*reply.Delay, o.done) {
		return
	}
	switch {
	case reply.Stall:
		newStreamer(w, "application/json; charset=utf-8")
		hold(r, o.done)
		return
	case reply.CutAfter > 0:
		abort()
	case reply.Garbage:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte("<html>this is not JSON</html>\n"))
		return
	}
	final := finalChunk(req, reply, reply.Content, start)
	final.Message.ToolCalls = apiToolCalls(reply.ToolCalls)
	writeJSON(w, http.StatusOK, final)
}

// chatStream answers with NDJSON lines, one per piece, then the final line.
func (o *Ollama) chatStream(w http.ResponseWriter, r *http.Request, req Request, reply Reply, start time.Time) {
	pieces := reply.pieces()
	stopAt := -1
	if reply.CutAfter > 0 {
		stopAt = reply.CutAfter
	} else if reply.Stall {
		stopAt = 0
	}
	st := newStreamer(w, "application/x-ndjson")
	for i := 0; i <= len(pieces); i++ {
		if i == stopAt || (i == len(pieces) && stopAt > len(pieces)) {
			if reply.Stall {
				hold(r, o.done)
				return
			}
			abort()
		}
		if i == len(pieces) {
			break
		}
		d := reply.Delay
		if i == 0 {
			d += reply.FirstDelay
		}
		if !wait(d, o.done) {
			return
		}
		if reply.Garbage && i == len(pieces)/2 && !st.write([]byte("this line is not JSON\n")) {
			return
		}
		line, _ := json.Marshal(ollamaChunk{Model: req.Model, CreatedAt: now(),
			Message: ollamaMessage{Role: "assistant", Content: pieces[i]}})
		if !st.write(append(line, '\n')) {
			return
		}
	}
	for _, tc := range apiToolCalls(reply.ToolCalls) {
		line, _ := json.Marshal(ollamaChunk{Model: req.Model, CreatedAt: now(),
			Message: ollamaMessage{Role: "assistant", ToolCalls: []api.ToolCall{tc}}})
		if !st.write(append(line, '\n')) {
			return
		}
	}
	line, _ := json.Marshal(finalChunk(req, reply, "", start))
	st.write(append(line, '\n'))
}
