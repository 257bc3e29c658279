package trace

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"factorydesk/backend"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// findSpan returns the span named name, failing the test when absent.
func findSpan(t *testing.T, spans []backend.Span, name string) backend.Span {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q", name)
	return backend.Span{}
}

func TestRunToSQLite(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	recordRun(t, db, "")
	spans, err := db.Spans(ctx, testRunID)
	if err != nil {
		t.Fatalf("Spans: %v", err)
	}
	if len(spans) != 8 {
		t.Fatalf("%d spans stored, want 8", len(spans))
	}

	roots := Tree(spans)
	if len(roots) != 1 || roots[0].Span.Name != RunSpanName || len(roots[0].Children) != 2 {
		t.Fatalf("want one run root with two steps, got %d roots", len(roots))
	}
	var out bytes.Buffer
	if err := PrintTree(&out, roots); err != nil {
		t.Fatalf("PrintTree: %v", err)
	}
	golden(t, "run_tree.golden", out.Bytes())

	chat := findSpan(t, spans, "chat qwen2.5-coder:7b")
	gate := findSpan(t, spans, "gate psql postgres://app:"+placeholder+"@db/orders -c 'select 1'")
	tests := []struct {
		name      string
		got, want any
	}{
		{"root trace id is the run id", roots[0].Span.TraceID, testRunID},
		{"run id attribute", roots[0].Span.Attributes[AttrRunID], testRunID},
		{"scope", chat.Scope, "factorydesk/engine"},
		{"chat kind", chat.Kind, "client"},
		{"chat parent", chat.ParentID, roots[0].Children[0].Span.SpanID},
		{"model", chat.Attributes[AttrGenAIRequestModel], "qwen2.5-coder:7b"},
		{"provider", chat.Attributes[AttrGenAIProviderName], "ollama"},
		{"input tokens", chat.Attributes[AttrGenAIUsageInputTokens], int64(1200)},
		{"temperature", chat.Attributes[AttrGenAIRequestTemperature], 0.2},
		{"finish reasons", chat.Attributes[AttrGenAIResponseFinish], []string{"stop"}},
		{"chat start", chat.Start, at(200)},
		{"chat end", chat.End, at(15_000)},
		{"gate status", gate.StatusCode, backend.SpanError},
		{"gate error type", gate.Attributes[AttrErrorType], "exit_status"},
		{"gate event", gate.Events[0].Name, "exception"},
		{"gate event time", gate.Events[0].Time, at(44_900)},
		{"step ok", roots[0].Children[0].Span.StatusCode, backend.SpanOK},
		{"tool unset", findSpan(t, spans, "execute_tool read_file").StatusCode, backend.SpanUnset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
	for _, s := range spans {
		if s.TraceID != testRunID {
			t.Errorf("span %q: trace id %s, want the run id %s", s.Name, s.TraceID, testRunID)
		}
	}
}

func TestRunToOTLP(t *testing.T) {
	for _, protocol := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(protocol, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t)
			rcv := recordRun(t, db, protocol)
			stored, err := db.Spans(ctx, testRunID)
			if err != nil {
				t.Fatalf("Spans: %v", err)
			}
			want := map[string]string{} // span id -> name and parent, as stored
			for _, s := range stored {
				want[s.SpanID] = s.Name + " <- " + s.ParentID
			}
			got := map[string]string{}
			chats := 0
			for _, s := range rcv.spans() {
				if id := hexID(s.TraceId); id != testRunID {
					t.Errorf("span %q: trace id %s, want the run id %s", s.Name, id, testRunID)
				}
				got[hexID(s.SpanId)] = s.Name + " <- " + hexID(s.ParentSpanId)
				if s.Name == "chat qwen2.5-coder:7b" {
					chats++
					model := pbAttr(s.Attributes, AttrGenAIRequestModel).GetStringValue()
					tokens := pbAttr(s.Attributes, AttrGenAIUsageInputTokens).GetIntValue()
					if model != "qwen2.5-coder:7b" || tokens == 0 || s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
						t.Errorf("chat span: model %q, input tokens %d, kind %v", model, tokens, s.Kind)
					}
				}
				if strings.HasPrefix(s.Name, "gate ") && s.Status.GetMessage() == "" {
					t.Errorf("gate span has no status message")
				}
			}
			if chats != 2 {
				t.Errorf("%d chat spans received, want 2", chats)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("OTLP spans (id: name <- parent)\n got %v\nwant %v (as in SQLite)", got, want)
			}
			if name := rcv.resourceAttr(attrServiceName); name != ServiceName {
				t.Errorf("service.name %q, want %q", name, ServiceName)
			}
			if v := rcv.resourceAttr(attrServiceVersion); v != "1.2.3" {
				t.Errorf("service.version %q, want 1.2.3", v)
			}
		})
	}
}

