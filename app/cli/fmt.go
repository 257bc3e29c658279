package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"factorydesk/backend/blueprint/edit"
	"factorydesk/backend/blueprint/save"
)

func (c *CLI) fmtCommand() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt [--check] [BLUEPRINT...]",
		Short: "Lay blueprints and roles out in the canonical form",
		Long: `Rewrite blueprints (all of them and the role library when none is named) in the
canonical layout: keys in the documented order, two-space indentation, steps
as a block list, lists and mappings of plain values in flow style, strings
plain or double-quoted, comments kept with what they annotate. The meaning
never changes (the file parses to the same model before and after) and
formatting twice changes nothing. The editor's save never reformats; fmt is
the only command that does. Each file rewritten is printed.

With --check nothing is written: the files not in canonical form are printed
and the exit status is 1 when there are any.`,
		Example: "  factory fmt\n  factory fmt --check\n  factory fmt orders-service blueprints/roles/architect.md",
		RunE: func(cmd *cobra.Command, a []string) error {
			return c.format(cmd, a, check)
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; list the files not in canonical form (exit 1 when any)")
	return cmd
}

// format formats the named files, or all blueprints and roles.
func (c *CLI) format(cmd *cobra.Command, names []string, check bool) error {
	root, err := c.root()
	if err != nil {
		return err
	}
	rels, err := c.fmtTargets(root, names)
	if err != nil {
		return err
	}
	saver := save.NewSaver(root, nil)
	var failed, differ int
	for _, rel := range rels {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err == nil {
			var out []byte
			if out, err = edit.Format(edit.KindOf(rel), src); err == nil && string(out) != string(src) {
				differ++
				fmt.Fprintln(c.Stdout, rel)
				if !check {
					if res, serr := saver.Save(cmd.Context(), rel, out, save.Hash(src)); serr != nil || !res.Saved {
						err = fmt.Errorf("changed on disk while it was formatted; nothing was written (%v)", serr)
					}
				}
			}
		}
		if err != nil {
			failed++
			fmt.Fprintf(c.Stderr, "%s: %v\n", rel, err)
		}
	}
	switch {
	case failed > 0:
		return exit(ExitFailed, fmt.Errorf("%d file(s) could not be formatted", failed))
	case check && differ > 0:
		return exit(ExitFailed, fmt.Errorf("%d file(s) not in canonical form (factory fmt rewrites them)", differ))
	}
	return nil
}

// fmtTargets returns the workspace-relative files fmt works on.
func (c *CLI) fmtTargets(root string, names []string) ([]string, error) {
	if len(names) == 0 {
		var rels []string
		for _, pattern := range []string{"blueprints/*.md", "blueprints/roles/*.md"} {
			matches, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
			for _, m := range matches {
				if rel, err := filepath.Rel(root, m); err == nil {
					rels = append(rels, filepath.ToSlash(rel))
				}
			}
		}
		sort.Strings(rels)
		return rels, nil
	}
	rels := make([]string, 0, len(names))
	for _, n := range names {
		_, rel, _, err := c.target(n)
		if err != nil {
			return nil, err
		}
		rels = append(rels, rel)
	}
	return rels, nil
}
