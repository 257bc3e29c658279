package trace

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"
	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"factorydesk/backend/sqlite"
)

// The secret the synthetic run leaks everywhere it can.
const (
	secretName  = "ORDERS_DB_PASSWORD"
	secretValue = "canary-Zx81-pw"
	placeholder = "${" + secretName + "}"
	testRunID   = "0af7651916cd43dd8448eb211c80319c"
)

// t0 is when the synthetic run starts.
var t0 = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)

// openStore opens a fresh database in a temporary workspace, closed with
// the test.
func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	d := sqlite.NewDB(filepath.Join(t.TempDir(), ".factory", "factory.db"))
	if err := d.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// receiver is an OTLP trace receiver (a collector stand-in) that keeps
// the raw request bodies and the spans.
type receiver struct {
	collectorpb.UnimplementedTraceServiceServer
	mu       sync.Mutex
	bodies   [][]byte
	requests []*collectorpb.ExportTraceServiceRequest
}

// add records one export request.
func (r *receiver) add(body []byte, req *collectorpb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body)
	r.requests = append(r.requests, req)
}

// Export implements the OTLP/gRPC trace service.
func (r *receiver) Export(_ context.Context, req *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	body, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	r.add(body, req)
	return &collectorpb.ExportTraceServiceResponse{}, nil
}

// ServeHTTP implements OTLP/HTTP with protobuf bodies.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" ||
		req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST /v1/traces with application/x-protobuf", http.StatusBadRequest)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msg collectorpb.ExportTraceServiceRequest
	if err := proto.Unmarshal(data, &msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.add(data, &msg)
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// startReceiver starts a receiver on 127.0.0.1 speaking protocol and
// returns it with its endpoint URL.
func startReceiver(t *testing.T, protocol string) (*receiver, string) {
	t.Helper()
	r := &receiver{}
	if protocol == ProtocolHTTP {
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		return r, srv.URL
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer()
	collectorpb.RegisterTraceServiceServer(srv, r)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return r, "http://" + lis.Addr().String()
}

// spans returns every span received.
func (r *receiver) spans() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, req := range r.requests {
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				out = append(out, ss.Spans...)
			}
		}
	}
	return out
}

// body returns every request body received, concatenated.
func (r *receiver) body() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.bodies, nil)
}

// resourceAttr returns a string attribute of the first resource received.
func (r *receiver) resourceAttr(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 || len(r.requests[0].ResourceSpans) == 0 {
		return ""
	}
	return pbAttr(r.requests[0].ResourceSpans[0].Resource.Attributes, key).GetStringValue()
}

