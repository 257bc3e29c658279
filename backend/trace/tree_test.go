package trace

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

// span returns a span of testRunID from ms to endMS (0: not ended).
func span(id, parent, name string, ms, endMS int) backend.Span {
	s := backend.Span{TraceID: testRunID, SpanID: id, ParentID: parent, Name: name, Start: at(ms),
		StatusCode: backend.SpanUnset}
	if endMS > 0 {
		s.End = at(endMS)
	}
	return s
}

// shape renders a tree as name(children...) for comparison.
func shape(nodes []*Node) string {
	var parts []string
	for _, n := range nodes {
		p := n.Span.Name
		if len(n.Children) > 0 {
			p += "(" + shape(n.Children) + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func TestTree(t *testing.T) {
	tests := []struct {
		name  string
		spans []backend.Span
		want  string
	}{
		{"empty", nil, ""},
		{"children by start", []backend.Span{
			span("r", "", "run", 0, 10), span("b", "r", "b", 5, 6), span("a", "r", "a", 1, 2), span("c", "a", "c", 1, 2),
		}, "run(a(c) b)"},
		{"equal starts keep input order", []backend.Span{
			span("r", "", "run", 0, 10), span("x", "r", "x", 1, 2), span("y", "r", "y", 1, 2),
		}, "run(x y)"},
		{"orphan becomes a root", []backend.Span{
			span("r", "", "run", 0, 10), span("o", "missing", "orphan", 3, 4),
		}, "run orphan"},
		{"own parent becomes a root", []backend.Span{span("s", "s", "self", 0, 1)}, "self"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shape(Tree(tt.spans)); got != tt.want {
				t.Errorf("Tree = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrintTree(t *testing.T) {
	call := span("c", "a", "chat llama3.2:3b", 1_500, 3_750)
	call.Attributes = map[string]any{
		AttrGenAIRequestModel: "llama3.2:3b", AttrGenAIResponseModel: "llama3.2:3b",
		AttrGenAIUsageInputTokens: int64(90),
	}
	call.StatusCode = backend.SpanOK
	gate := span("g", "a", "gate go test ./...", 4_000, 0)
	gate.Attributes = map[string]any{AttrGate: "go test ./...", AttrCacheHit: true}
	bad := span("w", "a", "write_file\tout/a.go", 3_800, 3_800)
	bad.StatusCode, bad.StatusMessage = backend.SpanError, "path out/a.go\nis outside\tthe step's writes "+strings.Repeat("x", 200)
	agent := span("a", "r", "invoke_agent qa-engineer", 1_000, 125_000)
	agent.Attributes = map[string]any{AttrGenAIAgentName: "qa-engineer", AttrStep: "tests", AttrAttempt: int64(2)}
	spans := []backend.Span{span("r", "", "run", 0, 3_725_000), agent, call, bad, gate, span("o", "gone", "orphan", 200, 200)}

	var out bytes.Buffer
	if err := PrintTree(&out, Tree(spans)); err != nil {
		t.Fatalf("PrintTree: %v", err)
	}
	golden(t, "print_tree.golden", out.Bytes())
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{850 * time.Nanosecond, "1µs"},
		{850 * time.Microsecond, "850µs"},
		{12345 * time.Microsecond, "12.3ms"},
		{8149 * time.Millisecond, "8.1s"},
		{62500 * time.Millisecond, "1m3s"},
		{-2 * time.Second, "-2s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := formatDuration(tt.in); got != tt.want {
				t.Errorf("formatDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
