package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

func (c *CLI) driftCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "List generated files changed by hand; accept or revert them",
		Long: `List the generated files that were edited or deleted outside the factory
(drift), each with its diff from the generated content. The workspace is
scanned first, so edits made while nothing was watching are found too.

A step that regenerates a drifted file merges your edit with its new answer;
a conflict leaves your file as it is and fails the step. To settle a drift:
  factory drift accept PATH   your version becomes the new base
  factory drift revert PATH   the generated content is restored (your version
                              is kept under .factory/reverted/)

PATH is relative to the workspace root (or the current directory).
Exit status: 0 listed (drift or not), 1 an error.`,
		Example: "  factory drift\n  factory drift --json | jq '.[].path'",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.drift(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the drifts as a JSON array on stdout")
	cmd.AddCommand(c.driftAcceptCommand(), c.driftRevertCommand())
	return cmd
}

func (c *CLI) driftAcceptCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "accept PATH",
		Short: "Make your edit of a generated file its new base",
		Long: `Make the content on disk of a generated file its new base: later steps merge
their answers with it and it is no longer reported as drift. Accepting a
deleted file removes it from the generated files.

Exit status: 0 accepted (or nothing to accept), 1 not a generated file or an error.`,
		Example: "  factory drift accept out/hello/main.go",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			root, db, rel, err := c.driftTarget(ctx, a[0])
			if err != nil {
				return err
			}
			changed, err := workspace.AcceptDrift(ctx, root, db, rel)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(c.Stdout, "%s has no drift: nothing to accept\n", rel)
				return nil
			}
			fmt.Fprintf(c.Stdout, "accepted %s: your version is its new base\n", rel)
			return nil
		},
	}
}

func (c *CLI) driftRevertCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "revert PATH",
		Short: "Restore the generated content of a file edited by hand",
		Long: `Restore the content the factory last generated at PATH, replacing your edit
(or recreating the deleted file). It shows the diff and asks for confirmation
on stdin unless --yes is given; your version is kept under .factory/reverted/.

Exit status: 0 reverted (or nothing to revert), 1 not confirmed, not a generated
file, its generated content not kept, or another error.`,
		Example: "  factory drift revert out/hello/main.go\n  factory drift revert out/hello/main.go --yes",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return c.driftRevert(cmd.Context(), a[0], yes)
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// driftTarget opens the workspace and turns an operator's path into a
// manifest path.
func (c *CLI) driftTarget(ctx context.Context, p string) (string, workspace.DriftStore, string, error) {
	root, err := c.root()
	if err != nil {
		return "", nil, "", err
	}
	db, err := c.open(ctx)
	if err != nil {
		return "", nil, "", err
	}
	dir := root
	if c.workspace == "" {
		if wd, err := os.Getwd(); err == nil {
			dir = wd
		}
	}
	rel, err := workspace.CleanPath(root, dir, p)
	if err != nil {
		return "", nil, "", usageError{err}
	}
	return root, db, rel, nil
}

func (c *CLI) drift(ctx context.Context) error {
	root, err := c.root()
	if err != nil {
		return err
	}
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	drifts, err := workspace.SyncDrift(ctx, root, db, c.Now)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.Stdout, drifts)
	}
	if len(drifts) == 0 {
		fmt.Fprintln(c.Stdout, "no drift: every generated file has its generated content")
		return nil
	}
	for _, d := range drifts {
		fmt.Fprintf(c.Stdout, "%s  %s  (seen %s)\n", driftState(d), d.Path, d.SeenAt.Local().Format("2006-01-02 15:04:05"))
		if d.Diff != "" {
			fmt.Fprint(c.Stdout, indentDiff(d.Diff))
		}
	}
	fmt.Fprintf(c.Stdout, "%d file(s) drifted; settle each with: factory drift accept|revert PATH\n", len(drifts))
	return nil
}

