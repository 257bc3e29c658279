package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
)

// contractTokens is the estimated size of the output contract and headings
// every context package carries besides the role's prompt and sections.
const contractTokens = 300

// Estimate is what a run is expected to use at most: every step's context
// package (role prompt, sections, contract) times its attempts (1 + retries).
type Estimate struct {
	Tokens  int            `json:"tokens"`
	Calls   int            `json:"calls"`
	PerStep map[string]int `json:"per_step"` // tokens by step id
}

// Over returns, for each limit of b the estimate exceeds, a phrase such as
// "max_tokens 400000 (estimate 520000)"; none when it fits.
func (est Estimate) Over(b backend.Budget) []string {
	var over []string
	if b.MaxTokens > 0 && est.Tokens > b.MaxTokens {
		over = append(over, fmt.Sprintf("max_tokens %d (estimate %d)", b.MaxTokens, est.Tokens))
	}
	if b.MaxCalls > 0 && est.Calls > b.MaxCalls {
		over = append(over, fmt.Sprintf("max_calls %d (estimate %d)", b.MaxCalls, est.Calls))
	}
	return over
}

// EstimateRun estimates a run of bp: the steps its scope enables, each
// step's context package in tokens (about one per 4 bytes) times 1 + its
// retries. Upstream files are not known before the run and not counted.
func EstimateRun(bp *backend.Blueprint, roles map[string]*backend.Role) Estimate {
	est := Estimate{PerStep: map[string]int{}}
	for i := range bp.Steps {
		st := &bp.Steps[i]
		if !bp.Enabled(st) {
			continue
		}
		bytes := len(bp.Title) + len(bp.ID)
		if r := roles[st.Role]; r != nil {
			bytes += len(r.Prompt)
		}
		for _, name := range st.Uses {
			if sec, ok := bp.Section(name); ok {
				bytes += len(sec.Text)
			}
		}
		for _, w := range st.Writes {
			bytes += len(w) + 8
		}
		tries := 1 + max(st.Retries, 0)
		tokens := ((bytes+3)/4 + contractTokens) * tries
		est.PerStep[st.ID] = tokens
		est.Tokens += tokens
		est.Calls += tries
	}
	return est
}

// String is the estimate as one line.
func (est Estimate) String() string {
	return fmt.Sprintf("estimate: %d tokens, %d model calls at most", est.Tokens, est.Calls)
}

// budget tracks what a run used against its blueprint's limits. It is safe
// for concurrent use by the step workers.
type budget struct {
	limits backend.Budget
	now    func() time.Time
	start  time.Time
	minute time.Duration // a minute of max_minutes (shorter in tests)

	mu       sync.Mutex
	tokens   int
	calls    int
	exceeded string // the first limit exceeded, as the run's reason
}

func newBudget(limits backend.Budget, now func() time.Time, run *backend.Run) *budget {
	return &budget{limits: limits, now: now, start: now(), minute: time.Minute, tokens: run.TokensIn + run.TokensOut, calls: run.Calls}
}

// attemptContext is ctx for attempt n of step: with max_minutes, it is
// canceled when the run's time is up, so a long model call or gate stops
// then rather than at the attempt's end, and check reports the limit.
func (b *budget) attemptContext(ctx context.Context, step string, n int) (context.Context, context.CancelFunc) {
	if b.limits.MaxMinutes <= 0 {
		return ctx, func() {}
	}
	actx, cancel := context.WithCancel(ctx)
	left := time.Duration(b.limits.MaxMinutes)*b.minute - b.now().Sub(b.start)
	t := time.AfterFunc(max(left, 0), func() {
		b.mu.Lock()
		if b.exceeded == "" {
			b.exceeded = fmt.Sprintf("budget max_minutes %d exceeded at step %s attempt %d", b.limits.MaxMinutes, step, n)
		}
		b.mu.Unlock()
		cancel()
	})
	return actx, func() { t.Stop(); cancel() }
}

// add counts what an attempt used.
func (b *budget) add(tokens, calls int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens += tokens
	b.calls += calls
}

// check returns why the run must stop, naming the limit and where it was
// found exceeded, or "" while every limit holds. The first reason sticks.
func (b *budget) check(step string, attempt int) string { return b.checkAt(step, attempt, false) }

// checkStart is check before attempt starts: its call must fit max_calls.
func (b *budget) checkStart(step string, attempt int) string { return b.checkAt(step, attempt, true) }

func (b *budget) checkAt(step string, attempt int, starting bool) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.exceeded != "" {
		return b.exceeded
	}
	var limit string
	switch {
	case b.limits.MaxTokens > 0 && b.tokens > b.limits.MaxTokens:
		limit = fmt.Sprintf("max_tokens %d", b.limits.MaxTokens)
	case b.limits.MaxCalls > 0 && (b.calls > b.limits.MaxCalls || starting && b.calls >= b.limits.MaxCalls):
		limit = fmt.Sprintf("max_calls %d", b.limits.MaxCalls)
	case b.limits.MaxMinutes > 0 && b.now().Sub(b.start) > time.Duration(b.limits.MaxMinutes)*b.minute:
		limit = fmt.Sprintf("max_minutes %d", b.limits.MaxMinutes)
	default:
		return ""
	}
	b.exceeded = fmt.Sprintf("budget %s exceeded at step %s attempt %d", limit, step, attempt)
	return b.exceeded
}

// reason is the first limit exceeded, or "".
func (b *budget) reason() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exceeded
}

// isBudget reports whether a step's failure is the budget's.
func isBudget(msg string) bool { return strings.HasPrefix(msg, "budget ") }

// callTokens sums the tokens (in and out) of an attempt's calls.
func callTokens(calls []backend.CallRecord) int {
	n := 0
	for _, c := range calls {
		n += c.Response.InputTokens + c.Response.OutputTokens
	}
	return n
}
