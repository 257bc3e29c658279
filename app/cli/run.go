package cli

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/agent"
	"factorydesk/backend/engine"
	"factorydesk/backend/sqlite"
)

// runFlags are the flags of factory run.
type runFlags struct {
	model    string
	parallel int
	noCache  bool
	// noWait exits with ExitReview when a step waits for a review, instead
	// of waiting for the decision.
	noWait     bool
	overBudget bool // run even when the estimate exceeds the budget
}

func (c *CLI) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run BLUEPRINT",
		Short: "Run a blueprint: its steps' agents, validated, recorded",
		Long: `Run a blueprint (an id or a file path) in the workspace: each step's agent is
given its context package, its answer parsed and written (only where the step's
writes globs allow, inside the output folder), its gates run, and failures
retried with the errors as feedback. Independent steps run in parallel.

Progress goes to stderr as steps start and end. On stdout: the run id, or with
--json the run summary. Everything is recorded in .factory/factory.db.

Before the run, an estimate of its tokens and model calls is printed on
stderr; a run whose estimate exceeds the blueprint's budget is refused unless
--over-budget. During the run, going over any budget limit stops it.

A step with review: required waits for an operator's decision (factory
review). Run from a terminal, factory run waits for it; with --no-wait, or
when stdin is not a terminal, it exits with status 3 and prints the
commands to review and resume.

Exit status: 0 the run succeeded, 1 it failed (or was refused), 3 it waits
for a review, 130 interrupted (Ctrl-C; the run is marked canceled).`,
		Example: "  factory run hello --model ollama:qwen2.5-coder:7b\n  factory run blueprints/orders-service.md --parallel 2 --json",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return c.run(cmd.Context(), a[0], f)
		},
	}
	cmd.Flags().StringVar(&f.model, "model", "", "model for every step, as provider:model (default: the blueprint's)")
	cmd.Flags().IntVar(&f.parallel, "parallel", runtime.NumCPU(), "how many steps may run at once")
	cmd.Flags().BoolVar(&f.noWait, "no-wait", false, "do not wait for reviews: exit with status 3 and the command to resume")
	cmd.Flags().BoolVar(&f.overBudget, "over-budget", false, "run even when the estimate exceeds the blueprint's budget")
	cmd.Flags().BoolVar(&f.noCache, "no-cache", false, "run every step, even one unchanged since a recorded run (no step cache)")
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the run summary as JSON on stdout")
	return cmd
}

func (c *CLI) run(parent context.Context, name string, f runFlags) error {
	if err := checkRunFlags(f.parallel, f.model); err != nil {
		return err
	}
	lib, err := c.library()
	if err != nil {
		return err
	}
	bp, err := lib.Find(name)
	if err != nil {
		return err
	}
	if diags := diagnosticsFor(lib.Diagnostics, bp.Path); len(diags) > 0 {
		for _, d := range diags {
			fmt.Fprintln(c.Stderr, d.String())
		}
		return exit(ExitFailed, fmt.Errorf("%s has %d error(s); fix them first (factory check %s)", bp.Path, len(diags), bp.ID))
	}
	if err := c.checkBudget(bp, lib.Roles, f.overBudget); err != nil {
		return err
	}
	root, db, ctx, stop, err := c.session(parent)
	if err != nil {
		return err
	}
	defer stop()

	tracer, flush, err := c.tracing(ctx, db, bp)
	if err != nil {
		return err
	}
	defer flush()
	p := &progress{w: c.Stderr, now: c.Now}
	eng := engine.New(engine.Config{
		Tracer:    tracer,
		Store:     db,
		Attempter: agent.New(agent.Config{Logger: c.log(), Now: c.Now, Redact: engine.Redactor(bp, c.Getenv)}),
		Providers: c.providers(),
		Logger:    c.log(),
		Now:       c.Now,
		OnEvent:   p.event,
		Getenv:    c.Getenv,
	})
	run, err := eng.Run(ctx, engine.RunOptions{
		Blueprint:  bp,
		Roles:      lib.Roles,
		Workspace:  root,
		Model:      f.model,
		Parallel:   f.parallel,
		NoCache:    f.noCache,
		WaitReview: c.waitReview(f.noWait),
	})
	if err != nil {
		return err
	}
	return c.reportRun(ctx, db, run)
}

