package blueprint

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// loadRoles parses the roles of dir, which must all be valid.
func loadRoles(t *testing.T, dir string) map[string]*backend.Role {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no roles in %s: %v", dir, err)
	}
	roles := map[string]*backend.Role{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, diags := ParseRole(filepath.ToSlash(p), src)
		if len(diags) > 0 {
			t.Fatalf("role %s: %v", p, diags)
		}
		roles[r.Name] = r
	}
	return roles
}

// checkGolden compares got with the golden file of path, or rewrites it
// with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden := strings.TrimSuffix(path, ".md") + ".golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("diagnostics differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// format prints diagnostics one per line.
func format(diags backend.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// mdFiles lists the Markdown files of dir.
func mdFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test files in %s: %v", dir, err)
	}
	return paths
}

func TestLintGolden(t *testing.T) {
	roles := loadRoles(t, filepath.Join("testdata", "roles"))
	for _, path := range mdFiles(t, filepath.Join("testdata", "lint")) {
		name := strings.TrimSuffix(filepath.Base(path), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := Parse(filepath.ToSlash(path), src, roles)
			if len(diags) == 0 {
				t.Fatalf("no diagnostics: each file under testdata/lint must show a problem")
			}
			checkGolden(t, path, format(diags))
		})
	}
}

func TestRoleLintGolden(t *testing.T) {
	for _, path := range mdFiles(t, filepath.Join("testdata", "rolelint")) {
		name := strings.TrimSuffix(filepath.Base(path), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := ParseRole(filepath.ToSlash(path), src)
			if len(diags) == 0 {
				t.Fatalf("no diagnostics: each file under testdata/rolelint must show a problem")
			}
			checkGolden(t, path, format(diags))
		})
	}
}
