package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
)

// TestWriteFilesRefusesReservedFolders: whatever the output folder and the
// globs, the writer never writes into a workspace's .factory/, .git/ or
// blueprints/ (but a replay's scratch folder), and leaves them untouched.
func TestWriteFilesRefusesReservedFolders(t *testing.T) {
	ws := t.TempDir()
	for _, d := range []string{".factory", ".git", "blueprints", "out"} {
		if err := os.MkdirAll(filepath.Join(ws, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(ws, ".factory"), filepath.Join(ws, "out", "link")); err != nil {
		t.Fatal(err)
	}
	file := func(p string) []backend.File { return []backend.File{{Path: p, Content: []byte("evil")}} }
	tests := []struct {
		name   string
		output string
		files  []backend.File
		want   string // in the error; "" when written
	}{
		{name: "output .factory", output: ".factory", files: file("settings.json"), want: "inside the workspace's .factory/"},
		{name: "output .git", output: ".git", files: file("config"), want: "inside the workspace's .git/"},
		{name: "output blueprints", output: "blueprints", files: file("zz-evil.md"), want: "inside the workspace's blueprints/"},
		{name: "output below blueprints", output: "blueprints/roles", files: file("evil.md"), want: "inside the workspace's blueprints/"},
		{name: "output a symlink to .factory", output: "out/link", files: file("settings.json"), want: "inside the workspace's .factory/"},
		{name: "output the replay folder itself", output: ".factory/replay", files: file("x"), want: "inside the workspace's .factory/"},
		{name: "root plants a blueprint", output: ".", files: file("blueprints/zz-evil.md"), want: "blueprints/ is reserved"},
		{name: "root plants a blueprint by case", output: ".", files: file("Blueprints/zz-evil.md"), want: "blueprints/ is reserved"},
		{name: "root writes settings", output: ".", files: file(".factory/settings.json"), want: ".factory/ is reserved"},
		{name: "root writes its own file", output: ".", files: file("src/main.go")},
		{name: "a replay's scratch folder", output: ".factory/replay/0123abcd", files: file("main.go")},
		{name: "an output folder", output: "out/x", files: file("main.go")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(ws, filepath.FromSlash(tt.output))
			_, err := WriteFiles(root, tt.files, []string{"**"}, backend.WriteLimits{})
			cerr := CheckPath(root, tt.files[0].Path, []string{"**"})
			if tt.want == "" {
				if err != nil || cerr != nil {
					t.Fatalf("WriteFiles: %v; CheckPath: %v", err, cerr)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || backend.ErrorCode(err) != backend.EINVALID {
				t.Errorf("WriteFiles: %v, want an EINVALID naming %q", err, tt.want)
			}
			if cerr == nil || !strings.Contains(cerr.Error(), tt.want) {
				t.Errorf("CheckPath: %v, want %q", cerr, tt.want)
			}
		})
	}
	for d, want := range map[string]string{".factory": "replay", ".git": "", "blueprints": ""} {
		var names []string
		entries, _ := os.ReadDir(filepath.Join(ws, d))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, " ") != want {
			t.Errorf("%s/ holds %v after the refused writes, want %q", d, names, want)
		}
	}
}