func TestSetupEnv(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		env  map[string]string
		code string // "" for success
	}{
		{"no endpoint", nil, ""},
		{"http endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, ""},
		{"grpc traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector:4317",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, ""},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "::bad", "OTEL_TRACES_EXPORTER": "none"}, ""},
		{"endpoint without scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, backend.EINVALID},
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, backend.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Setup(ctx, Config{Getenv: func(k string) string { return tt.env[k] }})
			if got := backend.ErrorCode(err); got != tt.code {
				t.Fatalf("Setup: error %v, want code %q", err, tt.code)
			}
			if err == nil {
				// Nothing was recorded, so nothing is sent to the endpoint.
				if err := p.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
			}
		})
	}
}

func TestStartRun(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithIDGenerator(runIDGenerator{}))
	tr := tp.Tracer("test")
	outer, parent := tr.Start(ctx, "outer")
	tests := []struct {
		name      string
		runID     string
		wantTrace string // "" for a generated one
		wantCode  codes.Code
	}{
		{"valid run id", testRunID, testRunID, codes.Unset},
		{"new run id", NewRunID(), "", codes.Unset},
		{"uppercase run id", strings.ToUpper(testRunID), "", codes.Error},
		{"all zero run id", strings.Repeat("0", 32), "", codes.Error},
		{"short run id", "abc", "", codes.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runCtx, span := StartRun(outer, tr, tt.runID, oteltrace.WithAttributes(attribute.String(AttrBlueprint, "b")))
			_, step := tr.Start(runCtx, "step")
			step.End()
			span.End()
			ended := rec.Ended()
			run, stepSpan := ended[len(ended)-1], ended[len(ended)-2]
			tid := run.SpanContext().TraceID().String()
			if tt.wantTrace != "" && tid != tt.wantTrace {
				t.Errorf("trace id %s, want %s", tid, tt.wantTrace)
			}
			if tid == parent.SpanContext().TraceID().String() || run.Parent().IsValid() {
				t.Errorf("run span is not a new root")
			}
			if stepSpan.Parent().SpanID() != run.SpanContext().SpanID() || stepSpan.SpanContext().TraceID().String() != tid {
				t.Errorf("step span is not a child of the run span")
			}
			if run.Status().Code != tt.wantCode {
				t.Errorf("status %v %q, want %v", run.Status().Code, run.Status().Description, tt.wantCode)
			}
			if ValidRunID(tt.runID) != (tt.wantCode == codes.Unset) {
				t.Errorf("ValidRunID(%q) = %v", tt.runID, ValidRunID(tt.runID))
			}
			keys := []string{}
			for _, kv := range run.Attributes() {
				keys = append(keys, string(kv.Key))
			}
			if !slices.Contains(keys, AttrRunID) || !slices.Contains(keys, AttrBlueprint) {
				t.Errorf("attributes %v, want %s and %s", keys, AttrRunID, AttrBlueprint)
			}
		})
	}
}
