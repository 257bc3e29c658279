package trace

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"factorydesk/backend"
)

// SpanStore keeps spans; *sqlite.DB is one.
type SpanStore interface {
	// SaveSpans stores a batch of spans in one transaction.
	SaveSpans(ctx context.Context, spans []backend.Span) error
}

// NewSQLiteExporter returns a span exporter that converts each batch it is
// given to backend.Span values and saves it in store, one transaction per
// batch. Wrap it in a batch span processor.
func NewSQLiteExporter(store SpanStore) sdktrace.SpanExporter {
	return &storeExporter{store: store}
}

// storeExporter is the exporter NewSQLiteExporter returns.
type storeExporter struct {
	store SpanStore
}

// ExportSpans saves the batch.
func (e *storeExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	out := make([]backend.Span, len(spans))
	for i, s := range spans {
		out[i] = ToSpan(s)
	}
	return e.store.SaveSpans(ctx, out)
}

// Shutdown does nothing: the store belongs to the caller.
func (e *storeExporter) Shutdown(context.Context) error { return nil }

// ToSpan converts an SDK span to a backend.Span.
func ToSpan(s sdktrace.ReadOnlySpan) backend.Span {
	sc := s.SpanContext()
	sp := backend.Span{
		TraceID:       sc.TraceID().String(),
		SpanID:        sc.SpanID().String(),
		Name:          s.Name(),
		Kind:          s.SpanKind().String(),
		Scope:         s.InstrumentationScope().Name,
		Start:         s.StartTime(),
		End:           s.EndTime(),
		StatusCode:    statusCode(s.Status().Code),
		StatusMessage: s.Status().Description,
		Attributes:    attrMap(s.Attributes()),
	}
	if p := s.Parent(); p.SpanID().IsValid() {
		sp.ParentID = p.SpanID().String()
	}
	if events := s.Events(); len(events) > 0 {
		sp.Events = make([]backend.SpanEvent, len(events))
		for i, e := range events {
			sp.Events[i] = backend.SpanEvent{Name: e.Name, Time: e.Time, Attributes: attrMap(e.Attributes)}
		}
	}
	return sp
}

// statusCode names an OpenTelemetry status code.
func statusCode(c codes.Code) string {
	switch c {
	case codes.Ok:
		return backend.SpanOK
	case codes.Error:
		return backend.SpanError
	}
	return backend.SpanUnset
}

// attrMap returns the attributes as a map of Go values, nil when empty.
func attrMap(kvs []attribute.KeyValue) map[string]any {
	if len(kvs) == 0 {
		return nil
	}
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = goValue(kv.Value)
	}
	return m
}

// goValue returns an attribute value as a Go value: bool, int64, float64,
// string, a slice of those, []byte, or for the nested kinds []any and
// map[string]any.
func goValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.SLICE:
		vs := v.AsSlice()
		out := make([]any, len(vs))
		for i, e := range vs {
			out[i] = goValue(e)
		}
		return out
	case attribute.MAP:
		return attrMap(v.AsMap())
	}
	return v.AsInterface()
}
