// Package replay is a model provider that answers every call from the
// record of an earlier run: first by the hash of the request (the same
// request gets the same answer), then by position (the same step, attempt
// and call number). A call answered by position is a divergence: the
// request differed from the recorded one, and Divergences says how.
package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"factorydesk/backend"
)

// Call is one recorded model call with its request and answer.
type Call struct {
	backend.ModelCall
	Request []byte // the stored request (backend.StoredRequest as JSON)
	Answer  string
}

// Divergence is a call whose request differed from the recorded one.
type Divergence struct {
	StepID  string `json:"step"`
	Attempt int    `json:"attempt"`
	Seq     int    `json:"seq"`
	Reason  string `json:"reason"` // what differed, or why no answer was found
}

// Record answers calls from a run's recorded calls. It is safe for
// concurrent use; Provider gives it the name of each provider it stands in
// for.
type Record struct {
	mu          sync.Mutex
	byHash      map[string][]*Call // unused calls by prompt hash, in record order
	byPos       map[pos]*Call
	used        map[*Call]bool
	seq         map[pos]int // calls made so far per (step, attempt); key seq 0
	divergences []Divergence
	answered    int
}

type pos struct {
	step    string
	attempt int
	seq     int
}

// New returns a Record of calls (a run's, in any order).
func New(calls []Call) *Record {
	r := &Record{byHash: map[string][]*Call{}, byPos: map[pos]*Call{}, used: map[*Call]bool{}, seq: map[pos]int{}}
	for i := range calls {
		c := &calls[i]
		r.byHash[c.PromptHash] = append(r.byHash[c.PromptHash], c)
		r.byPos[pos{c.StepID, c.Attempt, c.Seq}] = c
	}
	return r
}

// Load reads a run's calls with their requests and answers from store.
func Load(ctx context.Context, store backend.Store, runID string) (*Record, *backend.RunDetail, error) {
	d, err := store.Run(ctx, runID)
	if err != nil {
		return nil, nil, err
	}
	calls := make([]Call, 0, len(d.Calls))
	for _, mc := range d.Calls {
		c := Call{ModelCall: mc}
		if mc.PromptHash != "" {
			if c.Request, err = store.Blob(ctx, mc.PromptHash); err != nil {
				return nil, nil, err
			}
		}
		if mc.AnswerHash != "" {
			a, err := store.Blob(ctx, mc.AnswerHash)
			if err != nil {
				return nil, nil, err
			}
			c.Answer = string(a)
		}
		calls = append(calls, c)
	}
	return New(calls), d, nil
}

// Provider returns a backend.Provider named name answering from r.
func (r *Record) Provider(name string) backend.Provider { return &provider{name: name, r: r} }

// Divergences returns the calls whose request differed, in the order made.
func (r *Record) Divergences() []Divergence {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Divergence(nil), r.divergences...)
}

// Answered returns how many calls were answered.
func (r *Record) Answered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answered
}

type provider struct {
	name string
	r    *Record
}

// Name implements backend.Provider.
func (p *provider) Name() string { return p.name }

// List implements backend.Provider: a replay offers no models of its own.
func (p *provider) List(context.Context) ([]backend.ModelInfo, error) { return nil, nil }

// Chat implements backend.Provider: the recorded answer of this request.
func (p *provider) Chat(ctx context.Context, req backend.ChatRequest, onToken func(string)) (backend.ChatResponse, error) {
	if err := ctx.Err(); err != nil {
		return backend.ChatResponse{}, backend.WrapError(backend.ECANCELED, err, "replay canceled")
	}
	data, hash, err := backend.RequestBlob(req)
	if err != nil {
		return backend.ChatResponse{}, err
	}
	site, _ := backend.CallSiteFrom(ctx)
	c, err := p.r.answer(site, hash, data)
	if err != nil {
		return backend.ChatResponse{}, err
	}
	if c.Error != "" {
		if len(req.Tools) > 0 && strings.Contains(c.Error, backend.ErrToolsUnsupported.Error()) {
			// The model could not call tools: the attempt answers without them, as it did.
			return backend.ChatResponse{}, backend.WrapError(backend.EINVALID, backend.ErrToolsUnsupported, "recorded call failed: %s", c.Error)
		}
		return backend.ChatResponse{}, backend.Errorf(backend.EINTERNAL, "recorded call failed: %s", c.Error)
	}
	if onToken != nil && c.Answer != "" {
		onToken(c.Answer)
	}
	model := c.Model
	return backend.ChatResponse{Content: c.Answer, Model: model, InputTokens: c.TokensIn,
		OutputTokens: c.TokensOut, DoneReason: c.DoneReason}, nil
}

