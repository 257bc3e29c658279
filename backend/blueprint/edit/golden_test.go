package edit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"factorydesk/backend"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/edits/")

// editCases are single edits on corpus files; each has its exact expected
// output in testdata/edits/NAME.md.
var editCases = []struct {
	name string
	file string
	ops  []Op
}{
	{"set-title-plain", "hello.md", []Op{{Op: "set", Key: "title", Value: "Hello again"}}},
	{"set-title-needs-quotes", "orders-service.md", []Op{{Op: "set", Key: "title", Value: "Orders: v2 # new"}}},
	{"set-title-single-quoted", "07-single-quoted.md", []Op{{Op: "set", Key: "title", Value: "It's still single"}}},
	{"set-title-literal", "09-literal-title.md", []Op{{Op: "set", Key: "title", Value: "Another title\nstill two lines\n"}}},
	{"set-title-keep", "10-literal-keep.md", []Op{{Op: "set", Key: "title", Value: "Short"}}},
	{"set-title-crlf", "15-crlf.md", []Op{{Op: "set", Key: "title", Value: "Still CRLF"}}},
	{"set-title-bom", "16-bom.md", []Op{{Op: "set", Key: "title", Value: "Still a BOM"}}},
	{"set-title-unicode", "18-unicode.md", []Op{{Op: "set", Key: "title", Value: "Übersicht — 概要"}}},
	{"set-empty-model", "23-empty-values.md", []Op{{Op: "set", Key: "model", Value: "ollama:llama3.2"}}},
	{"set-scope-key-flow", "orders-service.md", []Op{{Op: "set", Key: "scope.tenant", Value: "globex"}}},
	{"add-scope-key-flow", "orders-service.md", []Op{{Op: "set", Key: "scope.region", Value: "eu"}}},
	{"set-budget-block", "20-four-space.md", []Op{{Op: "set", Key: "budget.max_calls", Value: int64(20)}}},
	{"add-options-new-key", "hello.md", []Op{{Op: "set", Key: "options.temperature", Value: 0.2}}},
	{"set-step-option", "22-options.md", []Op{{Op: "set", Key: "steps.a.options.max_tokens", Value: int64(256)}}},
	{"add-step-option", "22-options.md", []Op{{Op: "set", Key: "steps.b.options.seed", Value: int64(7)}}},
	{"unset-budget", "orders-service.md", []Op{{Op: "unset", Key: "budget"}}},
	{"unset-with-comments", "01-comments-everywhere.md", []Op{{Op: "unset", Key: "scope"}}},
	{"set-retries", "orders-service.md", []Op{{Op: "set", Key: "steps.code.retries", Value: int64(5)}}},
	{"add-retries-ordered", "hello.md", []Op{{Op: "set", Key: "steps.hello.retries", Value: int64(1)}}},
	{"set-writes-flow-list", "orders-service.md", []Op{{Op: "set", Key: "steps.code.writes", Value: []any{"go.mod", "go.sum", "**/*.go", "!**/*_test.go"}}}},
	{"set-writes-block-list", "04-block-lists.md", []Op{{Op: "set", Key: "steps.b.writes", Value: []any{"go.mod", "**/*.go"}}}},
	{"set-writes-block-unindented", "05-block-lists-unindented.md", []Op{{Op: "set", Key: "steps.a.writes", Value: []any{"docs/a.md", "docs/c.md"}}}},
	{"set-writes-multiline-flow", "29-multiline-flow.md", []Op{{Op: "set", Key: "steps.a.writes", Value: []any{"docs/a.md", "docs/b.md", "docs/c.md"}}}},
	{"set-role-comments", "01-comments-everywhere.md", []Op{{Op: "set", Key: "steps.code.role", Value: "devops"}}},
	{"add-step-block", "orders-service.md", []Op{{Op: "add-step", Step: "docs", Role: "architect", Needs: []string{"code"}, Writes: []string{"docs/api.md"}}}},
	{"add-step-flow", "03-flow-steps.md", []Op{{Op: "add-step", Step: "c", Role: "architect", Needs: []string{"b"}}}},
	{"add-step-four-space", "20-four-space.md", []Op{{Op: "add-step", Step: "c", Role: "architect", Needs: []string{"b"}}}},
	{"add-step-unindented", "05-block-lists-unindented.md", []Op{{Op: "add-step", Step: "c", Role: "architect", Needs: []string{"a", "b"}}}},
	{"add-step-first", "hello.md", []Op{{Op: "add-step", Step: "plan", Role: "architect", Index: intp(0)}}},
	{"remove-step", "orders-service.md", []Op{{Op: "remove-step", Step: "code"}}},
	{"remove-step-blank-lines", "02-blank-lines.md", []Op{{Op: "remove-step", Step: "one"}}},
	{"remove-step-crlf", "15-crlf.md", []Op{{Op: "remove-step", Step: "a"}}},
	{"rename-step", "orders-service.md", []Op{{Op: "rename", Step: "code", To: "impl"}}},
	{"rename-step-block-needs", "04-block-lists.md", []Op{{Op: "rename", Step: "a", To: "plan"}}},
	{"duplicate-step", "orders-service.md", []Op{{Op: "duplicate-step", Step: "tests", To: "tests-e2e"}}},
	{"move-step", "orders-service.md", []Op{{Op: "move-step", Step: "pipeline", Index: intp(1)}}},
	{"connect-new-needs", "46-all-fields.md", []Op{{Op: "add-step", Step: "docs", Role: "architect"}, {Op: "connect", From: "design", To: "docs"}}},
	{"connect-flow", "orders-service.md", []Op{{Op: "connect", From: "tests", To: "pipeline"}}},
	{"connect-block", "04-block-lists.md", []Op{{Op: "add-step", Step: "c", Role: "architect"}, {Op: "connect", From: "c", To: "b"}}},
	{"disconnect-last-need", "orders-service.md", []Op{{Op: "disconnect", From: "design", To: "code"}}},
	{"set-section", "hello.md", []Op{{Op: "set-section", Section: "behaviour", Text: "## Behaviour\n\n- `GET /` answers `Hi!`.\n\n"}}},
	{"set-body", "27-no-final-newline.md", []Op{{Op: "set-body", Text: "# New body\n"}}},
	{"role-set-skills", "role-architect.md", []Op{{Op: "set", Key: "skills", Value: []any{"read_file", "list_files"}}}},
	{"role-set-model", "role-odd-comments.md", []Op{{Op: "set", Key: "model", Value: "ollama:qwen2.5-coder:7b"}}},
	{"role-set-description-folded", "role-odd-comments.md", []Op{{Op: "set", Key: "description", Value: "A shorter description"}}},
	{"role-set-prompt-crlf", "role-odd-crlf.md", []Op{{Op: "set-body", Text: "You are even odder.\n"}}},
	{"role-add-options", "role-odd-crlf.md", []Op{{Op: "set", Key: "options.temperature", Value: 0.5}}},
}

