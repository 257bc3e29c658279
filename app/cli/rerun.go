package cli

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/engine"
	"factorydesk/backend/rerun"
)

// rerunFlags are the flags of factory rerun.
type rerunFlags struct {
	from      string
	model     string
	blueprint string
	parallel  int
}

func (c *CLI) rerunCommand() *cobra.Command {
	var f rerunFlags
	cmd := &cobra.Command{
		Use:   "rerun RUN --from STEP",
		Short: "Fork a run: run a step and everything downstream again, reusing the recorded outputs of the rest",
		Long: `Fork a run (its id, or a unique prefix) from a step: STEP and every step that
needs it, directly or not, run again — with another model (--model) or a changed
blueprint file (--blueprint) — while every other step takes the files the run
recorded for it, with no model call. The fork is a run of its own (kind fork),
linked to RUN; it writes to the blueprint's output folder.

On stdout: the new run id, or with --json the run summary.
Exit status: 0 the fork succeeded, 1 it failed, 130 interrupted.`,
		Example: "  factory rerun 4bf92f35 --from tests\n" +
			"  factory rerun 4bf92f35 --from code --model ollama:qwen2.5-coder:14b\n" +
			"  factory rerun 4bf92f35 --from design --blueprint blueprints/orders-service.md --json",
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return c.rerun(cmd.Context(), a[0], f)
		},
	}
	cmd.Flags().StringVar(&f.from, "from", "", "the step to run again, with everything downstream of it (required)")
	cmd.Flags().StringVar(&f.model, "model", "", "model for the steps run again, as provider:model (default: the run's)")
	cmd.Flags().StringVar(&f.blueprint, "blueprint", "", "a blueprint file (or id) to run instead of the run's recorded version")
	cmd.Flags().IntVar(&f.parallel, "parallel", runtime.NumCPU(), "how many steps may run at once")
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the run summary as JSON on stdout")
	return cmd
}

func (c *CLI) rerun(parent context.Context, id string, f rerunFlags) error {
	if f.from == "" {
		return usageError{fmt.Errorf("rerun: --from STEP is required (see --help)")}
	}
	if err := checkRunFlags(f.parallel, f.model); err != nil {
		return err
	}
	root, db, ctx, stop, err := c.session(parent)
	if err != nil {
		return err
	}
	defer stop()
	opts := engine.RunOptions{Workspace: root, Model: f.model, Parallel: f.parallel}
	roles := c.libraryRoles()
	if f.blueprint != "" {
		lib, err := c.library()
		if err != nil {
			return err
		}
		bp, err := lib.Find(f.blueprint)
		if err != nil {
			return err
		}
		if diags := diagnosticsFor(lib.Diagnostics, bp.Path); len(diags) > 0 {
			for _, d := range diags {
				fmt.Fprintln(c.Stderr, d.String())
			}
			return exit(ExitFailed, fmt.Errorf("%s has %d error(s); fix them first (factory check %s)", bp.Path, len(diags), bp.ID))
		}
		opts.Blueprint, opts.Roles = bp, lib.Roles
	}
	src, err := rerun.Load(ctx, db, id, roles)
	if err != nil {
		return err
	}
	if opts.Blueprint == nil {
		// The recorded version, with the workspace's roles as they are now.
		opts.Roles = mergeRoles(src.Roles, roles)
	}
	bp := opts.Blueprint
	if bp == nil {
		bp = src.Blueprint
	}
	cfg, flush, err := c.engineConfig(ctx, db, bp)
	if err != nil {
		return err
	}
	defer flush()
	run, err := rerun.Fork(ctx, cfg, src, f.from, opts)
	if err != nil {
		return err
	}
	return c.reportRun(ctx, db, run)
}

// mergeRoles returns base with the roles of over put over it.
func mergeRoles(base, over map[string]*backend.Role) map[string]*backend.Role {
	out := make(map[string]*backend.Role, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
