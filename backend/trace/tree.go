package trace

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"factorydesk/backend"
)

// Node is a span with its child spans, ordered by start time.
type Node struct {
	Span     backend.Span
	Children []*Node
}

// Tree arranges spans by parent. The roots are the spans without a parent
// and those whose parent is not among spans (not recorded, or cut off).
// Siblings are ordered by start time, then by their order in spans.
func Tree(spans []backend.Span) []*Node {
	nodes := make(map[string]*Node, len(spans))
	all := make([]*Node, len(spans))
	for i := range spans {
		all[i] = &Node{Span: spans[i]}
		nodes[spans[i].SpanID] = all[i]
	}
	var roots []*Node
	for _, n := range all {
		parent, ok := nodes[n.Span.ParentID]
		if n.Span.ParentID == "" || !ok || parent == n {
			roots = append(roots, n)
			continue
		}
		parent.Children = append(parent.Children, n)
	}
	byStart := func(a, b *Node) int { return a.Span.Start.Compare(b.Span.Start) }
	for _, n := range all {
		slices.SortStableFunc(n.Children, byStart)
	}
	slices.SortStableFunc(roots, byStart)
	return roots
}

// PrintTree writes the span tree, one span a line: the name indented under
// its parent, the start relative to the first root, the duration, the
// status, the key attributes (model, tokens, agent, step, attempt, file)
// and the message of an error.
func PrintTree(w io.Writer, nodes []*Node) error {
	if len(nodes) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	origin := nodes[0].Span.Start
	for _, n := range nodes {
		printNode(tw, n, "", "", origin)
	}
	return tw.Flush()
}

// printNode writes a node's line and then its children's, below a prefix.
func printNode(w io.Writer, n *Node, first, rest string, origin time.Time) {
	s := &n.Span
	line := fmt.Sprintf("%s%s\t+%s\t%s\t%s", first, oneLine(s.Name, 80),
		formatDuration(s.Start.Sub(origin)), spanDuration(s), statusText(s.StatusCode))
	if d := details(s); d != "" {
		line += "\t" + d // a last cell without details would be padded with spaces
	}
	io.WriteString(w, line+"\n")
	for i, c := range n.Children {
		if i == len(n.Children)-1 {
			printNode(w, c, rest+"└─ ", rest+"   ", origin)
		} else {
			printNode(w, c, rest+"├─ ", rest+"│  ", origin)
		}
	}
}

// spanDuration is a span's duration, or "running" if it has not ended.
func spanDuration(s *backend.Span) string {
	if s.End.IsZero() {
		return "running"
	}
	return formatDuration(s.End.Sub(s.Start))
}

// formatDuration rounds d to about three significant digits.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + formatDuration(-d)
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// statusText is the status column: "ok", "error" or "-" when unset.
func statusText(code string) string {
	if code == "" || code == backend.SpanUnset {
		return "-"
	}
	return code
}

// shownAttrs are the attributes PrintTree shows, with their labels. A
// value the span's name already holds is not repeated.
var shownAttrs = []struct{ key, label string }{
	{AttrBlueprint, "blueprint"},
	{AttrGenAIRequestModel, "model"},
	{AttrGenAIAgentName, "agent"},
	{AttrStep, "step"},
	{AttrAttempt, "attempt"},
	{AttrGate, "gate"},
	{AttrFilePath, "path"},
	{AttrBytes, "bytes"},
	{AttrCacheHit, "cache_hit"},
	{AttrErrorType, "error.type"},
}

// details is the last column: key attributes, tokens, the error message.
func details(s *backend.Span) string {
	var parts []string
	for _, a := range shownAttrs {
		v, ok := s.Attributes[a.key]
		if !ok {
			continue
		}
		text := fmt.Sprint(v)
		if str, isStr := v.(string); isStr && strings.Contains(s.Name, str) {
			continue
		}
		parts = append(parts, a.label+"="+oneLine(text, 60))
	}
	in, hasIn := s.Attributes[AttrGenAIUsageInputTokens]
	out, hasOut := s.Attributes[AttrGenAIUsageOutputTokens]
	if hasIn || hasOut {
		parts = append(parts, fmt.Sprintf("tokens=%v→%v", orDash(in), orDash(out)))
	}
	if s.StatusCode == backend.SpanError && s.StatusMessage != "" {
		parts = append(parts, "error: "+oneLine(s.StatusMessage, 120))
	}
	return strings.Join(parts, " ")
}

// orDash returns v, or "-" for nil.
func orDash(v any) any {
	if v == nil {
		return "-"
	}
	return v
}

// oneLine returns s on one line (runs of white space become one space, tabs
// included, which would break the columns), cut to at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
