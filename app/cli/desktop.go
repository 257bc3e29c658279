package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"factorydesk/app"
	"factorydesk/frontend"
)

// openDesktop opens the desktop window on the workspace: -w when given, else
// the current folder when it holds blueprints, else the last one opened.
func (c *CLI) openDesktop(cmd *cobra.Command) error {
	if !app.DesktopAvailable {
		return cmd.Help()
	}
	if c.workspace == "" {
		if _, err := os.Stat("blueprints"); err != nil {
			if last := lastWorkspace(); last != "" {
				c.workspace = last
			}
		}
	}
	root, err := c.root()
	if err != nil {
		return err
	}
	db, err := c.open(cmd.Context())
	if err != nil {
		return err
	}
	rememberWorkspace(root)
	assets, err := fs.Sub(frontend.Dist, "dist")
	if err != nil {
		return err
	}
	return app.RunDesktop(app.Config{Root: root, Store: db, Getenv: c.Getenv, Logger: c.log(), Now: c.Now}, assets)
}

// lastWorkspaceFile remembers the workspace the window last opened.
func lastWorkspaceFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "factory-desk", "last-workspace")
}

func lastWorkspace() string {
	p := lastWorkspaceFile()
	if p == "" {
		return ""
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	dir := strings.TrimSpace(string(data))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

func rememberWorkspace(root string) {
	p := lastWorkspaceFile()
	if p == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
		_ = os.WriteFile(p, []byte(root+"\n"), 0o644) // best effort: only a convenience
	}
}