// answer finds the recorded call for a request made at site.
func (r *Record) answer(site backend.CallSite, hash string, data []byte) (*Call, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := pos{site.StepID, site.Attempt, 0}
	r.seq[k]++
	at := pos{site.StepID, site.Attempt, r.seq[k]}
	if c := r.takeHash(hash, at); c != nil {
		r.answered++
		return c, nil
	}
	c, ok := r.byPos[at]
	if !ok {
		reason := fmt.Sprintf("no call %d of attempt %d of step %s was recorded", at.seq, at.attempt, at.step)
		r.divergences = append(r.divergences, Divergence{StepID: at.step, Attempt: at.attempt, Seq: at.seq, Reason: reason})
		return nil, backend.Errorf(backend.ENOTFOUND, "replay: %s, and no recorded call has this request", reason)
	}
	r.used[c] = true
	r.answered++
	r.divergences = append(r.divergences, Divergence{StepID: at.step, Attempt: at.attempt, Seq: at.seq,
		Reason: RequestDiff(c.Request, data)})
	return c, nil
}

// takeHash returns an unused call with this hash, preferring the one at the
// same position, and marks it used.
func (r *Record) takeHash(hash string, at pos) *Call {
	cands := r.byHash[hash]
	pick := -1
	for i, c := range cands {
		if r.used[c] {
			continue
		}
		if pick < 0 {
			pick = i
		}
		if c.StepID == at.step && c.Attempt == at.attempt && c.Seq == at.seq {
			pick = i
			break
		}
	}
	if pick < 0 {
		// Every call with this request was used: the same request again
		// gets the same answer.
		if len(cands) > 0 {
			return cands[0]
		}
		return nil
	}
	r.used[cands[pick]] = true
	return cands[pick]
}

// RequestDiff says how a request differs from the recorded one: which
// message (or the schema, or the options) and its first differing line.
func RequestDiff(recorded, now []byte) string {
	var a, b backend.StoredRequest
	if err := json.Unmarshal(recorded, &a); err != nil {
		return "the recorded request cannot be read: " + err.Error()
	}
	if err := json.Unmarshal(now, &b); err != nil {
		return "the request cannot be read: " + err.Error()
	}
	if len(a.Messages) != len(b.Messages) {
		return fmt.Sprintf("the request has %d messages, the recorded one %d", len(b.Messages), len(a.Messages))
	}
	for i := range a.Messages {
		ma, mb := a.Messages[i], b.Messages[i]
		if ma.Role != mb.Role {
			return fmt.Sprintf("message %d is from %s, was from %s", i+1, mb.Role, ma.Role)
		}
		if ma.Content != mb.Content {
			line, was, is := FirstDiffLine(ma.Content, mb.Content)
			return fmt.Sprintf("the %s message differs at line %d: was %q, is %q", ma.Role, line, was, is)
		}
	}
	if string(a.Schema) != string(b.Schema) {
		return "the answer schema differs"
	}
	ao, _ := json.Marshal(a.Options)
	bo, _ := json.Marshal(b.Options)
	if string(ao) != string(bo) {
		return fmt.Sprintf("the model options differ: were %s, are %s", ao, bo)
	}
	return "the request differs only in encoding"
}

// FirstDiffLine returns the 1-based number of the first line where a and b
// differ, and that line in each ("" past the end).
func FirstDiffLine(a, b string) (int, string, string) {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y || i >= len(la) || i >= len(lb) {
			return i + 1, x, y
		}
	}
	return 0, "", ""
}
