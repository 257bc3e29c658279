package modeltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// completion answers one chat completions call.
type completion struct {
	o     *OpenAI
	w     http.ResponseWriter
	r     *http.Request
	req   Request
	reply Reply
	start time.Time
	usage bool // stream_options.include_usage
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type openAIDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type openAIChoice struct {
	Index        int          `json:"index"`
	Delta        *openAIDelta `json:"delta,omitempty"`
	Message      *openAIDelta `json:"message,omitempty"`
	Logprobs     any          `json:"logprobs"`
	FinishReason *string      `json:"finish_reason"`
}

type openAIChunk struct {
	ID                string         `json:"id"`
	Object            string         `json:"object"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	SystemFingerprint string         `json:"system_fingerprint"`
	Choices           []openAIChoice `json:"choices"`
	Usage             *openAIUsage   `json:"usage,omitempty"`
}

func (c *completion) chunk(object string, choices ...openAIChoice) openAIChunk {
	if choices == nil {
		choices = []openAIChoice{}
	}
	return openAIChunk{ID: fmt.Sprintf("chatcmpl-%d", c.start.UnixNano()), Object: object,
		Created: c.start.Unix(), Model: c.req.Model, SystemFingerprint: "fp_modeltest", Choices: choices}
}

func (c *completion) usageOf(pieces int) *openAIUsage {
	p, e := c.reply.promptTokens(c.req), c.reply.evalTokens(pieces)
	return &openAIUsage{PromptTokens: p, CompletionTokens: e, TotalTokens: p + e}
}

// whole answers with one chat.completion object ("stream": false).
func (c *completion) whole() {
	pieces := c.reply.pieces()
	if !wait(c.reply.FirstDelay+time.Duration(len(pieces))*c.reply.Delay, c.o.done) {
		return
	}
	switch {
	case c.reply.Stall:
		newStreamer(c.w, "application/json")
		hold(c.r, c.o.done)
		return
	case c.reply.CutAfter > 0:
		abort()
	case c.reply.Garbage:
		c.w.Header().Set("Content-Type", "application/json")
		_, _ = c.w.Write([]byte("<html>this is not JSON</html>\n"))
		return
	}
	content, reason := c.reply.Content, c.reply.doneReason()
	out := c.chunk("chat.completion", openAIChoice{
		Message:      &openAIDelta{Role: "assistant", Content: &content},
		FinishReason: &reason,
	})
	out.Usage = c.usageOf(len(pieces))
	writeJSON(c.w, http.StatusOK, out)
}

// stream answers with server-sent events: a role chunk, one chunk per piece,
// a finish chunk, a usage chunk when asked for, and [DONE].
func (c *completion) stream() {
	pieces := c.reply.pieces()
	stopAt := -1
	if c.reply.CutAfter > 0 {
		stopAt = c.reply.CutAfter
	} else if c.reply.Stall {
		stopAt = 0
	}
	st := newStreamer(c.w, "text/event-stream; charset=utf-8")
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		return st.write(fmt.Appendf(nil, "data: %s\n\n", b))
	}
	empty := ""
	if !send(c.chunk("chat.completion.chunk", openAIChoice{Delta: &openAIDelta{Role: "assistant", Content: &empty}})) {
		return
	}
	for i := 0; i <= len(pieces); i++ {
		if i == stopAt || (i == len(pieces) && stopAt > len(pieces)) {
			if c.reply.Stall {
				hold(c.r, c.o.done)
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
		if !wait(d, c.o.done) {
			return
		}
		if c.reply.Garbage && i == len(pieces)/2 && !st.write([]byte("data: this is not JSON\n\n")) {
			return
		}
		if !send(c.chunk("chat.completion.chunk", openAIChoice{Delta: &openAIDelta{Content: &pieces[i]}})) {
			return
		}
	}
	reason := c.reply.doneReason()
	if !send(c.chunk("chat.completion.chunk", openAIChoice{Delta: &openAIDelta{}, FinishReason: &reason})) {
		return
	}
	if c.usage {
		u := c.chunk("chat.completion.chunk")
		u.Usage = c.usageOf(len(pieces))
		if !send(u) {
			return
		}
	}
	st.write([]byte("data: [DONE]\n\n"))
}
