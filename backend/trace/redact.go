package trace

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// MinSecretLen is the length under which a secret value is not redacted:
// replacing every "a" or "12" would wreck the text and protect nothing.
const MinSecretLen = 4

// Redactor replaces secret values in text with ${NAME}. A nil *Redactor
// leaves text as it is. It is safe for concurrent use.
type Redactor struct {
	secrets []secret // longest value first
}

// secret is one value to hide and the placeholder that replaces it.
type secret struct {
	value, placeholder string
}

// NewRedactor returns a Redactor for the secrets, given as name -> value.
// Values shorter than MinSecretLen are ignored.
func NewRedactor(secrets map[string]string) *Redactor {
	r := &Redactor{}
	for name, value := range secrets {
		if len(value) >= MinSecretLen {
			r.secrets = append(r.secrets, secret{value: value, placeholder: "${" + name + "}"})
		}
	}
	slices.SortFunc(r.secrets, func(a, b secret) int {
		return cmp.Or(cmp.Compare(len(b.value), len(a.value)), strings.Compare(a.placeholder, b.placeholder))
	})
	return r
}

// match is an occurrence of a secret in a text: bytes [start, end) and the
// index of the secret.
type match struct {
	start, end, secret int
}

// Redact returns s with every secret value replaced by ${NAME}. Where
// occurrences of secrets overlap, the whole overlapping stretch is replaced
// by one placeholder (the longest secret's that starts first), so that no
// part of either value remains.
func (r *Redactor) Redact(s string) string {
	if r == nil || len(r.secrets) == 0 || len(s) < MinSecretLen {
		return s
	}
	var buf [8]match
	ms := buf[:0]
	for i, sec := range r.secrets {
		for off := 0; ; {
			j := strings.Index(s[off:], sec.value)
			if j < 0 {
				break
			}
			ms = append(ms, match{start: off + j, end: off + j + len(sec.value), secret: i})
			off += j + 1
		}
	}
	if len(ms) == 0 {
		return s
	}
	slices.SortFunc(ms, func(a, b match) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.secret, b.secret))
	})
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(ms); {
		cur := ms[i]
		for i++; i < len(ms) && ms[i].start < cur.end; i++ {
			cur.end = max(cur.end, ms[i].end)
		}
		b.WriteString(s[last:cur.start])
		b.WriteString(r.secrets[cur.secret].placeholder)
		last = cur.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// RedactExporter returns an exporter that hands next each span with its
// name, string attributes, events, links and status message redacted by r.
// ReadOnlySpan values cannot be changed, so a span that holds a secret is
// passed on wrapped in a view that returns the redacted values.
func RedactExporter(next sdktrace.SpanExporter, r *Redactor) sdktrace.SpanExporter {
	if r == nil || len(r.secrets) == 0 {
		return next
	}
	return &redactingExporter{next: next, r: r}
}

// redactingExporter is the exporter RedactExporter returns.
type redactingExporter struct {
	next sdktrace.SpanExporter
	r    *Redactor
}

// ExportSpans redacts the batch and exports it to the next exporter.
func (e *redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		out[i] = e.r.span(s)
	}
	return e.next.ExportSpans(ctx, out)
}

// Shutdown shuts the next exporter down.
func (e *redactingExporter) Shutdown(ctx context.Context) error {
	return e.next.Shutdown(ctx)
}

// redactedSpan is a span seen through redaction.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	name   string
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	links  []sdktrace.Link
	status sdktrace.Status
}

// Name returns the redacted name.
func (s *redactedSpan) Name() string { return s.name }

// Attributes returns the redacted attributes.
func (s *redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }

// Events returns the redacted events.
func (s *redactedSpan) Events() []sdktrace.Event { return s.events }

// Links returns the links with redacted attributes.
func (s *redactedSpan) Links() []sdktrace.Link { return s.links }

// Status returns the status with a redacted description.
func (s *redactedSpan) Status() sdktrace.Status { return s.status }

