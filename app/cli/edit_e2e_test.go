package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The corpus of odd blueprint files and the expected output of each edit
// live with the edit package; the command must write exactly those bytes.
const (
	corpusDir = "../../backend/blueprint/edit/testdata/corpus"
	editsDir  = "../../backend/blueprint/edit/testdata/edits"
	fmtDir    = "../../backend/blueprint/edit/testdata/fmt"
)

// copyCorpus copies a corpus file into the workspace's blueprints/ and
// returns its workspace path.
func copyCorpus(t *testing.T, ws, name string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	rel := "blueprints/" + name
	if role, ok := strings.CutPrefix(name, "role-"); ok {
		rel = "blueprints/roles/" + role
	}
	if err := os.WriteFile(filepath.Join(ws, rel), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestEditOperations(t *testing.T) {
	ws := workspace(t)
	cases := []struct {
		file, golden string
		args         []string
	}{
		{"orders-service.md", "set-retries", []string{"set", "steps.code.retries", "5"}},
		{"orders-service.md", "set-writes-flow-list", []string{"set", "steps.code.writes", `[go.mod, go.sum, "**/*.go", "!**/*_test.go"]`}},
		{"orders-service.md", "set-title-needs-quotes", []string{"set", "title", `"Orders: v2 # new"`}},
		{"hello.md", "add-options-new-key", []string{"set", "options.temperature", "0.2"}},
		{"orders-service.md", "unset-budget", []string{"unset", "budget"}},
		{"orders-service.md", "add-step-block", []string{"add-step", "docs", "--role", "architect", "--needs", "code", "--writes", "docs/api.md"}},
		{"orders-service.md", "remove-step", []string{"remove-step", "code"}},
		{"orders-service.md", "rename-step", []string{"rename", "code", "impl"}},
		{"orders-service.md", "connect-flow", []string{"connect", "tests", "pipeline"}},
		{"orders-service.md", "disconnect-last-need", []string{"disconnect", "design", "code"}},
		{"orders-service.md", "duplicate-step", []string{"duplicate-step", "tests", "tests-e2e"}},
		{"orders-service.md", "move-step", []string{"move-step", "pipeline", "1"}},
		{"15-crlf.md", "set-title-crlf", []string{"set", "title", "Still CRLF"}},
		{"15-crlf.md", "remove-step-crlf", []string{"remove-step", "a"}},
		{"16-bom.md", "set-title-bom", []string{"set", "title", "Still a BOM"}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			rel := copyCorpus(t, ws, tc.file)
			must(t, factory(t, ws, nil, append([]string{"edit", rel}, tc.args...)...), 0)
			want, err := os.ReadFile(filepath.Join(editsDir, tc.golden+".md"))
			if err != nil {
				t.Fatal(err)
			}
			if got := mustRead(t, filepath.Join(ws, rel)); got != string(want) {
				t.Errorf("%s after edit:\n%s\nwant:\n%s", rel, got, want)
			}
		})
	}
	t.Run("by id", func(t *testing.T) {
		copyCorpus(t, ws, "hello.md")
		must(t, factory(t, ws, nil, "edit", "hello", "set", "options.temperature", "0.2"), 0)
		want, _ := os.ReadFile(filepath.Join(editsDir, "add-options-new-key.md"))
		if got := mustRead(t, filepath.Join(ws, "blueprints/hello.md")); got != string(want) {
			t.Errorf("got:\n%s", got)
		}
	})
}

func TestEditRefusals(t *testing.T) {
	ws := workspace(t)
	cases := []struct {
		name, file string
		args       []string
		code       int
		stderr     string
	}{
		{"cycle", "orders-service.md", []string{"connect", "pipeline", "design"}, 1,
			"blueprints/orders-service.md:13:13: needs cycle: design -> pipeline -> code -> design"},
		{"unknown step", "orders-service.md", []string{"connect", "nope", "code"}, 1, `unknown step "nope"`},
		{"wrong type", "orders-service.md", []string{"set", "steps.code.retries", "many"}, 1,
			"blueprints/orders-service.md:21:14: retries: want an integer, got string"},
		{"unknown role", "hello.md", []string{"add-step", "x", "--role", "poet"}, 1, `unknown role "poet"`},
		{"bad option in crlf", "15-crlf.md", []string{"set", "options.top_p", "2"}, 1, "options.top_p: want a number from 0 to 1"},
		{"bom", "16-bom.md", []string{"remove-step", "zzz"}, 1, `unknown step "zzz"`},
		{"unknown operation", "hello.md", []string{"frob", "x"}, 2, `unknown operation "frob"`},
		{"missing argument", "hello.md", []string{"set", "title"}, 2, "set takes 2 argument(s)"},
		{"add-step without role", "hello.md", []string{"add-step", "x"}, 2, "--role"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rel := copyCorpus(t, ws, tc.file)
			before := mustRead(t, filepath.Join(ws, rel))
			r := must(t, factory(t, ws, nil, append([]string{"edit", rel}, tc.args...)...), tc.code)
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q, want %q", r.stderr, tc.stderr)
			}
			if after := mustRead(t, filepath.Join(ws, rel)); after != before {
				t.Errorf("the file changed:\n%s", after)
			}
		})
	}
}

func TestFmt(t *testing.T) {
	ws := workspace(t)
	must(t, factory(t, ws, nil, "fmt", "--check"), 0) // the shipped examples are canonical
	odd := []string{"01-comments-everywhere.md", "15-crlf.md", "20-four-space.md", "role-odd-comments.md"}
	for _, name := range odd {
		copyCorpus(t, ws, name)
	}
	copyCorpus(t, ws, "01-comments-everywhere.md")
	r := must(t, factory(t, ws, nil, "fmt", "--check"), 1)
	for _, name := range odd {
		if !strings.Contains(r.stdout, strings.Replace("blueprints/"+name, "/role-", "/roles/", 1)) {
			t.Errorf("--check does not list %s:\n%s", name, r.stdout)
		}
	}
	before := mustRead(t, filepath.Join(ws, "blueprints/15-crlf.md"))
	must(t, factory(t, ws, nil, "fmt", "--check", "crlf"), 1)
	if mustRead(t, filepath.Join(ws, "blueprints/15-crlf.md")) != before {
		t.Error("--check wrote")
	}
	must(t, factory(t, ws, nil, "fmt"), 0)
	for _, name := range []string{"01-comments-everywhere.md", "15-crlf.md", "20-four-space.md", "role-odd-comments.md"} {
		want, err := os.ReadFile(filepath.Join(fmtDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, filepath.Join(ws, strings.Replace("blueprints/"+name, "/role-", "/roles/", 1))); got != string(want) {
			t.Errorf("%s formatted:\n%s\nwant:\n%s", name, got, want)
		}
	}
	if r := must(t, factory(t, ws, nil, "fmt"), 0); r.stdout != "" {
		t.Errorf("a second fmt rewrote %s", r.stdout)
	}
	must(t, factory(t, ws, nil, "fmt", "--check"), 0)
}
