package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/tools"
	"factorydesk/backend/validate"
)

// fixture is a workspace with an output folder holding ordinary files and
// every kind of trap: symlinks out, a database under .factory/, a big file,
// a binary file, a file with a secret.
type fixture struct {
	ws, root string
	env      *tools.Env
	reg      *tools.Registry
}

const secretValue = "hunter2-s3cr3t-value"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ws := t.TempDir()
	root := filepath.Join(ws, "out", "app")
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(ws, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".factory/factory.db", "SQLite format 3\x00 the database")
	write("outside.txt", "a file outside the output folder\n")
	write("out/app/go.mod", "module example.com/app\n\ngo 1.22\n")
	write("out/app/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n")
	write("out/app/docs/design.md", "# Design\n\nUse the standard library.\nHandlers return JSON.\n")
	write("out/app/config.txt", "password="+secretValue+"\n")
	write("out/app/.factory/inner.db", "hidden")
	write("out/app/.git/HEAD", "ref: refs/heads/main\n")
	write("out/app/image.png", "\x89PNG\r\n\x1a\n\x00\x00\x00binary")
	big := strings.Repeat("0123456789abcdef\n", 10<<20/17+1) // just over 10 MB
	write("out/app/big.log", big)
	for _, l := range []struct{ name, target string }{
		{"leak.txt", filepath.Join(ws, "outside.txt")},
		{"dbdir", filepath.Join(ws, ".factory")},
		{"etc", "/etc"},
		{"inside.md", "docs/design.md"},
	} {
		if err := os.Symlink(l.target, filepath.Join(root, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	env := &tools.Env{
		Root:   root,
		Skills: backend.ToolNames,
		Writes: []string{"go.mod", "**/*.go"},
		Redact: func(s string) string { return strings.ReplaceAll(s, secretValue, "${DB_PASSWORD}") },
	}
	return &fixture{ws: ws, root: root, env: env, reg: tools.New()}
}

// call makes one tool call with arguments given as JSON.
func (f *fixture) call(t *testing.T, name, args string) tools.Result {
	t.Helper()
	return f.reg.Call(context.Background(), f.env, backend.ToolCall{ID: "call_1", Name: name, Arguments: json.RawMessage(args)})
}

func TestCallRefusesHostileCalls(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, tool, args string
		want             []string // in the result
	}{
		{"parent folder", backend.ToolReadFile, `{"path":"../../outside.txt"}`, []string{`".." segment`}},
		{"absolute path", backend.ToolReadFile, `{"path":"/etc/passwd"}`, []string{"absolute path"}},
		{"windows drive", backend.ToolReadFile, `{"path":"C:/Windows/win.ini"}`, []string{"absolute path"}},
		{"symlink to a file outside", backend.ToolReadFile, `{"path":"leak.txt"}`, []string{"leads outside the output folder"}},
		{"symlinked folder outside", backend.ToolReadFile, `{"path":"dbdir/factory.db"}`, []string{"leads outside the output folder"}},
		{"symlink to /etc", backend.ToolReadFile, `{"path":"etc/passwd"}`, []string{"leads outside the output folder"}},
		{"the database", backend.ToolReadFile, `{"path":".factory/factory.db"}`, []string{".factory/ is reserved"}},
		{"the database from above", backend.ToolReadFile, `{"path":"../../.factory/factory.db"}`, []string{`".."`}},
		{"git internals", backend.ToolReadFile, `{"path":".git/HEAD"}`, []string{".git/ is reserved"}},
		{"a 10 MB file", backend.ToolReadFile, `{"path":"big.log"}`, []string{"over the limit of 1048576 bytes"}},
		{"a binary file", backend.ToolReadFile, `{"path":"image.png"}`, []string{"binary file"}},
		{"a folder", backend.ToolReadFile, `{"path":"docs"}`, []string{"is a folder"}},
		{"glob over the whole disk", backend.ToolListFiles, `{"glob":"/**"}`, []string{"absolute path"}},
		{"glob above the output", backend.ToolListFiles, `{"glob":"../../**"}`, []string{`".." segment`}},
		{"glob into the database", backend.ToolSearch, `{"pattern":"SQLite","glob":".factory/**"}`, []string{".factory/ is reserved"}},
		{"malformed glob", backend.ToolListFiles, `{"glob":"src/[a-"}`, []string{"malformed"}},
		{"bad regular expression", backend.ToolSearch, `{"pattern":"(unclosed"}`, []string{"not an RE2 regular expression"}},
		{"backreference", backend.ToolSearch, `{"pattern":"(a)\\1"}`, []string{"not an RE2 regular expression"}},
		{"huge repeat", backend.ToolSearch, `{"pattern":"(a{1000}){1000}"}`, []string{"not an RE2 regular expression"}},
		{"pattern too long", backend.ToolSearch, fmt.Sprintf(`{"pattern":%q}`, strings.Repeat("a", 600)), []string{"maxLength"}},
		{"unknown tool", "delete_file", `{"path":"main.go"}`, []string{`there is no tool "delete_file"`}},
		{"wrong type", backend.ToolReadFile, `{"path":3}`, []string{"path: got number, want string"}},
		{"missing argument", backend.ToolReadFile, `{}`, []string{"missing property 'path'"}},
		{"unknown argument", backend.ToolReadFile, `{"path":"main.go","mode":"w"}`, []string{"additional properties 'mode' not allowed"}},
		{"arguments not an object", backend.ToolReadFile, `["main.go"]`, []string{"got array, want object"}},
		{"arguments not JSON", backend.ToolReadFile, `"{path: main.go"`, []string{"got string, want object"}},
		{"negative line", backend.ToolReadFile, `{"path":"main.go","from_line":-4}`, []string{"from_line: minimum"}},
		{"fractional line", backend.ToolReadFile, `{"path":"main.go","from_line":1.5}`, []string{"want integer"}},
		{"lines reversed", backend.ToolReadFile, `{"path":"main.go","from_line":5,"to_line":2}`, []string{"from_line 5 is past to_line 2"}},
		{"draft outside the writes", backend.ToolRunChecks, `{"files":[{"path":"Dockerfile","content":"FROM scratch"}]}`, []string{"outside the step's writes globs"}},
		{"draft escaping", backend.ToolRunChecks, `{"files":[{"path":"../../x.go","content":"package x"}]}`, []string{`".." segment`}},
	}
	f.env.Checks = func(context.Context, string) []backend.GateResult {
		t.Error("a refused draft reached the gates")
		return nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.call(t, tt.tool, tt.args)
			if res.Status != backend.ToolRefused {
				t.Fatalf("status %q, want refused; result:\n%s", res.Status, res.Content)
			}
			if !strings.HasPrefix(res.Content, "refused: ") {
				t.Errorf("result does not start with refused: %q", res.Content)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Content, w) {
					t.Errorf("result lacks %q:\n%s", w, res.Content)
				}
			}
			for _, leak := range []string{"a file outside", "SQLite format", "root:x:0", "0123456789abcdef"} {
				if strings.Contains(res.Content, leak) {
					t.Errorf("result leaks %q:\n%s", leak, res.Content)
				}
			}
		})
	}
}

