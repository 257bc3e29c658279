package trace

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"factorydesk/backend"
	"factorydesk/backend/sqlite"
)

// benchBatch is the batch size of the SDK's batch span processor.
const benchBatch = 512

// benchSpans returns a batch of chat-like spans of the trace numbered n:
// nine attributes each, and every eighth an error with an event.
func benchSpans(n int) []sdktrace.ReadOnlySpan {
	var tid oteltrace.TraceID
	binary.BigEndian.PutUint64(tid[8:], uint64(n)+1)
	out := make([]sdktrace.ReadOnlySpan, benchBatch)
	for i := range out {
		var sid oteltrace.SpanID
		binary.BigEndian.PutUint64(sid[:], uint64(i)+1)
		stub := tracetest.SpanStub{
			Name:        "chat qwen2.5-coder:7b",
			SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid}),
			Parent:      oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: oteltrace.SpanID{1}}),
			SpanKind:    oteltrace.SpanKindClient,
			StartTime:   at(i),
			EndTime:     at(i + 700),
			Attributes: []attribute.KeyValue{
				attribute.String(AttrGenAIOperationName, OpChat), attribute.String(AttrGenAIProviderName, "ollama"),
				attribute.String(AttrGenAIRequestModel, "qwen2.5-coder:7b"), attribute.String(AttrGenAIResponseModel, "qwen2.5-coder:7b"),
				attribute.Float64(AttrGenAIRequestTemperature, 0.2), attribute.Int(AttrGenAIUsageInputTokens, 1200+i),
				attribute.Int(AttrGenAIUsageOutputTokens, 340), attribute.String(AttrStep, "code"), attribute.Int(AttrAttempt, 1),
			},
			InstrumentationScope: instrumentation.Scope{Name: "factorydesk/engine"},
		}
		if i%8 == 0 {
			stub.Status = sdktrace.Status{Code: codes.Error, Description: "model answered in prose"}
			stub.Events = []sdktrace.Event{{Name: "exception", Time: at(i + 600), Attributes: []attribute.KeyValue{
				attribute.String("exception.type", "parse"), attribute.String("exception.message", "no JSON object")}}}
		}
		out[i] = stub.Snapshot()
	}
	return out
}

// bareInserter writes pre-encoded span rows with one transaction and one
// prepared statement per batch: the floor of what storing spans costs.
type bareInserter struct {
	db *sql.DB
}

// openBare opens a migrated database of its own with the same settings as
// the store's write connection.
func openBare(b *testing.B) *bareInserter {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bare.db")
	d := sqlite.NewDB(path)
	if err := d.Open(); err != nil {
		b.Fatal(err)
	}
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	return &bareInserter{db: db}
}

// insert writes rows, each the twelve column values of a span.
func (bi *bareInserter) insert(ctx context.Context, rows [][]any) error {
	tx, err := bi.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind,
		scope, start_ns, end_ns, status_code, status_message, attributes, events)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// bareRows converts and encodes a batch ahead of the bare insert.
func bareRows(b *testing.B, spans []sdktrace.ReadOnlySpan) [][]any {
	rows := make([][]any, len(spans))
	for i, s := range spans {
		sp := ToSpan(s)
		attrs, err := json.Marshal(sp.Attributes)
		if err != nil {
			b.Fatal(err)
		}
		events, err := json.Marshal(sp.Events)
		if err != nil {
			b.Fatal(err)
		}
		rows[i] = []any{sp.TraceID, sp.SpanID, sp.ParentID, sp.Name, sp.Kind, sp.Scope, sp.Start.UnixNano(),
			sp.End.UnixNano(), sp.StatusCode, sp.StatusMessage, string(attrs), string(events)}
	}
	return rows
}

// BenchmarkSpanExporter measures spans written to SQLite through the
// exporter, in batches of 512, against the same rows written by a bare
// batched insert, and reports both rates and their ratio.
func BenchmarkSpanExporter(b *testing.B) {
	redactor := NewRedactor(map[string]string{"ORDERS_DB_PASSWORD": "not-in-any-span", "API_KEY": "sk-0123456789"})
	for _, tt := range []struct {
		name string
		wrap func(sdktrace.SpanExporter) sdktrace.SpanExporter
	}{
		{"sqlite", func(e sdktrace.SpanExporter) sdktrace.SpanExporter { return e }},
		{"redacted", func(e sdktrace.SpanExporter) sdktrace.SpanExporter { return RedactExporter(e, redactor) }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			ctx := context.Background()
			exp := tt.wrap(NewSQLiteExporter(openStore(b)))
			bare := openBare(b)
			var expTime, bareTime time.Duration
			for n := 0; b.Loop(); n++ {
				b.StopTimer()
				batch := benchSpans(n)
				rows := bareRows(b, batch)
				b.StartTimer()

				start := time.Now()
				if err := exp.ExportSpans(ctx, batch); err != nil {
					b.Fatal(err)
				}
				expTime += time.Since(start)

				start = time.Now()
				if err := bare.insert(ctx, rows); err != nil {
					b.Fatal(err)
				}
				bareTime += time.Since(start)
			}
			spans := float64(b.N * benchBatch)
			b.ReportMetric(spans/expTime.Seconds(), "spans/s")
			b.ReportMetric(spans/bareTime.Seconds(), "bare-spans/s")
			b.ReportMetric(100*bareTime.Seconds()/expTime.Seconds(), "%-of-bare")
		})
	}
}

// TestBenchSpans keeps the benchmark's spans honest: they convert to what
// the store expects.
func TestBenchSpans(t *testing.T) {
	sp := ToSpan(benchSpans(3)[8])
	want := fmt.Sprintf("%032x", 4)
	if sp.TraceID != want || sp.StatusCode != backend.SpanError || len(sp.Events) != 1 || len(sp.Attributes) != 9 {
		t.Fatalf("bench span %+v", sp)
	}
}
