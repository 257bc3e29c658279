package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"factorydesk/backend"
)

// printValidation prints a run's gate results and reviews for factory show.
func printValidation(w io.Writer, d *backend.RunDetail) {
	if len(d.Gates) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nGATE\tSTEP\tATTEMPT\tRESULT\tEXIT\tDURATION\tSANDBOX\tOUTPUT")
		for _, g := range d.Gates {
			step := g.StepID
			if step == "" {
				step = "(checks)"
			}
			result := "passed"
			switch {
			case g.TimedOut:
				result = "timed out"
			case !g.Passed:
				result = "failed"
			}
			sandbox := "no"
			if g.Sandboxed {
				sandbox = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", oneLine(g.Name, 40), step, g.Attempt, result, g.ExitCode,
				g.Duration.Round(time.Millisecond), sandbox, oneLine(lastLine(g.Output), 60))
		}
		tw.Flush()
	}
	if len(d.Reviews) > 0 {
		fmt.Fprintln(w, "\nREVIEWS")
		for _, r := range d.Reviews {
			line := fmt.Sprintf("  %s #%d: %s", r.StepID, r.Attempt, r.Status)
			if r.Comment != "" {
				line += ": " + indent(r.Comment)
			}
			fmt.Fprintln(w, line)
		}
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	end := len(s)
	for end > 0 && (s[end-1] == '\n' || s[end-1] == ' ') {
		end--
	}
	start := end
	for start > 0 && s[start-1] != '\n' {
		start--
	}
	return s[start:end]
}