func TestCallRefusesToolsOutsideSkills(t *testing.T) {
	f := newFixture(t)
	f.env.Skills = []string{backend.ToolReadFile, "deploy"}
	res := f.call(t, backend.ToolListFiles, `{"glob":"**"}`)
	if res.Status != backend.ToolRefused || !strings.Contains(res.Content, "list_files is not one of this role's skills") ||
		!strings.Contains(res.Content, "the tools you may call are: read_file") {
		t.Fatalf("got %s: %s", res.Status, res.Content)
	}
	if strings.Contains(res.Content, "main.go") {
		t.Errorf("a refused call listed files: %s", res.Content)
	}
}

func TestListFiles(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, args string
		want, not  []string
	}{
		{"everything", `{}`,
			[]string{"go.mod\t", "main.go\t", "docs/design.md\t", "big.log\t", "image.png\t"},
			[]string{"leak.txt", "dbdir", "etc", "inside.md", ".factory", ".git", "factory.db"}},
		{"a glob", `{"glob":"**/*.md"}`, []string{"docs/design.md\t"}, []string{"main.go"}},
		{"no match", `{"glob":"**/*.rs"}`, []string{`no file under the output folder matches "**/*.rs"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.call(t, backend.ToolListFiles, tt.args)
			if res.Status != backend.ToolOK {
				t.Fatalf("status %s: %s", res.Status, res.Content)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Content, w) {
					t.Errorf("listing lacks %q:\n%s", w, res.Content)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(res.Content, n) {
					t.Errorf("listing shows %q:\n%s", n, res.Content)
				}
			}
		})
	}
	t.Run("capped", func(t *testing.T) {
		for i := range 30 {
			if err := os.WriteFile(filepath.Join(f.root, fmt.Sprintf("gen%02d.go", i)), []byte("package main\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f.env.Limits = tools.Limits{MaxListed: 10}
		defer func() { f.env.Limits = tools.Limits{} }()
		res := f.call(t, backend.ToolListFiles, `{"glob":"*.go"}`)
		if n := strings.Count(res.Content, ".go\t"); n != 10 || !strings.Contains(res.Content, "only the first 10 files") {
			t.Errorf("%d files listed:\n%s", n, res.Content)
		}
	})
	t.Run("no output folder yet", func(t *testing.T) {
		env := *f.env
		env.Root = filepath.Join(f.ws, "out", "none")
		res := f.reg.Call(context.Background(), &env, backend.ToolCall{Name: backend.ToolListFiles, Arguments: json.RawMessage(`{}`)})
		if res.Status != backend.ToolOK || !strings.Contains(res.Content, "empty") {
			t.Errorf("%s: %s", res.Status, res.Content)
		}
	})
}

func TestReadFile(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, args, want string
		status           string
	}{
		{"whole file", `{"path":"main.go"}`, "main.go: lines 1-7 of 7\n1\tpackage main\n2\t\n3\timport \"fmt\"\n", backend.ToolOK},
		{"a range", `{"path":"main.go","from_line":5,"to_line":6}`, "main.go: lines 5-6 of 7\n5\tfunc main() {\n6\t\tfmt.Println(\"hello\")\n", backend.ToolOK},
		{"to past the end", `{"path":"docs/design.md","from_line":4,"to_line":99}`, "lines 4-4 of 4\n4\tHandlers return JSON.\n", backend.ToolOK},
		{"a symlink inside", `{"path":"inside.md"}`, "1\t# Design\n", backend.ToolOK},
		{"a secret in the file", `{"path":"config.txt"}`, "1\tpassword=${DB_PASSWORD}\n", backend.ToolOK},
		{"missing file", `{"path":"nope.go"}`, `error: "nope.go" does not exist; list_files shows what does`, backend.ToolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.call(t, backend.ToolReadFile, tt.args)
			if res.Status != tt.status || !strings.Contains(res.Content, tt.want) {
				t.Errorf("got %s:\n%s\nwant %s containing:\n%s", res.Status, res.Content, tt.status, tt.want)
			}
			if strings.Contains(res.Content, secretValue) {
				t.Errorf("the secret reached the result: %s", res.Content)
			}
		})
	}
	t.Run("cut to the result limit", func(t *testing.T) {
		lines := make([]string, 400)
		for i := range lines {
			lines[i] = fmt.Sprintf("line %d %s", i+1, strings.Repeat("x", 40))
		}
		if err := os.WriteFile(filepath.Join(f.root, "long.txt"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		f.env.Limits = tools.Limits{MaxResultBytes: 2000}
		defer func() { f.env.Limits = tools.Limits{} }()
		res := f.call(t, backend.ToolReadFile, `{"path":"long.txt"}`)
		if len(res.Content) > 2000 || !strings.Contains(res.Content, "read on with from_line") {
			t.Errorf("%d bytes:\n%s", len(res.Content), res.Content)
		}
	})
}

func TestSearch(t *testing.T) {
	f := newFixture(t)
	t.Run("hits", func(t *testing.T) {
		res := f.call(t, backend.ToolSearch, `{"pattern":"(?i)json|println"}`)
		want := "docs/design.md:4: Handlers return JSON.\nmain.go:6: \tfmt.Println(\"hello\")\n"
		if res.Status != backend.ToolOK || !strings.HasPrefix(res.Content, want) {
			t.Errorf("got %s:\n%q\nwant\n%q", res.Status, res.Content, want)
		}
	})
	t.Run("never in hidden or linked files", func(t *testing.T) {
		res := f.call(t, backend.ToolSearch, `{"pattern":"SQLite|hidden|outside|refs/heads|root:"}`)
		if !strings.HasPrefix(res.Content, "no match") {
			t.Errorf("found what it may not see:\n%s", res.Content)
		}
	})
	t.Run("secrets redacted", func(t *testing.T) {
		res := f.call(t, backend.ToolSearch, `{"pattern":"password"}`)
		if strings.Contains(res.Content, secretValue) || !strings.Contains(res.Content, "${DB_PASSWORD}") {
			t.Errorf("%s", res.Content)
		}
	})
	t.Run("pathological pattern", func(t *testing.T) {
		// Exponential for a backtracking engine; linear for RE2.
		if err := os.WriteFile(filepath.Join(f.root, "aaa.txt"), []byte(strings.Repeat("a", 200000)+"!\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := f.call(t, backend.ToolSearch, `{"pattern":"^(a+)+$","glob":"aaa.txt"}`)
		if res.Status != backend.ToolOK || !strings.HasPrefix(res.Content, "no match") {
			t.Errorf("%s: %.200s", res.Status, res.Content)
		}
	})
	t.Run("hits capped", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(f.root, "many.txt"), []byte(strings.Repeat("match me\n", 500)), 0o644); err != nil {
			t.Fatal(err)
		}
		f.env.Limits = tools.Limits{MaxHits: 20}
		defer func() { f.env.Limits = tools.Limits{} }()
		res := f.call(t, backend.ToolSearch, `{"pattern":"match me"}`)
		if n := strings.Count(res.Content, ": match me"); n != 20 || !strings.Contains(res.Content, "only the first 20 matches") {
			t.Errorf("%d hits:\n%s", n, res.Content)
		}
	})
	t.Run("big files skipped", func(t *testing.T) {
		res := f.call(t, backend.ToolSearch, `{"pattern":"0123","glob":"*.log"}`)
		if !strings.Contains(res.Content, "1 files were not searched") {
			t.Errorf("%s", res.Content)
		}
	})
}

func TestSearchLessons(t *testing.T) {
	f := newFixture(t)
	f.env.Lessons = []backend.Lesson{
		{Kind: backend.LessonReview, StepID: "code", Text: "Return errors as JSON with a code field."},
		{Kind: backend.LessonGate, StepID: "code", Text: "go vet: printf with wrong verbs; check fmt verbs."},
		{Kind: backend.LessonReview, StepID: "design", Text: "Name every JSON field in snake_case; errors too."},
	}
	tests := []struct {
		name, query string
		want        []string // in this order
	}{
		{"most words first", "json snake_case", []string{"snake_case", "code field"}},
		{"one word", "vet", []string{"wrong verbs"}},
		{"empty lists the first", "", []string{"code field", "wrong verbs", "snake_case"}},
		{"nothing", "kubernetes", []string{`no lesson of this role mentions "kubernetes"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.call(t, backend.ToolSearchLessons, fmt.Sprintf(`{"query":%q}`, tt.query))
			at := 0
			for _, w := range tt.want {
				i := strings.Index(res.Content[at:], w)
				if i < 0 {
					t.Fatalf("%q missing or out of order in:\n%s", w, res.Content)
				}
				at += i
			}
		})
	}
}

