package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"factorydesk/backend"
)

// spanColumns are the columns of the spans table, in the order SaveSpans
// writes and Spans reads them.
const spanColumns = `trace_id, span_id, parent_span_id, name, kind, scope, start_ns, end_ns,
	status_code, status_message, attributes, events`

// SaveSpans stores a batch of spans in one transaction. A span already
// stored (same trace and span id) is replaced, so saving a batch twice is
// harmless. A span without a trace or span id is EINVALID and nothing of
// the batch is stored.
func (d *DB) SaveSpans(ctx context.Context, spans []backend.Span) error {
	if len(spans) == 0 {
		return nil
	}
	for i := range spans {
		if spans[i].TraceID == "" || spans[i].SpanID == "" {
			return backend.Errorf(backend.EINVALID, "span %d of %d (%q) has no trace id or span id",
				i+1, len(spans), spans[i].Name)
		}
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO spans (`+spanColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (trace_id, span_id) DO UPDATE SET parent_span_id = excluded.parent_span_id,
			name = excluded.name, kind = excluded.kind, scope = excluded.scope,
			start_ns = excluded.start_ns, end_ns = excluded.end_ns, status_code = excluded.status_code,
			status_message = excluded.status_message, attributes = excluded.attributes,
			events = excluded.events`)
		if err != nil {
			return dbError(err, "prepare to save spans")
		}
		defer stmt.Close()
		var buf []byte
		for i := range spans {
			s := &spans[i]
			var row []any
			row, buf = spanRow(s, buf)
			if _, err := stmt.ExecContext(ctx, row...); err != nil {
				return dbError(err, "save span %s (%q) of trace %s", s.SpanID, s.Name, s.TraceID)
			}
		}
		return nil
	})
}

// spanRow is the values of the spanColumns of s; buf is scratch space for
// encoding its attributes and events, returned for the next span.
func spanRow(s *backend.Span, buf []byte) ([]any, []byte) {
	buf = appendAttrs(buf[:0], s.Attributes)
	attrs := string(buf)
	buf = appendEvents(buf[:0], s.Events)
	status := s.StatusCode
	if status == "" {
		status = backend.SpanUnset
	}
	return []any{s.TraceID, s.SpanID, s.ParentID, s.Name, s.Kind, s.Scope,
		toNS(s.Start), toNS(s.End), status, s.StatusMessage, attrs, string(buf)}, buf
}

// Spans returns the spans of a trace (a run's spans: its id is the trace
// id), ordered by start time. A trace with no spans gives an empty list.
func (d *DB) Spans(ctx context.Context, traceID string) ([]backend.Span, error) {
	if traceID == "" {
		return nil, backend.Errorf(backend.EINVALID, "trace id is empty")
	}
	spans := []backend.Span{}
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+spanColumns+` FROM spans
			WHERE trace_id = ? ORDER BY start_ns, rowid`, traceID)
		if err != nil {
			return dbError(err, "read the spans of trace %s", traceID)
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanSpan(rows)
			if err != nil {
				return err
			}
			spans = append(spans, s)
		}
		return dbError(rows.Err(), "read the spans of trace %s", traceID)
	})
	if err != nil {
		return nil, err
	}
	return spans, nil
}

// scanSpan reads the spanColumns of one row.
func scanSpan(s scanner) (backend.Span, error) {
	var sp backend.Span
	var start, end int64
	var attrs, events []byte
	err := s.Scan(&sp.TraceID, &sp.SpanID, &sp.ParentID, &sp.Name, &sp.Kind, &sp.Scope, &start, &end,
		&sp.StatusCode, &sp.StatusMessage, &attrs, &events)
	if err != nil {
		return sp, dbError(err, "read a span")
	}
	sp.Start, sp.End = fromNS(start), fromNS(end)
	if sp.Attributes, err = decodeAttrs(attrs); err != nil {
		return sp, backend.WrapError(backend.EINTERNAL, err, "span %s of trace %s: attributes", sp.SpanID, sp.TraceID)
	}
	if sp.Events, err = decodeEvents(events); err != nil {
		return sp, backend.WrapError(backend.EINTERNAL, err, "span %s of trace %s: events", sp.SpanID, sp.TraceID)
	}
	return sp, nil
}

