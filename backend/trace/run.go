package trace

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// RunSpanName is the name of a run's root span.
const RunSpanName = "run"

// NewRunID returns a new random run id: a valid trace id, 32 hex digits.
func NewRunID() string {
	return newTraceID().String()
}

// ValidRunID reports whether id can be a run id: 32 lowercase hex digits,
// not all zero.
func ValidRunID(id string) bool {
	tid, err := oteltrace.TraceIDFromHex(id)
	return err == nil && tid.IsValid()
}

// StartRun starts the root span of a run, whose trace id is the run id, so
// that the run's spans are found by its id here and in any trace viewer.
// opts add attributes (oteltrace.WithAttributes) or set the start time; the
// span is a new root even when ctx holds a span, and carries the run id as
// AttrRunID. The trace id is given by the ID generator of a Provider made by
// Setup; a tracer of another provider gives its own. A run id that is not a
// valid trace id (see ValidRunID) still starts a span, with a generated
// trace id and an error status that names the id.
func StartRun(ctx context.Context, tracer oteltrace.Tracer, runID string, opts ...oteltrace.SpanStartOption) (context.Context, oteltrace.Span) {
	tid, err := oteltrace.TraceIDFromHex(runID)
	valid := err == nil && tid.IsValid()
	idCtx := ctx
	if valid {
		idCtx = context.WithValue(ctx, traceIDKey{}, tid)
	}
	opts = append(opts, oteltrace.WithNewRoot(), oteltrace.WithSpanKind(oteltrace.SpanKindInternal),
		oteltrace.WithAttributes(attribute.String(AttrRunID, runID)))
	_, span := tracer.Start(idCtx, RunSpanName, opts...)
	if !valid {
		span.SetStatus(codes.Error, "run id "+runID+" is not a trace id of 32 hex digits; its spans have trace id "+
			span.SpanContext().TraceID().String())
	}
	return oteltrace.ContextWithSpan(ctx, span), span
}

// traceIDKey is the context key of the trace id StartRun asks for.
type traceIDKey struct{}

// runIDGenerator gives a root span the trace id StartRun put in its
// context, and random ids otherwise.
type runIDGenerator struct{}

// NewIDs returns the trace id of the context, or a random one, and a
// random span id.
func (runIDGenerator) NewIDs(ctx context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	if tid, ok := ctx.Value(traceIDKey{}).(oteltrace.TraceID); ok {
		return tid, newSpanID()
	}
	return newTraceID(), newSpanID()
}

// NewSpanID returns a random span id.
func (runIDGenerator) NewSpanID(context.Context, oteltrace.TraceID) oteltrace.SpanID {
	return newSpanID()
}

// newTraceID returns a random valid trace id.
func newTraceID() oteltrace.TraceID {
	var tid oteltrace.TraceID
	for !tid.IsValid() {
		binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
		binary.BigEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid
}

// newSpanID returns a random valid span id.
func newSpanID() oteltrace.SpanID {
	var sid oteltrace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
