package sqlite

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"factorydesk/backend"
)

// spanTrace is the trace id of the test spans, a run id.
const spanTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

// testSpan returns a span of spanTrace starting at epoch plus startMS.
func testSpan(id, parent, name string, startMS int) backend.Span {
	start := epoch.Add(time.Duration(startMS) * time.Millisecond)
	return backend.Span{
		TraceID: spanTrace, SpanID: id, ParentID: parent, Name: name, Kind: "internal",
		Scope: "factorydesk/engine", Start: start, End: start.Add(time.Second), StatusCode: backend.SpanUnset,
	}
}

func TestSaveSpansRoundTrip(t *testing.T) {
	ctx := context.Background()
	full := testSpan("00f067aa0ba902b7", "", "chat qwen2.5-coder:7b", 0)
	full.Kind = "client"
	full.StatusCode, full.StatusMessage = backend.SpanError, "model \"x\" answered:\n\tno"
	full.Attributes = map[string]any{
		"gen_ai.request.model":           "qwen2.5-coder:7b",
		"gen_ai.usage.input_tokens":      int64(1200),
		"gen_ai.request.temperature":     1.0,
		"gen_ai.request.top_p":           0.95,
		"big":                            int64(math.MaxInt64),
		"tiny":                           1e-300,
		"stream":                         true,
		"gen_ai.response.finish_reasons": []string{"stop", "length"},
		"ints":                           []int64{1, -2},
		"floats":                         []float64{1, 2.5},
		"bools":                          []bool{true, false},
		"unicode":                        "é ✓ \u2028 \x01 \\ \"",
	}
	full.Events = []backend.SpanEvent{
		{Name: "exception", Time: epoch.Add(time.Millisecond), Attributes: map[string]any{"exception.message": "boom"}},
		{Name: "retry", Time: epoch.Add(2 * time.Millisecond)},
	}
	running := testSpan("00f067aa0ba902b8", "00f067aa0ba902b7", "write_file", 5)
	running.End = time.Time{}

	tests := []struct {
		name string
		span backend.Span
	}{
		{"every attribute type, events, error status", full},
		{"a span not yet ended", running},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			if err := d.SaveSpans(ctx, []backend.Span{tt.span}); err != nil {
				t.Fatalf("SaveSpans: %v", err)
			}
			got, err := d.Spans(ctx, spanTrace)
			if err != nil {
				t.Fatalf("Spans: %v", err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.span) {
				t.Fatalf("Spans:\n got %#v\nwant %#v", got, tt.span)
			}
		})
	}
}

func TestSaveSpansBatch(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	batch := []backend.Span{
		testSpan("0000000000000003", "0000000000000001", "gate", 30),
		testSpan("0000000000000001", "", "run", 0),
		testSpan("0000000000000002", "0000000000000001", "invoke_agent design", 10),
	}
	other := testSpan("0000000000000001", "", "run", 0)
	other.TraceID = "ffffffffffffffffffffffffffffffff"
	if err := d.SaveSpans(ctx, append(batch, other)); err != nil {
		t.Fatalf("SaveSpans: %v", err)
	}
	// Saving the batch again, renamed, replaces the spans.
	batch[0].Name = "gate go test ./..."
	if err := d.SaveSpans(ctx, batch); err != nil {
		t.Fatalf("SaveSpans again: %v", err)
	}
	got, err := d.Spans(ctx, spanTrace)
	if err != nil {
		t.Fatalf("Spans: %v", err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	want := []string{"run", "invoke_agent design", "gate go test ./..."}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("span names %q, want %q (ordered by start)", names, want)
	}
}

func TestSaveSpansInvalid(t *testing.T) {
	ctx := context.Background()
	noTrace := testSpan("0000000000000002", "", "b", 1)
	noTrace.TraceID = ""
	tests := []struct {
		name  string
		batch []backend.Span
	}{
		{"no trace id", []backend.Span{testSpan("0000000000000001", "", "a", 0), noTrace}},
		{"no span id", []backend.Span{testSpan("0000000000000001", "", "a", 0), testSpan("", "", "b", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			wantCode(t, d.SaveSpans(ctx, tt.batch), backend.EINVALID)
			got, err := d.Spans(ctx, spanTrace)
			if err != nil {
				t.Fatalf("Spans: %v", err)
			}
			if len(got) != 0 {
				t.Fatalf("%d spans stored from a rejected batch, want 0", len(got))
			}
		})
	}
	t.Run("empty trace id", func(t *testing.T) {
		_, err := newDB(t).Spans(ctx, "")
		wantCode(t, err, backend.EINVALID)
	})
}

func TestDeleteRunDeletesSpans(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	if err := d.CreateRun(ctx, &backend.Run{ID: spanTrace}); err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	if err := d.SaveSpans(ctx, []backend.Span{testSpan("0000000000000001", "", "run", 0)}); err != nil {
		t.Fatalf("SaveSpans: %v", err)
	}
	if err := d.DeleteRun(ctx, spanTrace); err != nil {
		t.Fatalf("DeleteRun: %v", err)
	}
	got, err := d.Spans(ctx, spanTrace)
	if err != nil {
		t.Fatalf("Spans: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("%d spans left after DeleteRun, want 0", len(got))
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // what encoding/json decodes; "" means in
	}{
		{"plain", "hello", ""},
		{"quotes and backslash", `a "b" \c`, ""},
		{"control characters", "a\nb\tc\rd\x00e\x1f", ""},
		{"multibyte", "é ✓ 日本 \u2028", ""},
		{"invalid utf-8", "a\xffb\xc3", "a\ufffdb\ufffd"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := appendString(nil, tt.in)
			var got string
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("appendString(%q) = %s, not JSON: %v", tt.in, data, err)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if got != want {
				t.Fatalf("appendString(%q) reads back as %q, want %q", tt.in, got, want)
			}
		})
	}
}
