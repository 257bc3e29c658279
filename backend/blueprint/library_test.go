package blueprint

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/blueprints"
)

// shippedWorkspace copies the shipped library into a new workspace and
// returns its root.
func shippedWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(blueprints.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, "blueprints", filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(blueprints.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes a file under dir, creating its folders.
func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestShippedLibrary(t *testing.T) {
	lib, err := Load(shippedWorkspace(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(lib.Diagnostics) > 0 {
		t.Fatalf("the shipped library must lint clean:\n%v", lib.Diagnostics)
	}
	for _, name := range []string{"architect", "backend-developer", "qa-engineer", "devops", "reviewer"} {
		t.Run("role "+name, func(t *testing.T) {
			r, ok := lib.Roles[name]
			if !ok {
				t.Fatalf("role %s missing", name)
			}
			n := strings.Count(r.Prompt, "\n") + 1
			if n < 30 || n > 80 || len(r.Skills) == 0 || r.Description == "" {
				t.Errorf("role %s: %d prompt lines, skills %v, description %q", name, n, r.Skills, r.Description)
			}
			if !strings.Contains(r.Prompt, `"files"`) {
				t.Errorf("role %s: the prompt must state the JSON answer format", name)
			}
		})
	}
	tests := []struct {
		id     string
		steps  []string
		output string
	}{
		{"hello", []string{"hello"}, "out/hello"},
		{"orders-service", []string{"design", "code", "tests", "pipeline"}, "out/orders-service"},
	}
	for _, tc := range tests {
		t.Run("blueprint "+tc.id, func(t *testing.T) {
			bp, err := lib.Find(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range bp.Steps {
				ids = append(ids, s.ID)
				for _, use := range s.Uses {
					if _, ok := bp.Section(use); !ok {
						t.Errorf("step %s uses unknown section %s", s.ID, use)
					}
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.steps, ",") || bp.Output != tc.output {
				t.Errorf("steps %v output %s, want %v %s", ids, bp.Output, tc.steps, tc.output)
			}
			if bp.Model != "ollama:qwen2.5-coder:7b" {
				t.Errorf("model %s", bp.Model)
			}
		})
	}
}

func TestFind(t *testing.T) {
	dir := shippedWorkspace(t)
	lib, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(dir))
	abs := filepath.Join(dir, "blueprints", "hello.md")
	tests := []struct {
		name, arg, wantID string
	}{
		{"id", "orders-service", "orders-service"},
		{"workspace path", "blueprints/hello.md", "hello"},
		{"blueprints folder path", "hello.md", "hello"},
		{"cwd path", filepath.Join(filepath.Base(dir), "blueprints", "orders-service.md"), "orders-service"},
		{"absolute path", abs, "hello"},
		{"unclean path", "blueprints/../blueprints/./hello.md", "hello"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bp, err := lib.Find(tc.arg)
			if err != nil {
				t.Fatal(err)
			}
			if bp.ID != tc.wantID {
				t.Errorf("Find(%q) = %s, want %s", tc.arg, bp.ID, tc.wantID)
			}
		})
	}
	for _, arg := range []string{"nope", "blueprints/nope.md", ""} {
		t.Run("not found "+arg, func(t *testing.T) {
			_, err := lib.Find(arg)
			if backend.ErrorCode(err) != backend.ENOTFOUND || !strings.Contains(err.Error(), "known: hello, orders-service") {
				t.Errorf("Find(%q) = %v, want ENOTFOUND listing the ids", arg, err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "blueprints/roles/dev.md", "---\nrole: dev\ndescription: Develops.\nskills: [read_file]\n---\nYou develop.\n")
	writeFile(t, dir, "blueprints/roles/mislabeled.md", "---\nrole: dev\ndescription: Also dev.\n---\nPrompt.\n")
	writeFile(t, dir, "blueprints/a.md", "---\nblueprint: same\nsteps: [{id: s, role: dev}]\n---\n")
	writeFile(t, dir, "blueprints/b.md", "---\nblueprint: same\nsteps: [{id: s, role: qa}]\n---\n")
	writeFile(t, dir, "blueprints/notes.md", "# Not a blueprint\n")
	writeFile(t, dir, "blueprints/ignored.txt", "not markdown")
	lib, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"blueprints/b.md:2:12: duplicate blueprint id \"same\" (also in blueprints/a.md): give each blueprint its own id",
		"blueprints/b.md:3:23: unknown role \"qa\" (known: dev)",
		"blueprints/notes.md:1:1: no front matter: start the file with a --- line, the YAML front matter, then a closing --- line",
		"blueprints/roles/mislabeled.md:1:1: duplicate role \"dev\" (also in blueprints/roles/dev.md): rename one",
		"blueprints/roles/mislabeled.md:2:7: role \"dev\" does not match its file name mislabeled.md: rename the file or the role",
	}, "\n")
	if got := lib.Diagnostics.Error(); got != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
	}
	if len(lib.Blueprints) != 2 || lib.Blueprints[0].Path != "blueprints/a.md" {
		t.Errorf("blueprints: %d, first %s", len(lib.Blueprints), lib.Blueprints[0].Path)
	}
	if got := lib.DiagnosticsFor("blueprints/a.md"); len(got) != 0 {
		t.Errorf("a.md is clean, got %v", got)
	}
	if got := lib.DiagnosticsFor("blueprints/b.md"); len(got) != 2 {
		t.Errorf("b.md has 2 problems, got %v", got)
	}
}

func TestLoadWorkspaces(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(empty, "file")
	writeFile(t, empty, "file", "x")
	tests := []struct {
		name, dir, code string
	}{
		{"missing workspace", filepath.Join(empty, "nope"), backend.ENOTFOUND},
		{"not a folder", file, backend.EINVALID},
		{"no blueprints folder", empty, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lib, err := Load(tc.dir)
			if backend.ErrorCode(err) != tc.code {
				t.Fatalf("Load = %v, want code %q", err, tc.code)
			}
			if err != nil {
				return
			}
			if len(lib.Blueprints) != 0 || len(lib.Diagnostics) != 0 {
				t.Errorf("want an empty library, got %+v", lib)
			}
			_, err = lib.Find("hello")
			if backend.ErrorCode(err) != backend.ENOTFOUND || !strings.Contains(err.Error(), "no blueprints") {
				t.Errorf("Find on an empty library = %v", err)
			}
		})
	}
}
