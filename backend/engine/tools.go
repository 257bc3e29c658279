package engine

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"factorydesk/backend"
	"factorydesk/backend/trace"
	"factorydesk/backend/validate"
)

// KindTool is the event of a tool call that ended: Message names the tool
// and its arguments, Status is ok, error or refused.
const KindTool = "tool"

// Span attributes of tool calls and turns, besides the GenAI conventions'.
const (
	AttrTurn       = "factory.turn"               // int, the turn of an attempt's conversation
	AttrToolStatus = "factory.tool.status"        // ok, error or refused
	AttrToolArgs   = "factory.tool.args.sha256"   // blob of a tool call's arguments
	AttrToolResult = "factory.tool.result.sha256" // blob of what the model was told
)

// toolSetup gives an attempt of r what its tools need: the turn limit, the
// view of the output folder (not the files of the step itself nor of steps
// that do not come before it), the step's gates for run_checks, and the
// budget.
func (r *stepRun) toolSetup(req *backend.AttemptRequest) {
	s := r.s
	req.Tools.MaxTurns = s.opts.Blueprint.StepMaxTurns(r.step, req.Role)
	i := r.res.index
	anc := map[int]bool{}
	s.g.ancestors[i].each(func(j int) { anc[j] = true })
	for j, st := range s.g.steps {
		if !anc[j] && len(st.Writes) > 0 {
			req.Tools.Unseen = append(req.Tools.Unseen, st.Writes)
		}
	}
	if cmds := r.step.Validate; len(cmds) > 0 {
		req.Tools.Checks = func(ctx context.Context, dir string) []backend.GateResult {
			return validate.RunGates(ctx, dir, cmds, s.gateOptions())
		}
	}
}

// live counts what an attempt recorded as it went, so that what the
// Attempter did not report live is recorded after it returns.
type live struct{ calls, tools int }

// liveRecords makes the attempt record its model calls and tool calls as
// they end, and ask the budget before each call after its first.
func (r *stepRun) liveRecords(req *backend.AttemptRequest) *live {
	l := &live{}
	n := req.Attempt
	req.Tools.OnCall = func(c backend.CallRecord) {
		r.recordCalls(n, []backend.CallRecord{c})
		l.calls++
	}
	req.Tools.OnTool = func(t backend.ToolRecord) {
		r.recordTools(n, []backend.ToolRecord{t})
		l.tools++
	}
	req.Tools.Budget = func(tokens, calls int) error {
		if reason := r.s.budget.within(r.step.ID, n, tokens, calls); reason != "" {
			return backend.Errorf(backend.ECONFLICT, "%s", reason)
		}
		return nil
	}
	return l
}

// recordTools queues each tool call's arguments, result and record for the
// store, and reports it.
func (r *stepRun) recordTools(attempt int, recs []backend.ToolRecord) {
	s := r.s
	for _, t := range recs {
		u := &backend.ToolUse{RunID: s.run.ID, StepID: r.step.ID, Attempt: attempt, Seq: t.Seq, Turn: t.Turn,
			CallID: t.CallID, Name: t.Name, Status: t.Status, Duration: t.Duration, StartedAt: t.StartedAt}
		args, result := []byte(t.Arguments), []byte(t.Result)
		s.rec.do(func(ctx context.Context, st backend.Store) (err error) {
			if u.ArgsHash, err = st.PutBlob(ctx, args); err != nil {
				return err
			}
			if u.ResultHash, err = st.PutBlob(ctx, result); err != nil {
				return err
			}
			return st.RecordToolUse(ctx, u)
		})
		s.e.emit(Event{Kind: KindTool, RunID: s.run.ID, StepID: r.step.ID, Attempt: attempt, Status: t.Status,
			Message: toolLine(t), Duration: t.Duration})
	}
}

// toolLine names a tool call and its arguments on one short line.
func toolLine(t backend.ToolRecord) string {
	line := fmt.Sprintf("%s %s", t.Name, t.Arguments)
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	return line
}

// within reports why the run must stop before an attempt that has used
// tokens and calls makes one more call, or "" while the budget holds.
func (b *budget) within(step string, attempt, tokens, calls int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.exceeded != "" {
		return b.exceeded
	}
	var limit string
	switch {
	case b.limits.MaxTokens > 0 && b.tokens+tokens > b.limits.MaxTokens:
		limit = fmt.Sprintf("max_tokens %d", b.limits.MaxTokens)
	case b.limits.MaxCalls > 0 && b.calls+calls >= b.limits.MaxCalls:
		limit = fmt.Sprintf("max_calls %d", b.limits.MaxCalls)
	default:
		return ""
	}
	b.exceeded = fmt.Sprintf("budget %s exceeded at step %s attempt %d", limit, step, attempt)
	return b.exceeded
}

// toolSpans records an attempt's tool calls as execute_tool spans under
// its span, with their own times.
func (t *runTrace) toolSpans(ctx context.Context, tools []backend.ToolRecord, redact func(string) string) {
	if t == nil {
		return
	}
	for _, tc := range tools {
		_, span := t.tracer.Start(ctx, trace.OpExecuteTool+" "+tc.Name, oteltrace.WithTimestamp(tc.StartedAt),
			oteltrace.WithSpanKind(oteltrace.SpanKindInternal), oteltrace.WithAttributes(
				attribute.String(trace.AttrGenAIOperationName, trace.OpExecuteTool),
				attribute.String(trace.AttrGenAIToolName, tc.Name),
				attribute.String(trace.AttrGenAIToolCallID, tc.CallID),
				attribute.String(trace.AttrGenAIToolType, "function"),
				attribute.Int(AttrTurn, tc.Turn),
				attribute.String(AttrToolStatus, tc.Status),
				attribute.String(AttrToolArgs, sha([]byte(redact(string(tc.Arguments))))),
				attribute.String(AttrToolResult, sha([]byte(redact(tc.Result)))),
			))
		if tc.Status == backend.ToolOK {
			span.SetStatus(codes.Ok, "")
		} else {
			span.SetAttributes(attribute.String(trace.AttrErrorType, tc.Status))
			span.SetStatus(codes.Error, firstLineOf(tc.Result))
		}
		span.End(oteltrace.WithTimestamp(tc.StartedAt.Add(max(tc.Duration, time.Nanosecond))))
	}
}
