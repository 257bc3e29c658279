package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"factorydesk/backend"
	"factorydesk/backend/trace"
)

// TracerScope is the instrumentation scope of the engine's spans.
const TracerScope = "factorydesk/engine"

// Span attributes the engine adds to trace's: links from a span to the
// blob store and to the runs a run comes from.
const (
	AttrPromptHash = "factory.prompt.sha256" // blob of the model request
	AttrAnswerHash = "factory.answer.sha256" // blob of the model's answer
	AttrFileHash   = "factory.file.sha256"   // blob of a written file
	AttrSections   = "factory.sections"      // section ids a step uses
	AttrRunKind    = "factory.run.kind"      // "", replay, fork
	AttrParentRun  = "factory.run.parent"    // the run a replay or fork comes from
	AttrSourceRun  = "factory.source_run"    // the run a reused step's outputs come from
	AttrCacheKey   = "factory.cache_key"     // the step's cache key
	AttrGatePassed = "factory.gate.passed"   // bool
	AttrExitCode   = "process.exit.code"     // int, a gate command's exit status
)

// Span names of the engine's own operations.
const (
	SpanGate  = "gate"  // "gate <command or check>"
	SpanWrite = "write" // "write <path>"
)

// attemptKey names one step attempt of a run.
type attemptKey struct {
	step    string
	attempt int
}

// runTrace makes the spans of one run: the run, each step attempt
// (invoke_agent), each model call (chat), each gate and each file write.
type runTrace struct {
	tracer oteltrace.Tracer
	span   oteltrace.Span // the run's
	ctx    context.Context

	mu       sync.Mutex
	attempts map[attemptKey]oteltrace.Span
}

// startTrace starts the run's span and returns ctx carrying it.
func (e *Engine) startTrace(ctx context.Context, run *backend.Run) (context.Context, *runTrace) {
	tracer := e.cfg.Tracer
	if tracer == nil {
		tracer = noop.NewTracerProvider().Tracer(TracerScope)
	}
	attrs := []attribute.KeyValue{
		attribute.String(trace.AttrGenAIOperationName, trace.OpInvokeWorkflow),
		attribute.String(trace.AttrGenAIWorkflowName, run.BlueprintID),
		attribute.String(trace.AttrBlueprint, run.BlueprintID),
		attribute.String(trace.AttrBlueprintVersion, run.BlueprintVersion),
		attribute.String(trace.AttrGenAIRequestModel, run.Model),
	}
	if run.Kind != "" {
		attrs = append(attrs, attribute.String(AttrRunKind, run.Kind), attribute.String(AttrParentRun, run.ParentID))
	}
	ctx, span := trace.StartRun(ctx, tracer, run.ID, oteltrace.WithTimestamp(run.StartedAt), oteltrace.WithAttributes(attrs...))
	return ctx, &runTrace{tracer: tracer, span: span, ctx: ctx, attempts: map[attemptKey]oteltrace.Span{}}
}

// end ends the run's span with the run's outcome.
func (t *runTrace) end(run *backend.Run) {
	if t == nil {
		return
	}
	t.span.SetAttributes(
		attribute.Int(trace.AttrGenAIUsageInputTokens, run.TokensIn),
		attribute.Int(trace.AttrGenAIUsageOutputTokens, run.TokensOut),
		attribute.String("factory.run.status", run.Status))
	setStatus(t.span, run.Status, run.Error)
	t.span.End(endAt(run.EndedAt))
}

// startAttempt starts an attempt's invoke_agent span and returns ctx
// carrying it and the attempt's call site.
func (t *runTrace) startAttempt(ctx context.Context, r *stepRun, a *backend.Attempt) context.Context {
	ctx = backend.WithCallSite(ctx, backend.CallSite{RunID: a.RunID, StepID: a.StepID, Attempt: a.N})
	if t == nil {
		return ctx
	}
	ctx, span := t.tracer.Start(ctx, trace.OpInvokeAgent+" "+r.step.Role,
		oteltrace.WithTimestamp(a.StartedAt), oteltrace.WithAttributes(
			attribute.String(trace.AttrGenAIOperationName, trace.OpInvokeAgent),
			attribute.String(trace.AttrGenAIAgentName, r.step.Role),
			attribute.String(trace.AttrStep, a.StepID),
			attribute.Int(trace.AttrAttempt, a.N),
			attribute.String(trace.AttrGenAIRequestModel, r.rec.Model),
			attribute.String(trace.AttrBlueprintVersion, r.s.run.BlueprintVersion),
			attribute.StringSlice(AttrSections, r.rec.Sections),
		))
	t.mu.Lock()
	t.attempts[attemptKey{a.StepID, a.N}] = span
	t.mu.Unlock()
	return ctx
}

