package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
)

// checkReport is the --json output of factory check.
type checkReport struct {
	OK          bool                `json:"ok"`
	Blueprints  []checkedBlueprint  `json:"blueprints"`
	Diagnostics backend.Diagnostics `json:"diagnostics"`
}

type checkedBlueprint struct {
	ID      string `json:"id"`
	Path    string `json:"path"`
	Version string `json:"version"`
	Steps   int    `json:"steps"`
}

func (c *CLI) checkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check [BLUEPRINT...]",
		Short: "Lint blueprints and roles; errors as path:line:col: message",
		Long: `Lint the workspace's blueprints (all of them when none is named) and the role
library. Every problem is reported, one per line, as path:line:col: message on
stderr. BLUEPRINT is a blueprint id or a file path.

Exit status: 0 when clean, 1 on any error.`,
		Example: "  factory check\n  factory check orders-service\n  factory check --json blueprints/hello.md",
		RunE: func(cmd *cobra.Command, a []string) error {
			lib, err := c.library()
			if err != nil {
				return err
			}
			rep, err := c.check(lib, a)
			if err != nil {
				return err
			}
			if c.jsonOut {
				if err := writeJSON(c.Stdout, rep); err != nil {
					return err
				}
			} else {
				for _, d := range rep.Diagnostics {
					fmt.Fprintln(c.Stderr, d.String())
				}
				if rep.OK {
					fmt.Fprintf(c.Stderr, "ok: %d blueprint(s), %d role(s)\n", len(rep.Blueprints), len(lib.Roles))
				}
			}
			if !rep.OK {
				if !c.jsonOut {
					fmt.Fprintf(c.Stderr, "%d error(s)\n", len(rep.Diagnostics))
				}
				return exit(ExitFailed, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the report as JSON on stdout")
	return cmd
}

// check selects the named blueprints (all when names is empty) and the
// diagnostics that concern them or the role library.
func (c *CLI) check(lib *blueprint.Library, names []string) (*checkReport, error) {
	rep := &checkReport{Blueprints: []checkedBlueprint{}, Diagnostics: backend.Diagnostics{}}
	paths := map[string]bool{}
	if len(names) == 0 {
		for _, bp := range lib.Blueprints {
			rep.Blueprints = append(rep.Blueprints, summarize(bp))
		}
		rep.Diagnostics = append(rep.Diagnostics, lib.Diagnostics...)
	} else {
		for _, name := range names {
			bp, err := lib.Find(name)
			if err == nil {
				rep.Blueprints = append(rep.Blueprints, summarize(bp))
				paths[bp.Path] = true
				continue
			}
			// A file too broken to parse is still checked: its diagnostics
			// are in the library under its path.
			rel, ok := c.relPath(name)
			if !ok {
				return nil, err
			}
			paths[rel] = true
			if !blueprint.Holds(rel) {
				// A file the library does not load is linted on its own.
				bp, diags, err := c.checkFile(lib, name, rel)
				if err != nil {
					return nil, err
				}
				if bp != nil {
					rep.Blueprints = append(rep.Blueprints, summarize(bp))
				}
				rep.Diagnostics = append(rep.Diagnostics, diags...)
			}
		}
		for _, d := range lib.Diagnostics {
			if paths[d.Path] || isRolePath(d.Path) {
				rep.Diagnostics = append(rep.Diagnostics, d)
			}
		}
	}
	rep.OK = len(rep.Diagnostics) == 0
	return rep, nil
}

// checkFile lints a blueprint file outside the library (not
// blueprints/*.md) against the library's roles.
func (c *CLI) checkFile(lib *blueprint.Library, name, rel string) (*backend.Blueprint, backend.Diagnostics, error) {
	src, err := blueprint.ReadSource(filepath.Join(lib.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, nil, backend.WrapError(backend.EINVALID, err, "reading %s", name)
	}
	bp, diags := blueprint.Parse(rel, src, lib.Roles)
	return bp, diags, nil
}

// relPath returns an existing file's path relative to the workspace.
func (c *CLI) relPath(name string) (string, bool) {
	root, err := c.root()
	if err != nil {
		return "", false
	}
	for _, p := range []string{name, filepath.Join(root, name)} {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
			if rel, err := filepath.Rel(root, abs); err == nil {
				return filepath.ToSlash(rel), true
			}
		}
	}
	return "", false
}

func isRolePath(p string) bool {
	return strings.HasPrefix(filepath.ToSlash(p), "blueprints/roles/")
}

func summarize(bp *backend.Blueprint) checkedBlueprint {
	return checkedBlueprint{ID: bp.ID, Path: bp.Path, Version: bp.Version, Steps: len(bp.Steps)}
}

// writeJSON prints v as indented JSON.
func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