// span returns s redacted; s itself when it holds no secret.
func (r *Redactor) span(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	rs := &redactedSpan{ReadOnlySpan: s, name: r.Redact(s.Name()), status: s.Status()}
	changed := rs.name != s.Name()
	rs.status.Description = r.Redact(rs.status.Description)
	changed = changed || rs.status.Description != s.Status().Description
	var c bool
	rs.attrs, c = r.attrs(s.Attributes())
	changed = changed || c
	rs.events, c = r.events(s.Events())
	changed = changed || c
	rs.links, c = r.links(s.Links())
	if !changed && !c {
		return s
	}
	return rs
}

// events returns the events with names and attributes redacted, and
// whether anything changed (the events are copied only then).
func (r *Redactor) events(events []sdktrace.Event) ([]sdktrace.Event, bool) {
	var out []sdktrace.Event
	for i, e := range events {
		name := r.Redact(e.Name)
		attrs, c := r.attrs(e.Attributes)
		if !c && name == e.Name {
			continue
		}
		if out == nil {
			out = slices.Clone(events)
		}
		out[i].Name, out[i].Attributes = name, attrs
	}
	if out == nil {
		return events, false
	}
	return out, true
}

// links returns the links with attributes redacted, and whether anything
// changed.
func (r *Redactor) links(links []sdktrace.Link) ([]sdktrace.Link, bool) {
	var out []sdktrace.Link
	for i, l := range links {
		attrs, c := r.attrs(l.Attributes)
		if !c {
			continue
		}
		if out == nil {
			out = slices.Clone(links)
		}
		out[i].Attributes = attrs
	}
	if out == nil {
		return links, false
	}
	return out, true
}

// attrs returns the attributes with string values redacted, and whether
// anything changed (the slice is copied only then).
func (r *Redactor) attrs(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	var out []attribute.KeyValue
	for i, kv := range kvs {
		v, c := r.value(kv.Value)
		if !c {
			continue
		}
		if out == nil {
			out = slices.Clone(kvs)
		}
		out[i].Value = v
	}
	if out == nil {
		return kvs, false
	}
	return out, true
}

// value returns v with its strings redacted, and whether it changed.
func (r *Redactor) value(v attribute.Value) (attribute.Value, bool) {
	switch v.Type() {
	case attribute.STRING:
		s := r.Redact(v.AsString())
		return attribute.StringValue(s), s != v.AsString()
	case attribute.STRINGSLICE:
		ss := v.AsStringSlice()
		changed := false
		for i, s := range ss {
			ss[i] = r.Redact(s)
			changed = changed || ss[i] != s
		}
		return attribute.StringSliceValue(ss), changed
	case attribute.SLICE:
		vs := v.AsSlice()
		changed := false
		for i, e := range vs {
			var c bool
			vs[i], c = r.value(e)
			changed = changed || c
		}
		return attribute.SliceValue(vs...), changed
	case attribute.MAP:
		kvs, c := r.attrs(v.AsMap())
		return attribute.MapValue(kvs...), c
	}
	return v, false
}

// Stream redacts text that arrives in pieces, such as a model's streamed
// answer, where a secret value may be split across two pieces: the end of
// what it was given that could begin a secret is held back until the next
// piece, or Flush, shows whether it does. Not safe for concurrent use.
type Stream struct {
	r       *Redactor
	pending string
}

// Stream returns a Stream redacting with r.
func (r *Redactor) Stream() *Stream { return &Stream{r: r} }

// Write takes the next piece and returns the redacted text that can be
// shown now; "" while everything is held back.
func (s *Stream) Write(piece string) string {
	if s.r == nil || len(s.r.secrets) == 0 {
		return piece
	}
	buf := s.pending + piece
	hold := s.held(buf)
	s.pending = buf[len(buf)-hold:]
	return s.r.Redact(buf[:len(buf)-hold])
}

// Flush returns what is held back, redacted: the stream has ended.
func (s *Stream) Flush() string {
	out := s.r.Redact(s.pending)
	s.pending = ""
	return out
}

// held is the length of the longest end of buf that is the beginning of a
// secret value (and not a whole one, which Redact replaces).
func (s *Stream) held(buf string) int {
	longest := 0
	for _, sec := range s.r.secrets {
		for n := min(len(sec.value)-1, len(buf)); n > longest; n-- {
			if strings.HasSuffix(buf, sec.value[:n]) {
				longest = n
				break
			}
		}
	}
	return longest
}