// attemptDone adds the spans of what the attempt's model calls and writes
// did, as children of its span, with their own times.
func (t *runTrace) attemptDone(ctx context.Context, res backend.AttemptResult, now time.Time) {
	if t == nil {
		return
	}
	for _, c := range res.Calls {
		t.chatSpan(ctx, c)
	}
	for _, f := range res.Files {
		_, span := t.tracer.Start(ctx, SpanWrite+" "+f.Path, oteltrace.WithTimestamp(now), oteltrace.WithAttributes(
			attribute.String(trace.AttrFilePath, f.Path),
			attribute.Int64(trace.AttrBytes, f.Size),
			attribute.String(AttrFileHash, f.SHA256)))
		span.SetStatus(codes.Ok, "")
		span.End(oteltrace.WithTimestamp(now))
	}
}

// chatSpan records one model call with the GenAI semantic conventions.
func (t *runTrace) chatSpan(ctx context.Context, c backend.CallRecord) {
	attrs := []attribute.KeyValue{
		attribute.String(trace.AttrGenAIOperationName, trace.OpChat),
		attribute.String(trace.AttrGenAIProviderName, c.Provider),
		attribute.String(trace.AttrGenAIRequestModel, c.Request.Model),
		attribute.Int(trace.AttrGenAIUsageInputTokens, c.Response.InputTokens),
		attribute.Int(trace.AttrGenAIUsageOutputTokens, c.Response.OutputTokens),
	}
	if c.Response.Model != "" {
		attrs = append(attrs, attribute.String(trace.AttrGenAIResponseModel, c.Response.Model))
	}
	if c.Response.DoneReason != "" {
		attrs = append(attrs, attribute.StringSlice(trace.AttrGenAIResponseFinish, []string{c.Response.DoneReason}))
	}
	if len(c.Request.Schema) > 0 {
		attrs = append(attrs, attribute.String(trace.AttrGenAIOutputType, "json"))
	}
	if c.Turn > 0 {
		attrs = append(attrs, attribute.Int(AttrTurn, c.Turn))
	}
	attrs = append(attrs, optionAttrs(c.Request.Options)...)
	if _, hash, err := backend.RequestBlob(c.Request); err == nil {
		attrs = append(attrs, attribute.String(AttrPromptHash, hash))
	}
	sum := sha256.Sum256([]byte(c.Response.Content))
	attrs = append(attrs, attribute.String(AttrAnswerHash, hex.EncodeToString(sum[:])))
	_, span := t.tracer.Start(ctx, trace.OpChat+" "+c.Request.Model, oteltrace.WithTimestamp(c.StartedAt),
		oteltrace.WithSpanKind(oteltrace.SpanKindClient), oteltrace.WithAttributes(attrs...))
	if c.Err != nil {
		span.SetAttributes(attribute.String(trace.AttrErrorType, backend.ErrorCode(c.Err)))
		span.SetStatus(codes.Error, c.Err.Error())
	} else {
		span.SetStatus(codes.Ok, "")
	}
	end := c.StartedAt.Add(c.Response.Duration)
	if c.Response.Duration <= 0 || c.StartedAt.IsZero() {
		end = time.Now()
	}
	span.End(oteltrace.WithTimestamp(end))
}

