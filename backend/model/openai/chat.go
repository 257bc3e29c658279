package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/internal/callwatch"
)

// maxEvent is the longest server-sent event line read.
const maxEvent = 8 << 20

// chunk is one streamed chat.completion.chunk, or a whole chat.completion.
type chunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content   string     `json:"content"`
			ToolCalls []toolCall `json:"tool_calls"`
		} `json:"delta"`
		Message struct {
			Content   string     `json:"content"`
			ToolCalls []toolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// answer accumulates a streamed answer.
type answer struct {
	start    time.Time
	out      backend.ChatResponse
	content  strings.Builder
	onToken  func(string)
	calls    calls
	limit    *callwatch.AnswerLimit
	server   string
	finished bool // a finish_reason arrived
	done     bool // [DONE] arrived
}

// pieceBytes is what one tool call piece counts against the answer's
// limit: its text, and a fixed share for the record it adds.
func pieceBytes(calls []toolCall) int {
	n := 0
	for _, tc := range calls {
		n += 64 + len(tc.ID) + len(tc.Function.Name) + len(tc.Function.Arguments)
	}
	return n
}

// add takes one chunk; whole is true for a non-streamed completion. It
// fails, taking nothing of the chunk, when the answer would pass its limit.
func (a *answer) add(c chunk, whole bool) error {
	n := 0
	for _, ch := range c.Choices {
		n += len(ch.Delta.Content) + len(ch.Message.Content) + pieceBytes(ch.Delta.ToolCalls) + pieceBytes(ch.Message.ToolCalls)
	}
	if err := a.limit.Add(n, a.server); err != nil {
		return err
	}
	if c.Model != "" {
		a.out.Model = c.Model
	}
	if c.Usage != nil {
		a.out.InputTokens = c.Usage.PromptTokens
		a.out.OutputTokens = c.Usage.CompletionTokens
	}
	for _, ch := range c.Choices {
		piece := ch.Delta.Content
		if whole {
			piece = ch.Message.Content
			a.calls.add(ch.Message.ToolCalls, true)
		} else {
			a.calls.add(ch.Delta.ToolCalls, false)
		}
		if piece != "" {
			if a.content.Len() == 0 {
				a.out.FirstToken = time.Since(a.start)
			}
			a.content.WriteString(piece)
			if a.onToken != nil {
				a.onToken(piece)
			}
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			a.finished = true
			a.out.DoneReason = *ch.FinishReason
		}
	}
	return nil
}

// Chat streams one answer. onToken, when not nil, gets each piece of it.
func (p *Provider) Chat(ctx context.Context, req backend.ChatRequest, onToken func(string)) (backend.ChatResponse, error) {
	a := &answer{start: time.Now(), onToken: onToken, limit: callwatch.NewAnswerLimit(req.MaxAnswerBytes), server: p.server()}
	call := callwatch.Begin(ctx, p.stall, p.total)
	defer call.End()
	resp, err := p.do(call, http.MethodPost, "/chat/completions", body(req), req.Model)
	if err == nil {
		err = p.read(resp, a)
		resp.Body.Close()
	}
	a.out.Content = a.content.String()
	a.out.ToolCalls = a.calls.result()
	a.out.Duration = time.Since(a.start)
	if err == nil && !a.done && !a.finished {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		return a.out, nil
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return a.out, err
	}
	if ierr := call.Interrupted(p.server()); ierr != nil {
		return a.out, ierr
	}
	return a.out, callwatch.Cut(p.server(), a.content.Len(), err)
}

// read reads the answer: server-sent events, or one JSON completion from a
// server that does not stream.
func (p *Provider) read(resp *http.Response, a *answer) error {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		// JSON escapes take up to 6 bytes a character.
		var c chunk
		if err := json.NewDecoder(io.LimitReader(resp.Body, 6*int64(a.limit.Max())+maxEvent)).Decode(&c); err != nil {
			return p.malformed(err, a)
		}
		a.done = true
		return a.add(c, true)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEvent)
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 {
			if rest, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				if len(data) > 0 {
					data = append(data, '\n')
				}
				data = append(data, bytes.TrimPrefix(rest, []byte(" "))...)
				if len(data) > maxEvent {
					return backend.Errorf(backend.EINVALID, "%s sent a stream event over %d bytes", p.server(), maxEvent)
				}
			}
			continue // comments (":"), event:, id:, retry:
		}
		if len(data) == 0 {
			continue
		}
		if err := p.event(data, a); err != nil || a.done {
			return err
		}
		data = data[:0]
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(data) > 0 {
		return p.event(data, a)
	}
	return nil
}

// event handles the data of one server-sent event.
func (p *Provider) event(data []byte, a *answer) error {
	if string(data) == "[DONE]" {
		a.done = true
		return nil
	}
	var c chunk
	if err := json.Unmarshal(data, &c); err != nil {
		return p.malformed(err, a)
	}
	if c.Error != nil {
		return backend.Errorf(backend.EINTERNAL, "%s sent an error mid-answer (%d bytes received): %s",
			p.server(), a.content.Len(), c.Error.Message)
	}
	return a.add(c, false)
}

func (p *Provider) malformed(err error, a *answer) error {
	return backend.WrapError(backend.EINTERNAL, err,
		"%s sent a stream event that is not JSON (%d bytes received)", p.server(), a.content.Len())
}