func TestRunChecks(t *testing.T) {
	f := newFixture(t)
	scratch := t.TempDir()
	f.env.ScratchDir = scratch
	sandbox := validate.NewSandbox()
	gates := []string{
		"test -f go.mod",
		"touch built.out && test -f built.out",
		`grep -q 'func Run' cmd.go || { echo "$PWD/cmd.go:1:1: no func Run"; echo "--- FAIL: TestRun (0.02s)"; exit 1; }`,
	}
	var sandboxed []bool
	f.env.Checks = func(ctx context.Context, dir string) []backend.GateResult {
		res := validate.RunGates(ctx, dir, gates, validate.Options{Sandbox: sandbox})
		for _, g := range res {
			sandboxed = append(sandboxed, g.Sandboxed)
		}
		return res
	}
	before := tree(t, f.root)
	t.Run("failing draft", func(t *testing.T) {
		res := f.call(t, backend.ToolRunChecks, `{"files":[{"path":"cmd.go","content":"package main\n"}]}`)
		want := "ran the step's gates on your draft of 1 files in a scratch copy of the output folder (the output folder is unchanged):\n" +
			"$ test -f go.mod (passed)\n" +
			"$ touch built.out && test -f built.out (passed)\n" +
			"$ " + gates[2] + " (exit 1)\n" +
			"cmd.go:1:1: no func Run\n--- FAIL: TestRun ((time))\n" +
			"the draft fails its checks: fix the errors, then run_checks again or give your final answer\n"
		if res.Status != backend.ToolOK || res.Content != want {
			t.Errorf("got %s:\n%s\nwant:\n%s", res.Status, res.Content, want)
		}
	})
	t.Run("passing draft", func(t *testing.T) {
		res := f.call(t, backend.ToolRunChecks, `{"files":[{"path":"cmd.go","content":"package main\n\nfunc Run() {}\n"}]}`)
		if res.Status != backend.ToolOK || !strings.HasSuffix(res.Content, "every check passed: give your final answer with these files\n") {
			t.Errorf("got %s:\n%s", res.Status, res.Content)
		}
	})
	if after := tree(t, f.root); after != before {
		t.Errorf("run_checks changed the output folder:\nbefore %s\nafter  %s", before, after)
	}
	if left, _ := os.ReadDir(scratch); len(left) != 0 {
		t.Errorf("scratch folders left behind: %v", left)
	}
	if sandbox.Available() == nil {
		for i, s := range sandboxed {
			if !s {
				t.Errorf("gate %d ran outside the sandbox although bwrap works here", i)
			}
		}
	} else {
		t.Logf("no sandbox here (%v): gates ran unconfined", sandbox.Available())
	}
	t.Run("no gates", func(t *testing.T) {
		f.env.Checks = nil
		res := f.call(t, backend.ToolRunChecks, `{"files":[{"path":"cmd.go","content":"package main\n"}]}`)
		if res.Status != backend.ToolOK || !strings.Contains(res.Content, "no validate gates") {
			t.Errorf("%s: %s", res.Status, res.Content)
		}
	})
}

// tree describes every entry under dir (path, mode, size), to see it unchanged.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d; ", p, info.Mode(), info.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestViewExcludesLaterSteps(t *testing.T) {
	f := newFixture(t)
	// This step writes *.go; a step after it writes docs/.
	f.env.Exclude = [][]string{{"**/*.go", "go.mod"}, {"docs/**"}}
	for _, c := range []struct{ tool, args, want, not string }{
		{backend.ToolListFiles, `{}`, "config.txt", "main.go"},
		{backend.ToolListFiles, `{}`, "big.log", "design.md"},
		{backend.ToolSearch, `{"pattern":"package|Design"}`, "no match", "main.go"},
	} {
		res := f.call(t, c.tool, c.args)
		if !strings.Contains(res.Content, c.want) || strings.Contains(res.Content, c.not) {
			t.Errorf("%s %s: want %q and not %q in:\n%s", c.tool, c.args, c.want, c.not, res.Content)
		}
	}
	res := f.call(t, backend.ToolReadFile, `{"path":"docs/design.md"}`)
	if res.Status != backend.ToolRefused || !strings.Contains(res.Content, "not for this step to read") {
		t.Errorf("%s: %s", res.Status, res.Content)
	}
}
