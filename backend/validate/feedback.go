package validate

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"factorydesk/backend"
)

// Limits of Feedback's text.
const (
	feedbackLines = 60
	feedbackBytes = 4 << 10
)

// errorLine matches lines that locate or announce a failure: Go compiler, vet
// and test positions (`path.go:12:3: msg`, `file.go:12: msg`), test failures,
// panics and build errors.
var errorLine = regexp.MustCompile(`(?:^|\s)[\w./\\-]+\.\w+:\d+(?::\d+)?:?\s|^\s*--- FAIL|^FAIL\b|^panic:|^fatal error:|(?i:^\s*error\b)|^# `)

// Feedback trims a failed gate's output to what matters for the next attempt:
// the command and its exit status, then the lines that look like errors
// (file:line positions, test failures, panics with their stacks), then some of
// the output's tail, in at most ~60 lines and 4 KiB.
func Feedback(r backend.GateResult) string {
	var b strings.Builder
	switch {
	case r.TimedOut:
		fmt.Fprintf(&b, "$ %s (timed out after %s)\n", r.Name, r.Duration.Round(time.Millisecond))
	case r.Passed:
		fmt.Fprintf(&b, "$ %s (passed)\n", r.Name)
	default:
		fmt.Fprintf(&b, "$ %s (exit %d)\n", r.Name, r.ExitCode)
	}
	lines := strings.Split(strings.TrimRight(r.Output, "\n"), "\n")
	w := &limitedLines{b: &b, lines: feedbackLines, bytes: feedbackBytes - b.Len(), seen: map[string]bool{}}
	important := errorLines(lines)
	for i, l := range lines {
		if important[i] && !w.add(l) {
			break
		}
	}
	// Then the output's tail, which usually carries the summary: a few lines
	// after errors, as many as fit when nothing looked like one.
	tail := w.lines
	if len(important) > 0 {
		tail = min(tail, 10)
	}
	first := len(lines)
	for n := 0; first > 0 && n < tail; first-- {
		if !important[first-1] && strings.TrimSpace(lines[first-1]) != "" {
			n++
		}
	}
	var rest []string
	for _, l := range lines[first:] {
		if !w.seen[l] && strings.TrimSpace(l) != "" {
			rest = append(rest, l)
		}
	}
	if len(important) > 0 && len(rest) > 0 {
		w.add("...")
	}
	for _, l := range rest {
		w.add(l)
	}
	return strings.TrimRight(b.String(), "\n")
}

// errorLines marks the lines that look like errors, and the stack lines that
// follow a panic.
func errorLines(lines []string) map[int]bool {
	marked := make(map[int]bool)
	for i := 0; i < len(lines); i++ {
		if !errorLine.MatchString(lines[i]) {
			continue
		}
		marked[i] = true
		if strings.HasPrefix(lines[i], "panic:") || strings.HasPrefix(lines[i], "fatal error:") {
			for j := i + 1; j < len(lines) && j <= i+12; j++ {
				if strings.TrimSpace(lines[j]) != "" {
					marked[j] = true
				}
			}
		}
	}
	return marked
}

// limitedLines writes distinct lines to b within a line and byte budget.
type limitedLines struct {
	b     *strings.Builder
	lines int
	bytes int
	seen  map[string]bool
}

// add writes l unless it was written already; it reports false once the
// budget is spent.
func (w *limitedLines) add(l string) bool {
	if w.seen[l] && l != "..." {
		return true
	}
	if w.lines <= 0 || len(l)+1 > w.bytes {
		return false
	}
	w.seen[l] = true
	w.b.WriteString(l)
	w.b.WriteByte('\n')
	w.lines--
	w.bytes -= len(l) + 1
	return true
}
