// Package cli is the factory command line: it parses flags, wires the
// backend together once per command and translates errors to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/model"
	"factorydesk/backend/sqlite"
)

// Exit codes of the factory command. Scripts rely on them.
const (
	ExitOK       = 0   // success
	ExitFailed   = 1   // the run failed, lint errors, or another error
	ExitUsage    = 2   // bad flags or arguments
	ExitReview   = 3   // the run waits for a review (--no-wait)
	ExitCanceled = 130 // interrupted by Ctrl-C (SIGINT)
)

// DBPath is the database file of a workspace, relative to its root.
const DBPath = ".factory/factory.db"

// exitError carries an exit code through cobra; its message, when not empty,
// has already been printed or is printed by Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exit returns an error that makes Main exit with code, printing err if set.
func exit(code int, err error) error { return &exitError{code: code, err: err} }

// Main runs the factory command with args (without the program name) and
// returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &CLI{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Now: time.Now}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	c.Close()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "factory:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "factory:", err)
	if isUsage(err) {
		return ExitUsage
	}
	if backend.ErrorCode(err) == backend.ECANCELED {
		return ExitCanceled
	}
	return ExitFailed
}

// CLI holds the command line's I/O and, once opened, the workspace's parts.
type CLI struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time

	workspace string // -w/--workspace as given
	jsonOut   bool   // --json of the current command

	db     *sqlite.DB
	logger *slog.Logger
}

// Close releases what the command opened.
func (c *CLI) Close() {
	if c.db != nil {
		c.db.Close()
		c.db = nil
	}
}

// usageError marks errors in flags or arguments (exit code 2).
type usageError struct{ error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

func (c *CLI) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "factory",
		Short: "Factory Desk: run blueprints of role-scoped agents against local models, validated and traced",
		Long: `Factory Desk runs blueprints: Markdown files describing a service and the graph of
role-scoped agents that generate its code, tests and pipeline. Every output is
validated, every action recorded in .factory/factory.db of the workspace.

Start with:
  factory init myfactory && cd myfactory
  factory check
  factory run hello --model ollama:qwen2.5-coder:7b`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.openDesktop(cmd)
		},
	}
	root.PersistentFlags().StringVarP(&c.workspace, "workspace", "w", "", "workspace folder (default: the current directory)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	root.AddCommand(
		c.initCommand(),
		c.checkCommand(),
		c.editCommand(),
		c.fmtCommand(),
		c.runCommand(),
		c.runsCommand(),
		c.showCommand(),
		c.replayCommand(),
		c.rerunCommand(),
		c.diffCommand(),
		c.exportCommand(),
		c.importCommand(),
		c.lineageCommand(),
		c.modelsCommand(),
		c.serveCommand(),
		c.reviewCommand(), c.resumeCommand(), c.lessonsCommand(),
		c.driftCommand(), c.watchCommand(),
	)
	return root
}

// args wraps a cobra positional-argument check so its errors are usage errors.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{fmt.Errorf("%s: %w (see --help)", cmd.CommandPath(), err)}
		}
		return nil
	}
}

// root returns the absolute workspace folder.
func (c *CLI) root() (string, error) {
	dir := c.workspace
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", backend.WrapError(backend.EINVALID, err, "workspace %q", dir)
	}
	return abs, nil
}

// session opens the workspace for a command that works until it is done or
// interrupted: the workspace root, its database, and a ctx canceled by
// Ctrl-C or SIGTERM (stop releases the signals).
func (c *CLI) session(parent context.Context) (root string, db *sqlite.DB, ctx context.Context, stop context.CancelFunc, err error) {
	if root, err = c.root(); err != nil {
		return "", nil, nil, nil, err
	}
	if db, err = c.open(parent); err != nil {
		return "", nil, nil, nil, err
	}
	ctx, stop = signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	return root, db, ctx, stop, nil
}

// open opens the workspace's database, creating it when missing.
func (c *CLI) open(ctx context.Context) (*sqlite.DB, error) {
	if c.db != nil {
		return c.db, nil
	}
	root, err := c.root()
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, backend.Errorf(backend.ENOTFOUND, "workspace %s does not exist (create one with: factory init %s)", root, root)
	}
	db := sqlite.NewDB(filepath.Join(root, DBPath))
	if err := db.Open(); err != nil {
		return nil, err
	}
	// Runs whose process died (killed, power loss) become interrupted, to
	// be resumed.
	if _, err := db.MarkInterrupted(ctx); err != nil {
		db.Close()
		return nil, err
	}
	c.db = db
	return db, nil
}

// library loads the workspace's blueprints and roles.
func (c *CLI) library() (*blueprint.Library, error) {
	root, err := c.root()
	if err != nil {
		return nil, err
	}
	return blueprint.Load(root)
}

// providers returns the configured model providers.
func (c *CLI) providers() map[string]backend.Provider {
	return model.New(model.ConfigFromEnv(c.Getenv))
}

// log returns the logger for diagnostics on stderr.
func (c *CLI) log() *slog.Logger {
	if c.logger == nil {
		level := slog.LevelWarn
		if c.Getenv("FACTORY_DEBUG") != "" {
			level = slog.LevelDebug
		}
		c.logger = slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: level}))
	}
	return c.logger
}