func intp(i int) *int { return &i }

// TestEditGolden applies each single edit and compares the whole file with
// its expected output (go test -update rewrites them).
func TestEditGolden(t *testing.T) {
	files := corpus(t)
	for _, tc := range editCases {
		t.Run(tc.name, func(t *testing.T) {
			src, ok := files[tc.file]
			if !ok {
				t.Fatalf("no corpus file %s", tc.file)
			}
			out, err := Apply(kindOfCorpus(tc.file), src, tc.ops, Options{})
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			golden := filepath.Join("testdata", "edits", tc.name+".md")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("differs from %s:\n%s", golden, diffLines(string(want), string(out)))
			}
		})
	}
}

// TestRefusals checks edits that must be refused say why.
func TestRefusals(t *testing.T) {
	files := corpus(t)
	cases := []struct {
		name, file string
		ops        []Op
		want       string
	}{
		{"cycle", "orders-service.md", []Op{{Op: "connect", From: "pipeline", To: "design"}}, "needs cycle: design -> pipeline -> code -> design"},
		{"unknown step", "orders-service.md", []Op{{Op: "connect", From: "nope", To: "code"}}, `unknown step "nope"`},
		{"wrong type", "orders-service.md", []Op{{Op: "set", Key: "steps.code.retries", Value: "many"}}, "retries: want an integer, got string"},
		{"duplicate id", "orders-service.md", []Op{{Op: "add-step", Step: "code", Role: "architect"}}, `a step "code" exists already`},
		{"rename onto another", "orders-service.md", []Op{{Op: "rename", Step: "code", To: "tests"}}, `a step "tests" exists already`},
		{"bad option", "hello.md", []Op{{Op: "set", Key: "options.temperature", Value: 3.5}}, "options.temperature: want a number from 0 to 2, got 3.5"},
		{"aliased anchor", "14-aliases.md", []Op{{Op: "set", Key: "steps.a.writes", Value: []any{"x.md"}}}, "anchored as &docs"},
		{"unknown edit", "hello.md", []Op{{Op: "frobnicate"}}, "unknown edit"},
		{"role has no steps", "role-architect.md", []Op{{Op: "add-step", Step: "x", Role: "y"}}, "a role has no steps"},
		{"unknown section", "hello.md", []Op{{Op: "set-section", Section: "nope", Text: "x"}}, `no section "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Apply(kindOfCorpus(tc.file), files[tc.file], tc.ops, Options{Path: tc.file})
			if err == nil || backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("err = %v (%s), want EINVALID", err, backend.ErrorCode(err))
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}
