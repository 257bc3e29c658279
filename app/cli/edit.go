package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/blueprint/edit"
	"factorydesk/backend/blueprint/save"
)

// editFlags are the flags of factory edit's add-step.
type editFlags struct {
	role   string
	needs  []string
	writes []string
}

func (c *CLI) editCommand() *cobra.Command {
	var f editFlags
	cmd := &cobra.Command{
		Use:   "edit BLUEPRINT OPERATION [ARG...]",
		Short: "Change a blueprint or role file in place, touching only the lines the edit changes",
		Long: `Change a blueprint (or a role file, by its path) the way a careful person would:
the edit is written into the file's own text, in its style (indentation, flow or
block lists, quoting, line endings); comments, blank lines and everything else
stay byte for byte. The result is parsed and checked before it is written; an
edit that would bring a new problem (a needs cycle, an unknown step or role, a
value of the wrong type) is refused with path:line:col and the file is left as
it was. BLUEPRINT is a blueprint id or a file path, as for check.

Operations:
  set KEY VALUE          KEY like title, model, scope.tenant, options.temperature,
                         steps.ID.retries, steps.ID.role; VALUE is read as YAML
                         (lists as [a, b], a string with ": " quoted)
  unset KEY
  add-step ID --role ROLE [--needs A,B] [--writes GLOB,...]
  remove-step ID         its id also leaves every needs list
  rename OLD NEW         every needs reference follows
  duplicate-step ID NEW  the copy goes right after ID
  move-step ID INDEX     reorder the steps list (0 is first)
  connect FROM TO        TO needs FROM
  disconnect FROM TO

Exit status: 0 when edited (or already so), 1 when refused, 2 on bad usage.`,
		Example: "  factory edit orders-service set steps.code.retries 3\n" +
			"  factory edit hello add-step docs --role architect --needs hello --writes 'docs/**'\n" +
			"  factory edit orders-service connect tests pipeline\n" +
			"  factory edit blueprints/roles/architect.md set options.temperature 0.2",
		Args: args(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			op, err := parseEdit(a[1], a[2:], f)
			if err != nil {
				return err
			}
			return c.edit(cmd.Context(), a[0], op)
		},
	}
	cmd.Flags().StringVar(&f.role, "role", "", "add-step: the step's role")
	cmd.Flags().StringSliceVar(&f.needs, "needs", nil, "add-step: the steps it needs, comma-separated")
	cmd.Flags().StringSliceVar(&f.writes, "writes", nil, "add-step: the globs it may write, comma-separated")
	return cmd
}

// parseEdit turns an operation and its arguments into an edit.
func parseEdit(name string, a []string, f editFlags) (edit.Op, error) {
	want := map[string]int{"set": 2, "unset": 1, "add-step": 1, "remove-step": 1, "rename": 2,
		"duplicate-step": 2, "move-step": 2, "connect": 2, "disconnect": 2}
	n, ok := want[name]
	if !ok {
		return edit.Op{}, usageError{fmt.Errorf("unknown operation %q (operations: set, unset, add-step, remove-step, rename, duplicate-step, move-step, connect, disconnect)", name)}
	}
	if len(a) != n {
		return edit.Op{}, usageError{fmt.Errorf("%s takes %d argument(s), got %d (see factory edit --help)", name, n, len(a))}
	}
	if name != "add-step" && (f.role != "" || f.needs != nil || f.writes != nil) {
		return edit.Op{}, usageError{fmt.Errorf("--role, --needs and --writes go with add-step only")}
	}
	op := edit.Op{Op: name}
	switch name {
	case "set":
		op.Key = a[0]
		var v any
		if err := yaml.Unmarshal([]byte(a[1]), &v); err != nil {
			return op, usageError{fmt.Errorf("set %s: VALUE is not YAML (%v): quote a string holding \": \" or \" #\"", a[0], err)}
		}
		op.Value = edit.Plain(v)
	case "unset":
		op.Key = a[0]
	case "add-step":
		if f.role == "" {
			return op, usageError{fmt.Errorf("add-step %s: give its role with --role", a[0])}
		}
		op.Step, op.Role, op.Needs, op.Writes = a[0], f.role, f.needs, f.writes
	case "remove-step":
		op.Step = a[0]
	case "rename", "duplicate-step":
		op.Step, op.To = a[0], a[1]
	case "move-step":
		i, err := strconv.Atoi(a[1])
		if err != nil || i < 0 {
			return op, usageError{fmt.Errorf("move-step %s: INDEX must be 0 or more, got %q", a[0], a[1])}
		}
		op.Step, op.Index = a[0], &i
	case "connect", "disconnect":
		op.From, op.To = a[0], a[1]
	}
	return op, nil
}

// edit applies op to the file named by name and writes it back when it
// changed and nobody changed it meanwhile.
func (c *CLI) edit(ctx context.Context, name string, op edit.Op) error {
	root, rel, roles, err := c.target(name)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return backend.WrapError(backend.ENOTFOUND, err, "read %s", rel)
	}
	out, err := edit.Apply(edit.KindOf(rel), src, []edit.Op{op}, edit.Options{Path: rel, Roles: roles})
	if err != nil {
		var diags backend.Diagnostics
		if errors.As(err, &diags) {
			for _, d := range diags {
				fmt.Fprintln(c.Stderr, d.String())
			}
			return exit(ExitFailed, fmt.Errorf("%s refused: it would bring the problem(s) above; %s is unchanged", describe(op), rel))
		}
		return exit(ExitFailed, fmt.Errorf("%s: %w; the file is unchanged", rel, err))
	}
	if string(out) == string(src) {
		fmt.Fprintf(c.Stderr, "%s: unchanged\n", rel)
		return nil
	}
	res, err := save.NewSaver(root, nil).Save(ctx, rel, out, save.Hash(src))
	if err != nil {
		return err
	}
	if !res.Saved {
		return exit(ExitFailed, fmt.Errorf("%s changed on disk while it was edited: nothing was written; run the edit again", rel))
	}
	fmt.Fprintf(c.Stderr, "%s: edited\n", rel)
	return nil
}

// describe names an edit the way it was asked for.
func describe(op edit.Op) string {
	parts := []string{op.Op}
	for _, s := range []string{op.Key, op.Step, op.From, op.To} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// target resolves BLUEPRINT (an id or a path) to the workspace root, the
// file's workspace-relative path and the role library.
func (c *CLI) target(name string) (string, string, map[string]*backend.Role, error) {
	root, err := c.root()
	if err != nil {
		return "", "", nil, err
	}
	lib, err := c.library()
	if err != nil {
		return "", "", nil, err
	}
	if bp, err := lib.Find(name); err == nil {
		return root, bp.Path, lib.Roles, nil
	} else if rel, ok := c.relPath(name); ok {
		return root, rel, lib.Roles, nil
	} else {
		return "", "", nil, err
	}
}