// optionAttrs maps the request options the conventions name.
func optionAttrs(opts map[string]any) []attribute.KeyValue {
	var out []attribute.KeyValue
	for k, v := range opts {
		var name string
		switch k {
		case "temperature":
			name = trace.AttrGenAIRequestTemperature
		case "top_p":
			name = trace.AttrGenAIRequestTopP
		case "top_k":
			name = trace.AttrGenAIRequestTopK
		case "seed":
			name = trace.AttrGenAIRequestSeed
		case "num_predict", "max_tokens":
			name = trace.AttrGenAIRequestMaxTokens
		case "stop":
			name = trace.AttrGenAIRequestStop
		default:
			name = "gen_ai.request.option." + k
		}
		switch n := v.(type) {
		case float64:
			if name == trace.AttrGenAIRequestSeed || name == trace.AttrGenAIRequestMaxTokens {
				out = append(out, attribute.Int64(name, int64(n)))
			} else {
				out = append(out, attribute.Float64(name, n))
			}
		case int:
			out = append(out, attribute.Int(name, n))
		case int64:
			out = append(out, attribute.Int64(name, n))
		case string:
			out = append(out, attribute.String(name, n))
		case bool:
			out = append(out, attribute.Bool(name, n))
		case []string:
			out = append(out, attribute.StringSlice(name, n))
		}
	}
	return out
}

// endAttempt ends an attempt's span with its outcome.
func (t *runTrace) endAttempt(a *backend.Attempt) {
	if t == nil {
		return
	}
	t.mu.Lock()
	span, ok := t.attempts[attemptKey{a.StepID, a.N}]
	delete(t.attempts, attemptKey{a.StepID, a.N})
	t.mu.Unlock()
	if !ok {
		return
	}
	setStatus(span, a.Status, a.Error)
	span.End(endAt(a.EndedAt))
}

// gate records a gate that just ended: under its attempt's span, or for a
// blueprint check (step "") under the run's.
func (t *runTrace) gate(stepID string, attempt int, g backend.GateResult, now time.Time) {
	if t == nil {
		return
	}
	parent := t.span
	if stepID != "" {
		t.mu.Lock()
		if sp, ok := t.attempts[attemptKey{stepID, attempt}]; ok {
			parent = sp
		}
		t.mu.Unlock()
	}
	ctx := oteltrace.ContextWithSpan(t.ctx, parent)
	_, span := t.tracer.Start(ctx, SpanGate+" "+g.Name, oteltrace.WithTimestamp(now.Add(-g.Duration)),
		oteltrace.WithAttributes(
			attribute.String(trace.AttrGate, g.Name),
			attribute.String(trace.AttrStep, stepID),
			attribute.Int(trace.AttrAttempt, attempt),
			attribute.Bool(AttrGatePassed, g.Passed),
			attribute.Int(AttrExitCode, g.ExitCode)))
	if g.Passed {
		span.SetStatus(codes.Ok, "")
	} else {
		span.SetStatus(codes.Error, firstLineOf(g.Output))
	}
	span.End(oteltrace.WithTimestamp(now))
}

// reused records a step whose outputs came from another run.
func (t *runTrace) reused(ctx context.Context, r *stepRun, source, key string, files []backend.WrittenFile, start, end time.Time) {
	if t == nil {
		return
	}
	ctx, span := t.tracer.Start(ctx, trace.OpInvokeAgent+" "+r.step.Role, oteltrace.WithTimestamp(start),
		oteltrace.WithAttributes(
			attribute.String(trace.AttrGenAIOperationName, trace.OpInvokeAgent),
			attribute.String(trace.AttrGenAIAgentName, r.step.Role),
			attribute.String(trace.AttrStep, r.step.ID),
			attribute.Bool(trace.AttrCacheHit, true),
			attribute.String(AttrSourceRun, source),
			attribute.String(AttrCacheKey, key),
			attribute.StringSlice(AttrSections, r.rec.Sections)))
	t.attemptDone(ctx, backend.AttemptResult{Files: files}, end)
	span.SetStatus(codes.Ok, "")
	span.End(oteltrace.WithTimestamp(end))
}

// setStatus sets a span's status from a run, step or attempt status.
func setStatus(span oteltrace.Span, status, msg string) {
	switch status {
	case backend.StatusSucceeded:
		span.SetStatus(codes.Ok, "")
	case backend.StatusFailed, backend.StatusCanceled:
		if msg == "" {
			msg = status
		}
		span.SetAttributes(attribute.String(trace.AttrErrorType, status))
		span.SetStatus(codes.Error, msg)
	}
}

// endAt is an end option at t, or now when t is zero.
func endAt(t time.Time) oteltrace.SpanEndOption {
	if t.IsZero() {
		t = time.Now()
	}
	return oteltrace.WithTimestamp(t)
}

func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Tracer makes spans; trace.Provider.Tracer(TracerScope) gives the one that
// records them in the workspace database and to OTLP.
type Tracer = oteltrace.Tracer