// storedEvent is the JSON form of a span event.
type storedEvent struct {
	Name       string          `json:"name"`
	Time       int64           `json:"time"`
	Attributes json.RawMessage `json:"attributes"`
}

// decodeEvents reads the events column.
func decodeEvents(data []byte) ([]backend.SpanEvent, error) {
	if len(data) == 0 || string(data) == "[]" {
		return nil, nil
	}
	var stored []storedEvent
	if err := json.Unmarshal(data, &stored); err != nil {
		return nil, err
	}
	events := make([]backend.SpanEvent, len(stored))
	for i, e := range stored {
		attrs, err := decodeAttrs(e.Attributes)
		if err != nil {
			return nil, err
		}
		events[i] = backend.SpanEvent{Name: e.Name, Time: fromNS(e.Time), Attributes: attrs}
	}
	return events, nil
}

// decodeAttrs reads an attributes object written by appendAttrs, giving
// numbers back their Go types (see appendValue).
func decodeAttrs(data []byte) (map[string]any, error) {
	if len(data) == 0 || string(data) == "{}" || string(data) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	for k, v := range m {
		m[k] = typedValue(v)
	}
	return m, nil
}

// typedValue turns a decoded JSON value into an attribute value: a number
// with a fraction or exponent is a float64, another an int64, and an array
// of one type a slice of that type.
func typedValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		return typedNumber(v)
	case []any:
		return typedSlice(v)
	}
	return v
}

// typedNumber returns n as an int64 when it is written as one, else a float64.
func typedNumber(n json.Number) any {
	if !strings.ContainsAny(string(n), ".eE") {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	f, _ := n.Float64()
	return f
}

// typedSlice returns a []string, []int64, []float64 or []bool when every
// element has that type, else the elements as they are.
func typedSlice(v []any) any {
	for i := range v {
		v[i] = typedValue(v[i])
	}
	if len(v) == 0 {
		return v
	}
	switch v[0].(type) {
	case string:
		return sliceOf[string](v)
	case int64:
		return sliceOf[int64](v)
	case float64:
		return sliceOf[float64](v)
	case bool:
		return sliceOf[bool](v)
	}
	return v
}

// sliceOf returns v as a []T when every element is a T, else v.
func sliceOf[T any](v []any) any {
	out := make([]T, len(v))
	for i, e := range v {
		t, ok := e.(T)
		if !ok {
			return v
		}
		out[i] = t
	}
	return out
}

// appendEvents appends the JSON array of events.
func appendEvents(b []byte, events []backend.SpanEvent) []byte {
	b = append(b, '[')
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, e.Name)
		b = append(b, `,"time":`...)
		b = strconv.AppendInt(b, toNS(e.Time), 10)
		b = append(b, `,"attributes":`...)
		b = appendAttrs(b, e.Attributes)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendAttrs appends the attributes as a JSON object with sorted keys.
// It is a hand-written encoder: spans are written in bulk, and
// encoding/json's reflection costs more than the insert.
func appendAttrs(b []byte, attrs map[string]any) []byte {
	if len(attrs) == 0 {
		return append(b, "{}"...)
	}
	var small [32]string
	keys := small[:0]
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, attrs[k])
	}
	return append(b, '}')
}

// appendValue appends an attribute value as JSON. A float64 always has a
// fraction or an exponent so that it reads back as a float64; NaN and the
// infinities, which JSON lacks, are written as strings. A value of another
// type is written by encoding/json, or as its quoted text if that fails.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return appendFloat(b, v)
	case []string:
		return appendSlice(b, v, appendString)
	case []int64:
		return appendSlice(b, v, func(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) })
	case []float64:
		return appendSlice(b, v, appendFloat)
	case []bool:
		return appendSlice(b, v, strconv.AppendBool)
	case nil:
		return append(b, "null"...)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return appendString(b, err.Error())
	}
	return append(b, data...)
}

// appendSlice appends a JSON array of the elements of v.
func appendSlice[T any](b []byte, v []T, f func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, e := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = f(b, e)
	}
	return append(b, ']')
}

// appendFloat appends f so that it reads back as a float64.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendString(b, strconv.FormatFloat(f, 'g', -1, 64))
	}
	n := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	if !bytes.ContainsAny(b[n:], ".e") {
		b = append(b, ".0"...)
	}
	return b
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