// pbAttr returns the value of an OTLP attribute, nil if absent.
func pbAttr(kvs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// hexID renders an OTLP id as hex.
func hexID(b []byte) string { return hex.EncodeToString(b) }

// recordRun sets tracing up with the store, a redactor of the secret and,
// when protocol is not "", an OTLP receiver; records the synthetic run and
// shuts tracing down. It returns the receiver (nil without protocol).
func recordRun(t *testing.T, store SpanStore, protocol string) *receiver {
	t.Helper()
	ctx := context.Background()
	env := map[string]string{}
	var rcv *receiver
	if protocol != "" {
		var endpoint string
		rcv, endpoint = startReceiver(t, protocol)
		env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
		env["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol
	}
	p, err := Setup(ctx, Config{
		Store:          store,
		Redactor:       NewRedactor(map[string]string{secretName: secretValue, "SHORT": "abc"}),
		Getenv:         func(k string) string { return env[k] },
		ServiceVersion: "1.2.3",
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	emitRun(ctx, p.Tracer("factorydesk/engine"))
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	return rcv
}

// at returns the time ms milliseconds into the run.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// child starts a span under ctx at ms with attributes.
func child(ctx context.Context, tr oteltrace.Tracer, name string, ms int, kind oteltrace.SpanKind,
	attrs ...attribute.KeyValue) (context.Context, oteltrace.Span) {
	return tr.Start(ctx, name, oteltrace.WithTimestamp(at(ms)), oteltrace.WithSpanKind(kind),
		oteltrace.WithAttributes(attrs...))
}

// emitRun records a run-shaped trace: two steps, model calls, a tool call,
// a file write and a failing gate. The secret appears in a span name,
// string and string-slice attributes, an event and a status message.
func emitRun(ctx context.Context, tr oteltrace.Tracer) {
	end := func(s oteltrace.Span, ms int) { s.End(oteltrace.WithTimestamp(at(ms))) }
	var run oteltrace.Span
	ctx, run = StartRun(ctx, tr, testRunID, oteltrace.WithTimestamp(at(0)),
		oteltrace.WithAttributes(attribute.String(AttrBlueprint, "orders-service")))

	design, agent := child(ctx, tr, "invoke_agent architect", 100, oteltrace.SpanKindInternal,
		attribute.String(AttrGenAIOperationName, OpInvokeAgent), attribute.String(AttrGenAIAgentName, "architect"),
		attribute.String(AttrStep, "design"), attribute.Int(AttrAttempt, 1))
	_, chat := child(design, tr, "chat qwen2.5-coder:7b", 200, oteltrace.SpanKindClient,
		attribute.String(AttrGenAIOperationName, OpChat), attribute.String(AttrGenAIProviderName, "ollama"),
		attribute.String(AttrGenAIRequestModel, "qwen2.5-coder:7b"), attribute.String(AttrGenAIResponseModel, "qwen2.5-coder:7b"),
		attribute.Float64(AttrGenAIRequestTemperature, 0.2), attribute.Int(AttrGenAIUsageInputTokens, 1200),
		attribute.Int(AttrGenAIUsageOutputTokens, 340), attribute.StringSlice(AttrGenAIResponseFinish, []string{"stop"}),
		attribute.String("factory.prompt.excerpt", "connect with password "+secretValue))
	end(chat, 15_000)
	_, tool := child(design, tr, "execute_tool read_file", 15_100, oteltrace.SpanKindInternal,
		attribute.String(AttrGenAIOperationName, OpExecuteTool), attribute.String(AttrGenAIToolName, "read_file"),
		attribute.String(AttrGenAIToolCallID, "call_1"), attribute.String(AttrFilePath, "docs/overview.md"))
	end(tool, 15_112)
	_, write := child(design, tr, "write_file docs/design.md", 19_000, oteltrace.SpanKindInternal,
		attribute.String(AttrFilePath, "docs/design.md"), attribute.Int(AttrBytes, 5120))
	end(write, 19_003)
	agent.SetStatus(codes.Ok, "")
	end(agent, 20_000)

	code, agent2 := child(ctx, tr, "invoke_agent backend-developer", 20_000, oteltrace.SpanKindInternal,
		attribute.String(AttrGenAIOperationName, OpInvokeAgent), attribute.String(AttrGenAIAgentName, "backend-developer"),
		attribute.String(AttrStep, "code"), attribute.Int(AttrAttempt, 1))
	_, chat2 := child(code, tr, "chat qwen2.5-coder:7b", 20_100, oteltrace.SpanKindClient,
		attribute.String(AttrGenAIOperationName, OpChat), attribute.String(AttrGenAIRequestModel, "qwen2.5-coder:7b"),
		attribute.Int(AttrGenAIUsageInputTokens, 2400), attribute.Int(AttrGenAIUsageOutputTokens, 1800))
	end(chat2, 40_000)
	cmd := "psql postgres://app:" + secretValue + "@db/orders -c 'select 1'"
	_, gate := child(code, tr, "gate "+cmd, 40_000, oteltrace.SpanKindInternal,
		attribute.String(AttrGate, cmd), attribute.StringSlice("factory.gate.env", []string{"PGPASSWORD=" + secretValue, "LANG=C"}))
	gate.AddEvent("exception", oteltrace.WithTimestamp(at(44_900)), oteltrace.WithAttributes(
		attribute.String("exception.type", "exit"), attribute.String("exception.message", "password "+secretValue+" rejected")))
	gate.SetAttributes(attribute.String(AttrErrorType, "exit_status"))
	gate.SetStatus(codes.Error, "exit status 2: FATAL: password authentication failed for "+secretValue)
	end(gate, 45_000)
	agent2.SetStatus(codes.Error, "gate failed")
	end(agent2, 50_000)
	run.SetStatus(codes.Error, "step code failed")
	end(run, 50_100)
}
