package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"factorydesk/backend"
)

func (c *CLI) runsCommand() *cobra.Command {
	var f backend.RunFilter
	cmd := &cobra.Command{
		Use:     "runs",
		Short:   "List the workspace's runs, newest first",
		Example: "  factory runs\n  factory runs --blueprint orders-service --status failed --json",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := c.open(cmd.Context())
			if err != nil {
				return err
			}
			runs, err := db.Runs(cmd.Context(), f)
			if err != nil {
				return err
			}
			if c.jsonOut {
				if runs == nil {
					runs = []backend.Run{}
				}
				return writeJSON(c.Stdout, runs)
			}
			if len(runs) == 0 {
				fmt.Fprintln(c.Stderr, "no runs yet (start one with: factory run BLUEPRINT)")
				return nil
			}
			tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tBLUEPRINT\tSTATUS\tMODEL\tTOKENS IN/OUT\tCALLS\tDURATION\tSTARTED")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\n", r.ID, r.BlueprintID, r.Status, r.Model,
					r.TokensIn, r.TokensOut, r.Calls, duration(r.StartedAt, r.EndedAt), r.StartedAt.Local().Format("2006-01-02 15:04:05"))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&f.BlueprintID, "blueprint", "", "only runs of this blueprint id")
	cmd.Flags().StringVar(&f.Status, "status", "", "only runs in this status (running, succeeded, failed, canceled, ...)")
	cmd.Flags().IntVar(&f.Limit, "limit", 0, "at most this many runs (0: all)")
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the runs as JSON on stdout")
	return cmd
}

func (c *CLI) showCommand() *cobra.Command {
	var spans bool
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run: steps, attempts, model calls and artifacts",
		Long: `Show one run (its id, or a unique prefix of it): its steps, every attempt with
its error, every model call (model, tokens in/out, durations, the prompt and
answer by blob hash) and every artifact (path, sha256, step, attempt and the
blueprint sections it came from). With --spans: the run's span tree (run, step
attempts, model calls, gates, file writes) with durations.`,
		Example: "  factory show 4bf92f35\n  factory show 4bf92f3577b34da6a3ce929d0e0e4736 --json\n  factory show 4bf92f35 --spans",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			db, err := c.open(cmd.Context())
			if err != nil {
				return err
			}
			d, err := db.Run(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			if spans {
				return c.showSpans(cmd.Context(), db, d.Run.ID)
			}
			if c.jsonOut {
				return writeJSON(c.Stdout, d)
			}
			return printRun(c.Stdout, d)
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the run as JSON on stdout")
	cmd.Flags().BoolVar(&spans, "spans", false, "print the run's span tree with durations instead")
	return cmd
}

func printRun(w io.Writer, d *backend.RunDetail) error {
	r := d.Run
	fmt.Fprintf(w, "run        %s\n", r.ID)
	fmt.Fprintf(w, "blueprint  %s (%s, version %s)\n", r.BlueprintID, r.BlueprintPath, short(r.BlueprintVersion))
	fmt.Fprintf(w, "status     %s\n", r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "error      %s\n", r.Error)
	}
	fmt.Fprintf(w, "model      %s\n", r.Model)
	fmt.Fprintf(w, "output     %s\n", r.Output)
	fmt.Fprintf(w, "tokens     %d in / %d out in %d call(s)\n", r.TokensIn, r.TokensOut, r.Calls)
	fmt.Fprintf(w, "time       %s, %s\n", r.StartedAt.Local().Format("2006-01-02 15:04:05"), duration(r.StartedAt, r.EndedAt))

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSTEP\tROLE\tSTATUS\tATTEMPTS\tMODEL\tTOKENS IN/OUT\tDURATION\tSECTIONS")
	for _, s := range d.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d/%d\t%s\t%s\n", s.StepID, s.Role, s.Status, s.Attempts, s.Model,
			s.TokensIn, s.TokensOut, duration(s.StartedAt, s.EndedAt), strings.Join(s.Sections, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var failed []backend.Attempt
	for _, a := range d.Attempts {
		if a.Error != "" {
			failed = append(failed, a)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintln(w, "\nFAILED ATTEMPTS")
		for _, a := range failed {
			fmt.Fprintf(w, "  %s #%d: %s\n", a.StepID, a.N, indent(a.Error))
		}
	}
	printValidation(w, d)
	fmt.Fprintln(tw, "\nCALL\tSTEP\tATTEMPT\tMODEL\tTOKENS IN/OUT\tDURATION\tFIRST TOKEN\tPROMPT\tANSWER\tERROR")
	for _, m := range d.Calls {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s:%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\n", m.Seq, m.StepID, m.Attempt, m.Provider, m.Model,
			m.TokensIn, m.TokensOut, m.Duration.Round(time.Millisecond), m.FirstToken.Round(time.Millisecond),
			short(m.PromptHash), short(m.AnswerHash), firstLine(m.Error))
	}
	fmt.Fprintln(tw, "\nARTIFACT\tSHA256\tSIZE\tSTEP\tATTEMPT\tSECTIONS")
	for _, a := range d.Artifacts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", a.Path, short(a.SHA256), a.Size, a.StepID, a.Attempt, strings.Join(a.Sections, ","))
	}
	return tw.Flush()
}

func duration(start, end time.Time) string {
	if start.IsZero() {
		return "-"
	}
	if end.IsZero() {
		return "running"
	}
	if end.Before(start) {
		return "-" // a record from elsewhere whose clock ran backwards
	}
	return end.Sub(start).Round(time.Millisecond).String()
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n      ")
}
