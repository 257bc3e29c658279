package modeltest

import (
	"encoding/json"
	"net/http"
	"time"

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
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ollamaChunk is one line of a chat answer, with its fields in Ollama's order.
type ollamaChunk struct {
	Model              string        `json:"model"`
	CreatedAt          string        `json:"created_at"`
	Message            ollamaMessage `json:"message"`
	DoneReason         string        `json:"done_reason,omitempty"`
	Done               bool          `json:"done"`
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
func finalChunk(req Request, reply Reply, content string, pieces int, start time.Time) ollamaChunk {
	total := time.Since(start)
	return ollamaChunk{
		Model: req.Model, CreatedAt: now(),
		Message:    ollamaMessage{Role: "assistant", Content: content},
		DoneReason: reply.doneReason(), Done: true,
		TotalDuration:      int64(total),
		LoadDuration:       int64(total / 10),
		PromptEvalCount:    reply.promptTokens(req),
		PromptEvalDuration: int64(total / 10),
		EvalCount:          reply.evalTokens(pieces),
		EvalDuration:       int64(total * 8 / 10),
	}
}

func (o *Ollama) chat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var body json.RawMessage
	var in ollamaChatRequest
	err := json.NewDecoder(r.Body).Decode(&body)
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if in.Model == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "model is required"})
		return
	}
	req := Request{Model: in.Model, Messages: in.Messages, Options: in.Options,
		Stream: in.Stream == nil || *in.Stream, Body: body}
	if len(in.Format) > 0 && string(in.Format) != "null" && string(in.Format) != `""` {
		req.Format = in.Format
	}
	if _, ok := o.model(in.Model); !ok {
		o.record(req)
		notFound(w, in.Model)
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
	writeJSON(w, http.StatusOK, finalChunk(req, reply, reply.Content, len(pieces), start))
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
	line, _ := json.Marshal(finalChunk(req, reply, "", len(pieces), start))
	st.write(append(line, '\n'))
}
