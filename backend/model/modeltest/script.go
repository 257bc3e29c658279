// Package modeltest runs model servers for tests: real HTTP servers on
// 127.0.0.1 that speak Ollama's protocol (NewOllama) or the OpenAI chat
// completions protocol (NewOpenAI), answering as each test scripts them,
// including slow, broken, stalled and failing answers.
//
// A test scripts the answers with Enqueue (a FIFO of replies, used first) and
// Respond (a function that answers whatever the queue does not). With
// neither, a chat call gets HTTP 500 "no reply scripted".
package modeltest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
)

// DefaultModel is the model each server offers from the start.
const DefaultModel = "qwen2.5-coder:7b"

// Request is what one chat call asked for.
type Request struct {
	Model    string            `json:"model"`
	Messages []backend.Message `json:"messages"`
	// Format is the JSON schema asked for: Ollama's "format", or the
	// schema of OpenAI's response_format.
	Format json.RawMessage `json:"format,omitempty"`
	// Options are Ollama's "options", or OpenAI's sampling fields
	// (temperature, seed, top_p, max_tokens, ...).
	Options map[string]any `json:"options,omitempty"`
	// Tools are the tools offered: Ollama's "tools", or OpenAI's.
	Tools  []backend.Tool `json:"tools,omitempty"`
	Stream bool           `json:"stream"`
	// Body is the request body as sent.
	Body json.RawMessage `json:"body"`
}

// ChatRequestRecord is the record of one chat call, as Requests returns it.
type ChatRequestRecord = Request

// Reply scripts one answer. The zero Reply is an empty, complete answer.
type Reply struct {
	Content string // the whole answer
	// ToolCalls are the tools the model calls, after Content, each
	// streamed as its server streams them (see ToolCall). A call with no
	// ID gets one made up as the server makes them.
	ToolCalls  []backend.ToolCall
	Chunks     int           // stream it in this many pieces; 0 means about 8 characters a piece
	Delay      time.Duration // pause before each piece
	FirstDelay time.Duration // extra pause before the first piece
	Status     int           // answer with this HTTP error status instead
	Error      string        // the error message for Status (default: the status text)
	CutAfter   int           // close the connection after this many pieces, with no final message
	Garbage    bool          // send a line that is not JSON halfway through the stream
	// Stall stops sending after CutAfter pieces (headers only when 0) and
	// holds the connection open until the client gives up.
	Stall        bool
	PromptTokens int // tokens reported for the prompt (default: about one per 4 bytes)
	// EvalTokens is the number of tokens reported for the answer. As in
	// Ollama, it counts tokens, not the pieces streamed (a piece may hold
	// several tokens); the default is about one per 4 bytes of Content.
	EvalTokens int
	DoneReason string // "stop" unless set
}

// FilesAnswer returns a JSON answer in the factory's structured output
// format: {"files":[{"path","content"}],"notes"}, files sorted by path.
func FilesAnswer(files map[string]string, notes string) string {
	type file struct {
		Path    string `json:"path"`
		Content string `json:"content"`
	}
	ans := struct {
		Files []file `json:"files"`
		Notes string `json:"notes"`
	}{Files: []file{}, Notes: notes}
	for p, c := range files {
		ans.Files = append(ans.Files, file{Path: p, Content: c})
	}
	sort.Slice(ans.Files, func(i, j int) bool { return ans.Files[i].Path < ans.Files[j].Path })
	b, err := json.Marshal(ans)
	if err != nil {
		panic(err) // strings always marshal
	}
	return string(b)
}

// script holds a server's scripted replies and the requests it received.
type script struct {
	mu        sync.Mutex
	queue     []Reply
	responder func(Request) Reply
	requests  []Request
}

// Respond sets the function that answers chat calls the queue does not.
func (s *script) Respond(fn func(req Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = fn
}

// Enqueue appends replies to the queue; each answers one chat call, in order.
func (s *script) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// Requests returns what each chat call asked, in order of arrival.
func (s *script) Requests() []ChatRequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// record keeps req for Requests.
func (s *script) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// next records req and returns its reply.
func (s *script) next(req Request) Reply {
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var fn func(Request) Reply
	if len(s.queue) > 0 {
		r := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return r
	}
	fn = s.responder
	s.mu.Unlock()
	if fn == nil {
		return Reply{Status: http.StatusInternalServerError, Error: "no reply scripted"}
	}
	return fn(req)
}

// pieces splits the reply's content into the pieces to stream, as evenly as
// the characters allow.
func (r Reply) pieces() []string {
	if r.Content == "" {
		return nil
	}
	runes := []rune(r.Content)
	n := r.Chunks
	if n <= 0 {
		n = (len(runes) + 7) / 8
	}
	n = min(n, len(runes))
	out := make([]string, 0, n)
	for i := range n {
		size := len(runes) / (n - i)
		out = append(out, string(runes[:size]))
		runes = runes[size:]
	}
	return out
}

// promptTokens is the reported prompt size.
func (r Reply) promptTokens(req Request) int {
	if r.PromptTokens > 0 {
		return r.PromptTokens
	}
	n := 0
	for _, m := range req.Messages {
		n += len(m.Content)
	}
	return n/4 + 1
}

// evalTokens is the reported answer size.
func (r Reply) evalTokens() int {
	if r.EvalTokens > 0 {
		return r.EvalTokens
	}
	n := EstimateTokens(r.Content)
	for _, c := range r.ToolCalls {
		n += EstimateTokens(c.Name) + EstimateTokens(string(c.Arguments))
	}
	return n
}

// EstimateTokens is the token count the servers report for a text when the
// reply does not set one: about one token per 4 bytes, at least one for a
// text that is not empty.
func EstimateTokens(s string) int {
	return (len(s) + 3) / 4
}

// doneReason is the reported reason the answer ended.
func (r Reply) doneReason() string {
	if r.DoneReason != "" {
		return r.DoneReason
	}
	return "stop"
}

// errorText is the message of an error reply.
func (r Reply) errorText() string {
	if r.Error != "" {
		return r.Error
	}
	return http.StatusText(r.Status)
}

// wait pauses for d, returning false if done closes first.
func wait(d time.Duration, done <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// normalizeName adds Ollama's default tag to a bare model name.
func normalizeName(name string) string {
	if name == "" {
		return name
	}
	if i := strings.LastIndex(name, ":"); i < 0 || strings.Contains(name[i:], "/") {
		return name + ":latest"
	}
	return name
}