// checkRunFlags checks the --parallel and --model flags of the commands
// that run steps.
func checkRunFlags(parallel int, model string) error {
	if parallel < 1 {
		return usageError{fmt.Errorf("--parallel must be at least 1")}
	}
	if model != "" {
		if _, err := backend.ParseModelRef(model); err != nil {
			return usageError{err}
		}
	}
	return nil
}

// reportRun prints a finished run: its id, or with --json its summary; the
// exit status follows its outcome.
func (c *CLI) reportRun(ctx context.Context, db *sqlite.DB, run *backend.Run) error {
	if c.jsonOut {
		detail, err := db.Run(context.WithoutCancel(ctx), run.ID)
		if err != nil {
			return err
		}
		if err := writeJSON(c.Stdout, runSummary{Run: detail.Run, Steps: detail.Steps}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(c.Stdout, run.ID)
	}
	return runExit(run)
}

// runSummary is the --json output of factory run.
type runSummary struct {
	Run   backend.Run       `json:"run"`
	Steps []backend.StepRun `json:"steps"`
}

// runExit maps a finished run to the command's exit status.
func runExit(run *backend.Run) error {
	switch run.Status {
	case backend.StatusSucceeded:
		return nil
	case backend.StatusCanceled:
		return exit(ExitCanceled, fmt.Errorf("run %s canceled", run.ID))
	case backend.StatusAwaitingReview:
		msg := run.Error
		if msg == "" {
			msg = fmt.Sprintf("waits for a review; then: factory resume %s", run.ID)
		}
		return exit(ExitReview, fmt.Errorf("run %s %s", run.ID, msg))
	}
	msg := run.Error
	if msg == "" {
		msg = run.Status
	}
	return exit(ExitFailed, fmt.Errorf("run %s %s: %s", run.ID, run.Status, msg))
}

// diagnosticsFor returns the diagnostics of one file and of the role library.
func diagnosticsFor(all backend.Diagnostics, path string) backend.Diagnostics {
	var out backend.Diagnostics
	for _, d := range all {
		if d.Path == path || isRolePath(d.Path) {
			out = append(out, d)
		}
	}
	return out
}

// progress prints engine events on stderr, one line per state change.
type progress struct {
	mu  sync.Mutex
	w   interface{ Write([]byte) (int, error) }
	now func() time.Time
}

func (p *progress) event(e engine.Event) {
	var line string
	switch e.Kind {
	case "run":
		line = fmt.Sprintf("run %s %s", short(e.RunID), e.Status)
		if e.Message != "" {
			line += ": " + e.Message
		}
	case "step":
		line = fmt.Sprintf("  %-16s %-10s", e.StepID, e.Status)
		if e.Attempt > 0 {
			line += fmt.Sprintf(" attempt %d", e.Attempt)
		}
		if e.TokensIn+e.TokensOut > 0 {
			line += fmt.Sprintf("  tokens %d in / %d out", e.TokensIn, e.TokensOut)
		}
		if e.Duration > 0 {
			line += "  " + e.Duration.Round(time.Millisecond).String()
		}
		if e.Message != "" {
			line += "  " + e.Message
		}
	case "attempt":
		if e.Status == backend.StatusRunning {
			line = fmt.Sprintf("  %-16s attempt %d", e.StepID, e.Attempt)
		} else if e.Status == backend.StatusFailed {
			line = fmt.Sprintf("  %-16s attempt %d failed: %s", e.StepID, e.Attempt, firstLine(e.Message))
		}
	case "gate":
		if e.Status == backend.StatusFailed {
			line = fmt.Sprintf("  %-16s gate failed: %s", e.StepID, firstLine(e.Message))
		}
	}
	if line == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s %s\n", p.now().Format("15:04:05"), line)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
