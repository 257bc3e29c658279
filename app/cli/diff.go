package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"factorydesk/backend/rundiff"
)

func (c *CLI) diffCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff RUN_A RUN_B",
		Short: "Compare two runs step by step: outcome, model, prompts, files, gates, tokens, time",
		Long: `Compare two runs (ids or unique prefixes) step by step: status, attempts, cache
hits, model and options, the prompt of the final attempt (a unified diff), the
files each step left (a unified diff per path; added and removed files named),
gate results, tokens and durations. Steps that came out the same are listed
in one line.`,
		Example: "  factory diff 4bf92f35 9c1e77a0\n  factory diff 4bf92f35 9c1e77a0 --json",
		Args:    args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			db, err := c.open(ctx)
			if err != nil {
				return err
			}
			ra, err := db.Run(ctx, a[0])
			if err != nil {
				return err
			}
			rb, err := db.Run(ctx, a[1])
			if err != nil {
				return err
			}
			rep, err := rundiff.Compare(ctx, db, ra, rb)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return writeJSON(c.Stdout, rep)
			}
			printDiff(c.Stdout, rep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the comparison as JSON on stdout")
	return cmd
}

// printDiff writes a comparison for a terminal.
func printDiff(w io.Writer, rep *rundiff.Report) {
	fmt.Fprintf(w, "a  %s  %s  %s  %s\n", rep.A.ID, rep.A.Status, rep.A.Model, duration(rep.A.StartedAt, rep.A.EndedAt))
	fmt.Fprintf(w, "b  %s  %s  %s  %s\n", rep.B.ID, rep.B.Status, rep.B.Model, duration(rep.B.StartedAt, rep.B.EndedAt))
	if rep.A.BlueprintVersion != rep.B.BlueprintVersion {
		fmt.Fprintf(w, "blueprint version %s -> %s\n", short(rep.A.BlueprintVersion), short(rep.B.BlueprintVersion))
	}
	for _, s := range rep.Steps {
		fmt.Fprintln(w)
		switch s.Only {
		case "a":
			fmt.Fprintf(w, "step %s: only in a (%s)\n", s.StepID, s.Status[0])
			continue
		case "b":
			fmt.Fprintf(w, "step %s: only in b (%s)\n", s.StepID, s.Status[1])
			continue
		}
		if s.Same {
			fmt.Fprintf(w, "step %s: same (%s)\n", s.StepID, s.Status[1])
			continue
		}
		fmt.Fprintf(w, "step %s:\n", s.StepID)
		pair(w, "status", s.Status[0], s.Status[1])
		pair(w, "attempts", fmt.Sprint(s.Attempts[0]), fmt.Sprint(s.Attempts[1]))
		pair(w, "cache hit", fmt.Sprint(s.CacheHit[0]), fmt.Sprint(s.CacheHit[1]))
		pair(w, "model", s.Model[0], s.Model[1])
		pair(w, "options", s.Options[0], s.Options[1])
		pair(w, "tokens", fmt.Sprintf("%d in / %d out", s.TokensIn[0], s.TokensOut[0]),
			fmt.Sprintf("%d in / %d out", s.TokensIn[1], s.TokensOut[1]))
		fmt.Fprintf(w, "  %-10s %s -> %s\n", "time", s.Duration[0].Round(time.Millisecond), s.Duration[1].Round(time.Millisecond))
		pair(w, "gates", strings.Join(s.Gates[0], "; "), strings.Join(s.Gates[1], "; "))
		if s.Prompt != "" {
			fmt.Fprintf(w, "  prompt:\n%s", indentBlock(s.Prompt))
		}
		for _, f := range s.Files {
			fmt.Fprintf(w, "  file %s (%s):\n%s", f.Path, f.Change, indentBlock(f.Diff))
		}
	}
}

// pair prints "name a -> b" when the values differ, "name a" otherwise.
func pair(w io.Writer, name, a, b string) {
	if a == b {
		if a != "" {
			fmt.Fprintf(w, "  %-10s %s\n", name, a)
		}
		return
	}
	fmt.Fprintf(w, "  %-10s %s -> %s\n", name, orDash(a), orDash(b))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// indentBlock indents every line of s by four spaces.
func indentBlock(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.SplitAfter(strings.TrimRight(s, "\n")+"\n", "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	return b.String()
}
