package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRefusesNestedFrontMatter replays the YAML bomb on the real
// binary: 80 KB of nested "[" in a blueprint (it took factory check 30 s and
// 2.5 GB) and 60 KB in a role file. Both are refused at their line and
// column, naming the limit, with the process's peak memory bounded.
func TestCheckRefusesNestedFrontMatter(t *testing.T) {
	ws := workspace(t)
	bomb := "---\nblueprint: evil\nsteps: " + strings.Repeat("[", 80<<10) + "\n---\n"
	if err := os.WriteFile(filepath.Join(ws, "blueprints", "evil.md"), []byte(bomb), 0o644); err != nil {
		t.Fatal(err)
	}
	role := "---\nrole: evil\nskills: " + strings.Repeat("[", 60<<10) + "\n---\nprompt\n"
	if err := os.WriteFile(filepath.Join(ws, "blueprints", "roles", "evil.md"), []byte(role), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check"}, {"check", "blueprints/evil.md"}} {
		r := must(t, factory(t, ws, nil, args...), 1)
		for _, want := range []string{
			"blueprints/evil.md:3:39: the front matter nests 33 levels deep here, over the limit of 32",
			"blueprints/roles/evil.md:3:40: the front matter nests 33 levels deep here",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("factory %v: stderr lacks %q:\n%s", args, want, r.stderr)
			}
		}
		if r.maxRSS > 256<<20 {
			t.Errorf("factory %v peaked at %d MB of memory", args, r.maxRSS>>20)
		}
		t.Logf("factory %v refused the bombs with a peak of %d MB", args, r.maxRSS>>20)
	}
}

// TestCheckNamedFileOutsideBlueprints: a file named to factory check that
// the workspace's library does not load is linted itself, never reported
// ok unread.
func TestCheckNamedFileOutsideBlueprints(t *testing.T) {
	ws := workspace(t)
	hello, err := os.ReadFile(filepath.Join(ws, "blueprints", "hello.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.md"), filepath.Join(ws, "drafts", "bad.md")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, hello, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("---\nblueprint: bad\nsteps:\n  - id: a\n    role: no-such-role\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := must(t, factory(t, ws, nil, "check", good), 0)
	if !strings.Contains(r.stderr, "ok: 1 blueprint(s)") {
		t.Errorf("a good file outside blueprints/: %s", r.stderr)
	}
	for _, name := range []string{bad, "drafts/bad.md"} {
		r = must(t, factory(t, ws, nil, "check", name), 1)
		if !strings.Contains(r.stderr, "drafts/bad.md:5:11:") || strings.Contains(r.stderr, "ok:") {
			t.Errorf("factory check %s: %s", name, r.stderr)
		}
	}
	r = must(t, factory(t, ws, nil, "check", filepath.Join(dir, "missing.md")), 1)
	if !strings.Contains(r.stderr, "not found") {
		t.Errorf("a missing file: %s", r.stderr)
	}
}
