package backend

import "time"

// Span status codes.
const (
	SpanUnset = "unset"
	SpanOK    = "ok"
	SpanError = "error"
)

// Span is one recorded OpenTelemetry span: a run, a step attempt, a model
// call, a tool call, a gate or a file write. The trace id of a run's spans is
// the run id.
//
// Attribute values are bool, int64, float64, string or a slice of one of
// them, and read back from storage with the same types (a NaN or infinite
// float64 reads back as a string).
type Span struct {
	TraceID       string         `json:"trace_id"`            // 32 hex digits
	SpanID        string         `json:"span_id"`             // 16 hex digits
	ParentID      string         `json:"parent_id,omitempty"` // "" for a root span
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`  // internal, server, client, producer, consumer
	Scope         string         `json:"scope"` // the instrumentation scope (tracer name)
	Start         time.Time      `json:"start"`
	End           time.Time      `json:"end"`
	StatusCode    string         `json:"status_code"` // SpanUnset, SpanOK or SpanError
	StatusMessage string         `json:"status_message,omitempty"`
	Attributes    map[string]any `json:"attributes,omitempty"`
	Events        []SpanEvent    `json:"events,omitempty"`
}

// SpanEvent is a timed annotation of a span, such as an exception.
type SpanEvent struct {
	Name       string         `json:"name"`
	Time       time.Time      `json:"time"`
	Attributes map[string]any `json:"attributes,omitempty"`
}