func (c *CLI) driftRevert(ctx context.Context, p string, yes bool) error {
	root, db, rel, err := c.driftTarget(ctx, p)
	if err != nil {
		return err
	}
	if !yes {
		drifts, err := workspace.SyncDrift(ctx, root, db, c.Now)
		if err != nil {
			return err
		}
		found := false
		for _, d := range drifts {
			if d.Path == rel {
				found = true
				fmt.Fprint(c.Stderr, d.Diff)
			}
		}
		if !found {
			if _, ok, err := db.Base(ctx, rel); err != nil || !ok {
				return backend.Errorf(backend.ENOTFOUND, "%s is not a generated file (list the drifted files with: factory drift)", rel)
			}
			fmt.Fprintf(c.Stdout, "%s has no drift: nothing to revert\n", rel)
			return nil
		}
		if !confirm(c.Stdin, c.Stderr, fmt.Sprintf("Revert %s to its generated content? [y/N] ", rel)) {
			return exit(ExitFailed, fmt.Errorf("%s not reverted", rel))
		}
	}
	kept, reverted, err := workspace.RevertDrift(ctx, root, db, rel, c.Now())
	if err != nil {
		return err
	}
	switch {
	case !reverted:
		fmt.Fprintf(c.Stdout, "%s has no drift: nothing to revert\n", rel)
	case kept != "":
		fmt.Fprintf(c.Stdout, "reverted %s; your version is kept in %s\n", rel, kept)
	default:
		fmt.Fprintf(c.Stdout, "reverted %s (it had been deleted)\n", rel)
	}
	return nil
}

func (c *CLI) watchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Watch the workspace: print drift and blueprint changes as they happen",
		Long: `Watch the workspace in the foreground. Generated files edited or deleted by
hand are printed (with their diff) and recorded as drift, as are the edits
already on disk when it starts; blueprint and role files created, changed or
removed are printed too. With --json each event is one JSON object per line.

Stop it with Ctrl-C (or SIGTERM). Exit status: 0 when stopped that way (the
normal end of a watch), 1 when the workspace cannot be watched.`,
		Example: "  factory watch\n  factory watch --json",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.watch(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print each event as a JSON object on its own line")
	return cmd
}

func (c *CLI) watch(parent context.Context) error {
	root, db, ctx, stop, err := c.session(parent)
	if err != nil {
		return err
	}
	defer stop()
	w, err := workspace.NewWatcher(workspace.WatcherConfig{Root: root, Manifest: db, Logger: c.log(), Now: c.Now})
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "watching %s (Ctrl-C to stop)\n", root)
	enc := json.NewEncoder(c.Stdout)
	for e := range w.Events() {
		if err := recordEvent(context.WithoutCancel(ctx), db, e); err != nil {
			fmt.Fprintln(c.Stderr, "factory:", err)
		}
		if c.jsonOut {
			if err := enc.Encode(e); err != nil {
				return err
			}
			continue
		}
		printEvent(c.Stdout, e, c.Now().Local().Format("15:04:05"))
	}
	fmt.Fprintln(c.Stderr, "stopped watching")
	return nil
}

// recordEvent keeps the drift a watcher reports in the store.
func recordEvent(ctx context.Context, s workspace.DriftStore, e workspace.Event) error {
	switch e.Kind {
	case workspace.EventDrift:
		if e.Drift != nil {
			return s.SaveDrift(ctx, *e.Drift)
		}
	case workspace.EventDriftCleared:
		err := s.ResolveDrift(ctx, e.Path, workspace.DriftCleared)
		if backend.ErrorCode(err) != backend.ENOTFOUND {
			return err
		}
	}
	return nil
}

// printEvent prints one watcher event for a person.
func printEvent(w io.Writer, e workspace.Event, at string) {
	switch e.Kind {
	case workspace.EventDrift:
		state := "edited"
		if e.Drift != nil {
			state = driftState(*e.Drift)
		}
		fmt.Fprintf(w, "%s  drift      %s  %s\n", at, state, e.Path)
		if e.Drift != nil && e.Drift.Diff != "" {
			fmt.Fprint(w, indentDiff(e.Drift.Diff))
		}
	case workspace.EventDriftCleared:
		fmt.Fprintf(w, "%s  cleared    %s  (back to its generated content)\n", at, e.Path)
	case workspace.EventBlueprint:
		fmt.Fprintf(w, "%s  blueprint  %s  %s\n", at, e.Message, e.Path)
	default:
		fmt.Fprintf(w, "%s  %-9s  %s  %s\n", at, e.Kind, e.Path, e.Message)
	}
}

func driftState(d workspace.Drift) string {
	if d.Deleted {
		return "deleted"
	}
	return "edited"
}

// indentDiff prefixes every line of a diff with four spaces.
func indentDiff(s string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// confirm asks a yes/no question on w and reads the answer from r; only
// "y" or "yes" confirms (end of input does not).
func confirm(r io.Reader, w io.Writer, question string) bool {
	fmt.Fprint(w, question)
	if r == nil {
		return false
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
