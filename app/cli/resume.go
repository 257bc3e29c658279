package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/engine"
)

func (c *CLI) resumeCommand() *cobra.Command {
	var noWait bool
	var parallel int
	cmd := &cobra.Command{
		Use:   "resume RUN",
		Short: "Continue an interrupted run, or one whose review was decided",
		Long: `Continue a run (its id or a unique prefix) in this process: a run whose
process died (it shows as interrupted), a run that waits for a review (after
factory review), or one that failed or was canceled.

Steps that succeeded (or whose review was approved) are kept when their files
in the output folder are unchanged (checked by sha256); a step with a missing
or changed file runs again, as do steps that did not finish. A rejected
review's comment is the feedback of the step's next attempt. The run uses the
blueprint version it started with, as recorded in the database.

Exit status as for factory run: 0 succeeded, 1 failed, 3 waits for a review,
130 interrupted.`,
		Example: "  factory resume 4bf92f35\n  factory resume 4bf92f35 --no-wait --json",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkRunFlags(parallel, ""); err != nil {
				return err
			}
			return c.resume(cmd.Context(), a[0], noWait, parallel)
		},
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "do not wait for reviews: exit with status 3 and the command to resume")
	cmd.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "how many steps may run at once")
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the run summary as JSON on stdout")
	return cmd
}

func (c *CLI) resume(parent context.Context, id string, noWait bool, parallel int) error {
	db, err := c.open(parent)
	if err != nil {
		return err
	}
	root, err := c.root()
	if err != nil {
		return err
	}
	d, err := db.Run(parent, id)
	if err != nil {
		return err
	}
	text, err := db.BlueprintVersion(parent, d.Run.BlueprintVersion)
	if err != nil {
		return err
	}
	roles := c.libraryRoles()
	bp, diags := blueprint.Parse(d.Run.BlueprintPath, text, roles)
	if bp == nil || len(diags) > 0 {
		return backend.Errorf(backend.EINVALID, "the blueprint version run %s ran no longer parses with the workspace's roles:\n%s", d.Run.ID, diags.Error())
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, flush, err := c.engineConfig(ctx, db, bp)
	if err != nil {
		return err
	}
	defer flush()
	run, err := engine.New(cfg).Resume(ctx, engine.RunOptions{
		RunID: d.Run.ID, Blueprint: bp, Roles: roles, Workspace: root, Model: modelOverride(d.Run, bp),
		Parallel: parallel, WaitReview: c.waitReview(noWait),
	})
	if err != nil {
		return err
	}
	return c.reportRun(ctx, db, run)
}

// modelOverride is the --model a run was started with: its recorded model
// when that is not the blueprint's.
func modelOverride(r backend.Run, bp *backend.Blueprint) string {
	if r.Model == bp.Model {
		return ""
	}
	return r.Model
}

// waitReview reports whether a run waits for reviews in this process: not
// with --no-wait, and only when stdin is a terminal someone may answer from.
func (c *CLI) waitReview(noWait bool) bool {
	if noWait {
		return false
	}
	f, ok := c.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// checkBudget prints the run's estimate on stderr and refuses a run whose
// estimate exceeds the blueprint's budget, unless overBudget.
func (c *CLI) checkBudget(bp *backend.Blueprint, roles map[string]*backend.Role, overBudget bool) error {
	est := engine.EstimateRun(bp, roles)
	b := bp.Budget
	line := est.String()
	if b != (backend.Budget{}) {
		line += fmt.Sprintf(" (budget: max_tokens %s, max_calls %s, max_minutes %s)",
			limit(b.MaxTokens), limit(b.MaxCalls), limit(b.MaxMinutes))
	}
	fmt.Fprintln(c.Stderr, line)
	over := est.Over(b)
	if len(over) == 0 {
		return nil
	}
	if overBudget {
		fmt.Fprintf(c.Stderr, "over budget, running anyway (--over-budget): %v\n", over)
		return nil
	}
	return exit(ExitFailed, fmt.Errorf("blueprint %s: the estimate exceeds its budget %v; raise the budget in %s or run with --over-budget",
		bp.ID, over, bp.Path))
}

func limit(n int) string {
	if n <= 0 {
		return "none"
	}
	return fmt.Sprint(n)
}
