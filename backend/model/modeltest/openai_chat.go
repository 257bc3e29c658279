package modeltest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/ollama/ollama/openai"
)

// completion answers one chat completions call.
type completion struct {
	flavor v1Flavor
	done   <-chan struct{} // closed when the server closes
	w      http.ResponseWriter
	r      *http.Request
	req    Request
	reply  Reply
	start  time.Time
	usage  bool // stream_options.include_usage
	id     string
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type openAIDelta struct {
	Role      string  `json:"role,omitempty"`
	Content   *string `json:"content,omitempty"`
	ToolCalls any     `json:"tool_calls,omitempty"`
}

// openAIChoice is a choice as OpenAI writes it, logprobs null included.
type openAIChoice struct {
	Index        int          `json:"index"`
	Delta        *openAIDelta `json:"delta,omitempty"`
	Message      *openAIDelta `json:"message,omitempty"`
	Logprobs     any          `json:"logprobs"`
	FinishReason *string      `json:"finish_reason"`
}

// ollamaV1Choice is a choice as Ollama's /v1 writes it: no logprobs key.
type ollamaV1Choice struct {
	Index        int          `json:"index"`
	Delta        *openAIDelta `json:"delta,omitempty"`
	Message      *openAIDelta `json:"message,omitempty"`
	FinishReason *string      `json:"finish_reason"`
}

type openAIChunk struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           any          `json:"choices"`
	Usage             *openAIUsage `json:"usage,omitempty"`
}

// chunk is one completion object; a nil delta and message make a chunk
// with no choices (the usage chunk).
func (c *completion) chunk(object string, delta, message *openAIDelta, finish *string) openAIChunk {
	if c.id == "" {
		c.id = fmt.Sprintf("chatcmpl-%d", c.start.UnixNano())
		if c.flavor == flavorOllama {
			c.id = fmt.Sprintf("chatcmpl-%d", rand.IntN(1000))
		}
	}
	out := openAIChunk{ID: c.id, Object: object, Created: c.start.Unix(), Model: c.req.Model,
		SystemFingerprint: "fp_modeltest", Choices: []openAIChoice{}}
	if c.flavor == flavorOllama {
		out.SystemFingerprint = "fp_ollama"
		out.Choices = []ollamaV1Choice{}
	}
	if delta == nil && message == nil {
		return out
	}
	if c.flavor == flavorOllama {
		out.Choices = []ollamaV1Choice{{Delta: delta, Message: message, FinishReason: finish}}
	} else {
		out.Choices = []openAIChoice{{Delta: delta, Message: message, FinishReason: finish}}
	}
	return out
}

// finishReason is the reply's finish_reason: "tool_calls" when it calls
// tools, unless the reply says otherwise.
func (c *completion) finishReason() string {
	if len(c.reply.ToolCalls) > 0 && c.reply.DoneReason == "" {
		return "tool_calls"
	}
	return c.reply.doneReason()
}

// streamToolCalls sends the reply's tool calls: Ollama each whole in its own
// chunk, OpenAI each named in one chunk and its arguments in pieces.
func (c *completion) streamToolCalls(send func(any) bool) bool {
	if c.flavor == flavorOllama {
		empty := ""
		for i := range c.reply.ToolCalls {
			calls := v1ToolCalls(c.reply.ToolCalls[i:i+1], c.flavor).([]openai.ToolCall)
			calls[0].Index = i
			if !send(c.chunk("chat.completion.chunk", &openAIDelta{Role: "assistant", Content: &empty, ToolCalls: calls}, nil, nil)) {
				return false
			}
		}
		return true
	}
	for _, d := range openAIToolDeltas(c.reply.ToolCalls) {
		if !send(c.chunk("chat.completion.chunk", d, nil, nil)) {
			return false
		}
	}
	return true
}

func (c *completion) usageOf() *openAIUsage {
	p, e := c.reply.promptTokens(c.req), c.reply.evalTokens()
	return &openAIUsage{PromptTokens: p, CompletionTokens: e, TotalTokens: p + e}
}

// whole answers with one chat.completion object ("stream": false).
func (c *completion) whole() {
	pieces := c.reply.pieces()
	if !wait(c.reply.FirstDelay+time.Duration(len(pieces))*c.reply.Delay, c.done) {
		return
	}
	switch {
	case c.reply.Stall:
		newStreamer(c.w, "application/json")
		hold(c.r, c.done)
		return
	case c.reply.CutAfter > 0:
		abort()
	case c.reply.Garbage:
		c.w.Header().Set("Content-Type", "application/json")
		_, _ = c.w.Write([]byte("<html>this is not JSON</html>\n"))
		return
	}
	content, reason := c.reply.Content, c.finishReason()
	msg := &openAIDelta{Role: "assistant", Content: &content}
	if len(c.reply.ToolCalls) > 0 {
		msg.ToolCalls = v1ToolCalls(c.reply.ToolCalls, c.flavor)
	}
	out := c.chunk("chat.completion", nil, msg, &reason)
	out.Usage = c.usageOf()
	writeV1JSON(c.w, http.StatusOK, out)
}

// stream answers with server-sent events: one chunk per piece, a finish
// chunk, a usage chunk when asked for, and [DONE]. OpenAI opens with a
// chunk holding only the role and names the role there only; Ollama names
// it in every chunk, the finishing one included.
func (c *completion) stream() {
	pieces := c.reply.pieces()
	stopAt := -1
	if c.reply.CutAfter > 0 {
		stopAt = c.reply.CutAfter
	} else if c.reply.Stall {
		stopAt = 0
	}
	ctype, role := "text/event-stream; charset=utf-8", ""
	if c.flavor == flavorOllama {
		ctype, role = "text/event-stream", "assistant"
	}
	st := newStreamer(c.w, ctype)
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		return st.write(fmt.Appendf(nil, "data: %s\n\n", b))
	}
	empty := ""
	if c.flavor == flavorOpenAI && !send(c.chunk("chat.completion.chunk", &openAIDelta{Role: "assistant", Content: &empty}, nil, nil)) {
		return
	}
	for i := 0; i <= len(pieces); i++ {
		if i == stopAt || (i == len(pieces) && stopAt > len(pieces)) {
			if c.reply.Stall {
				hold(c.r, c.done)
				return
			}
			abort()
		}
		if i == len(pieces) {
			break
		}
		d := c.reply.Delay
		if i == 0 {
			d += c.reply.FirstDelay
		}
		if !wait(d, c.done) {
			return
		}
		if c.reply.Garbage && i == len(pieces)/2 && !st.write([]byte("data: this is not JSON\n\n")) {
			return
		}
		if !send(c.chunk("chat.completion.chunk", &openAIDelta{Role: role, Content: &pieces[i]}, nil, nil)) {
			return
		}
	}
	if !c.streamToolCalls(send) {
		return
	}
	reason := c.finishReason()
	final := &openAIDelta{}
	if c.flavor == flavorOllama {
		final = &openAIDelta{Role: role, Content: &empty}
	}
	if !send(c.chunk("chat.completion.chunk", final, nil, &reason)) {
		return
	}
	if c.usage {
		u := c.chunk("chat.completion.chunk", nil, nil, nil)
		u.Usage = c.usageOf()
		if !send(u) {
			return
		}
	}
	st.write([]byte("data: [DONE]\n\n"))
}
