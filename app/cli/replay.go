package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/engine"
	"factorydesk/backend/rerun"
)

func (c *CLI) replayCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay RUN",
		Short: "Re-execute a run with every model call answered from its record, and check the files come out identical",
		Long: `Replay a run (its id, or a unique prefix): run the exact blueprint version and
roles it ran with again, every model call answered from its record (by the
request's hash, else by step, attempt and call order), the gates run for real,
into a scratch folder .factory/replay/<replay run id>. Then compare each step's
files byte for byte with the original run's.

A divergence is reported by step: which file, its first differing line, and why
the request differed from the recorded one. The replay is a run of its own
(kind replay), linked to the original.

Exit status: 0 identical, 1 diverged (or another error).`,
		Example: "  factory replay 4bf92f35\n  factory replay 4bf92f3577b34da6a3ce929d0e0e4736 --json",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return c.replay(cmd.Context(), a[0])
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the comparison as JSON on stdout")
	return cmd
}

func (c *CLI) replay(parent context.Context, id string) error {
	root, db, ctx, stop, err := c.session(parent)
	if err != nil {
		return err
	}
	defer stop()
	src, err := rerun.Load(ctx, db, id, c.libraryRoles())
	if err != nil {
		return err
	}
	cfg, flush, err := c.engineConfig(ctx, db, src.Blueprint)
	if err != nil {
		return err
	}
	defer flush()
	res, err := rerun.Replay(ctx, cfg, src, engine.RunOptions{Workspace: root, Parallel: runtime.NumCPU()})
	if err != nil {
		return err
	}
	if res.Run.Status == backend.StatusCanceled {
		return exit(ExitCanceled, fmt.Errorf("replay %s canceled", res.Run.ID))
	}
	if c.jsonOut {
		if err := writeJSON(c.Stdout, res); err != nil {
			return err
		}
	} else {
		printReplay(c.Stdout, res)
	}
	if !res.Identical {
		return exit(ExitFailed, nil)
	}
	return nil
}

// printReplay writes the outcome of a replay, step by step.
func printReplay(w io.Writer, res *rerun.ReplayResult) {
	verdict := "identical"
	if !res.Identical {
		verdict = "diverged"
	}
	fmt.Fprintf(w, "replay %s of run %s: %s (%d call(s) answered from the record, output in %s)\n",
		res.Run.ID, res.Original, verdict, res.Calls, res.Output)
	for _, s := range res.Steps {
		mark := "same"
		if !s.Identical {
			mark = "DIVERGED"
		}
		fmt.Fprintf(w, "  %-16s %-9s %s", s.StepID, mark, s.Status[1])
		if s.Status[0] != s.Status[1] {
			fmt.Fprintf(w, " (was %s)", s.Status[0])
		}
		fmt.Fprintln(w)
		for _, f := range s.Files {
			switch f.Change {
			case "changed":
				fmt.Fprintf(w, "      %s: first differs at line %d\n        was: %q\n        is:  %q\n", f.Path, f.Line, f.Was, f.Is)
			case "added":
				fmt.Fprintf(w, "      %s: written by the replay only\n", f.Path)
			default:
				fmt.Fprintf(w, "      %s: not written by the replay\n", f.Path)
			}
		}
		for _, r := range s.Requests {
			fmt.Fprintf(w, "      request differed: %s\n", r)
		}
	}
}
