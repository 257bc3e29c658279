package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/bundle"
)

func (c *CLI) exportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export RUN -o FILE",
		Short: "Write a run to one file: blueprint version, roles, spans, model calls, files",
		Long: `Write everything recorded about a run (its id, or a unique prefix) to one file:
the blueprint version it ran, its roles, steps, attempts, model calls with their
prompts and answers, gate results, spans, cache keys and the files it wrote. The
file is a gzip'd tar with a manifest giving the sha256 of every entry; import
it into another workspace with factory import.`,
		Example: "  factory export 4bf92f35 -o run.factory.tgz",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if out == "" {
				return usageError{fmt.Errorf("export: -o FILE is required (see --help)")}
			}
			ctx := cmd.Context()
			db, err := c.open(ctx)
			if err != nil {
				return err
			}
			b, err := bundle.Collect(ctx, db, a[0])
			if err != nil {
				return err
			}
			if err := writeFileAtomic(out, func(f *os.File) error {
				w := bufio.NewWriter(f)
				if err := bundle.Write(w, b, c.Now()); err != nil {
					return err
				}
				return w.Flush()
			}); err != nil {
				return err
			}
			fmt.Fprintf(c.Stderr, "run %s written to %s (%d blobs, %d spans)\n", b.Detail.Run.ID, out, len(b.Blobs), len(b.Spans))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (required)")
	return cmd
}

// writeFileAtomic writes a file through a temporary file in its folder,
// renamed into place once complete.
func writeFileAtomic(name string, fill func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".export-*")
	if err != nil {
		return backend.WrapError(backend.EINVALID, err, "create %s", name)
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "write %s", name)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "write %s", name)
	}
	return nil
}

// importResult is the --json output of factory import.
type importResult struct {
	RunID    string `json:"run_id"`
	Imported bool   `json:"imported"` // false: the run was already in the workspace
}

func (c *CLI) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Bring a run exported with factory export into this workspace",
		Long: `Import a run bundle written by factory export. Every entry is checked against
the bundle's manifest first: a damaged or truncated file is refused and nothing
is imported. The run is imported in one transaction; importing it again changes
nothing. Then it can be shown, diffed against local runs and replayed.

On stdout: the run id (with --json, whether it was imported or already there).`,
		Example: "  factory import run.factory.tgz\n  factory import run.factory.tgz && factory replay <RUN>",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			f, err := os.Open(a[0])
			if err != nil {
				return backend.WrapError(backend.ENOTFOUND, err, "open the bundle")
			}
			defer f.Close()
			b, err := bundle.Read(f)
			if err != nil {
				return err
			}
			db, err := c.open(ctx)
			if err != nil {
				return err
			}
			imported, err := db.ImportRun(ctx, b)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return writeJSON(c.Stdout, importResult{RunID: b.Detail.Run.ID, Imported: imported})
			}
			if !imported {
				fmt.Fprintf(c.Stderr, "run %s is already in this workspace; nothing imported\n", b.Detail.Run.ID)
			}
			fmt.Fprintln(c.Stdout, b.Detail.Run.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the outcome as JSON on stdout")
	return cmd
}
