package cli

import (
	"context"

	"factorydesk/backend"
	"factorydesk/backend/sqlite"
	"factorydesk/backend/trace"
)

// spanNode is a span with its children, the --spans --json output.
type spanNode struct {
	backend.Span
	DurationNS int64       `json:"duration_ns"`
	Children   []*spanNode `json:"children,omitempty"`
}

// showSpans prints a run's span tree with durations.
func (c *CLI) showSpans(ctx context.Context, db *sqlite.DB, runID string) error {
	spans, err := db.Spans(ctx, runID)
	if err != nil {
		return err
	}
	roots := trace.Tree(spans)
	if c.jsonOut {
		out := make([]*spanNode, 0, len(roots))
		for _, n := range roots {
			out = append(out, toSpanNode(n))
		}
		return writeJSON(c.Stdout, out)
	}
	if len(roots) == 0 {
		c.log().Warn("the run has no recorded spans", "run", runID)
		return nil
	}
	return trace.PrintTree(c.Stdout, roots)
}

func toSpanNode(n *trace.Node) *spanNode {
	out := &spanNode{Span: n.Span, DurationNS: n.Span.End.Sub(n.Span.Start).Nanoseconds()}
	for _, ch := range n.Children {
		out.Children = append(out.Children, toSpanNode(ch))
	}
	return out
}
