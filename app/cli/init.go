package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/blueprints"
)

func (c *CLI) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Make a workspace: blueprints/ with the role library and example blueprints, and .factory/",
		Long: `Make a workspace in DIR (default: the workspace, i.e. -w or the current directory).

It writes blueprints/hello.md, blueprints/orders-service.md and the role library
blueprints/roles/*.md, creates .factory/ (where the database lives) and makes
.gitignore ignore .factory/, so committing the workspace never commits the
database of prompts and answers.
Existing files are never overwritten: if any would be, nothing is written.`,
		Example: "  factory init myfactory\n  factory -w myfactory check",
		Args:    args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir, err := c.root()
			if err != nil {
				return err
			}
			if len(a) == 1 {
				if dir, err = filepath.Abs(a[0]); err != nil {
					return err
				}
			}
			written, err := initWorkspace(dir)
			if err != nil {
				return err
			}
			for _, p := range written {
				fmt.Fprintln(c.Stdout, filepath.Join(dir, p))
			}
			fmt.Fprintf(c.Stderr, "workspace ready: %s (%d files)\nnext: factory -w %s check\n", dir, len(written), dir)
			return nil
		},
	}
}

// initWorkspace copies the shipped library under dir/blueprints and creates
// dir/.factory. It refuses, writing nothing, when any file already exists.
func initWorkspace(dir string) ([]string, error) {
	var files []string
	err := fs.WalkDir(blueprints.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "reading the shipped blueprints")
	}
	var exists []string
	for _, p := range files {
		if _, err := os.Lstat(filepath.Join(dir, "blueprints", p)); err == nil {
			exists = append(exists, filepath.Join("blueprints", p))
		}
	}
	if len(exists) > 0 {
		return nil, backend.Errorf(backend.ECONFLICT, "init would overwrite existing files in %s: %s (nothing was written)", dir, strings.Join(exists, ", "))
	}
	if err := os.MkdirAll(filepath.Join(dir, ".factory"), 0o755); err != nil {
		return nil, backend.WrapError(backend.EINVALID, err, "creating the workspace")
	}
	var written []string
	for _, p := range files {
		data, err := blueprints.FS.ReadFile(p)
		if err != nil {
			return written, err
		}
		rel := filepath.Join("blueprints", filepath.FromSlash(p))
		target := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return written, err
		}
		// O_EXCL: a file that appeared since the check is still not overwritten.
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return written, backend.WrapError(backend.ECONFLICT, err, "writing %s", rel)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return written, werr
		}
		written = append(written, rel)
	}
	changed, err := ignoreFactoryDir(dir)
	if err != nil {
		return written, err
	}
	if changed {
		written = append(written, ".gitignore")
	}
	return written, nil
}

// ignoreFactoryDir makes the workspace's .gitignore ignore .factory/ (the
// database of prompts and answers, settings, caches), creating the file or
// adding the line; changed is false when it already did.
func ignoreFactoryDir(dir string) (changed bool, err error) {
	path := filepath.Join(dir, ".gitignore")
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, backend.WrapError(backend.EINTERNAL, err, "reading .gitignore")
	}
	for _, line := range strings.Split(string(data), "\n") {
		switch strings.TrimSpace(line) {
		case ".factory", ".factory/", "/.factory", "/.factory/":
			return false, nil
		}
	}
	add := "# Factory Desk's database, settings and caches\n/.factory/\n"
	if len(data) > 0 && !strings.HasSuffix(string(data), "\n") {
		add = "\n" + add
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return false, backend.WrapError(backend.EINTERNAL, err, "writing .gitignore")
	}
	_, err = f.WriteString(add)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, backend.WrapError(backend.EINTERNAL, err, "writing .gitignore")
	}
	return true, nil
}
