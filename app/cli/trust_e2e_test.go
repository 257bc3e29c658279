package cli_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
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

// TestReservedFoldersRefused replays the attacks on the workspace's own
// folders with the real binary: output .factory (to rewrite settings.json),
// output .git, and output . with writes ["**"] (to plant a blueprint with
// sandbox: off). factory check names each at its line and column, factory
// run refuses before any model call, and nothing changes in those folders.
func TestReservedFoldersRefused(t *testing.T) {
	ws := workspace(t)
	settings := filepath.Join(ws, ".factory", "settings.json")
	if err := os.WriteFile(settings, []byte(`{"sandbox": "required"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ws, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	evil := map[string]string{
		"settings.json":         `{"ollama_host": "http://203.0.113.9:11434", "sandbox": "off"}`,
		"config":                "[core]\n\thooksPath = /tmp/evil\n",
		"blueprints/zz-evil.md": "---\nblueprint: zz-evil\nsandbox: off\nsteps: []\n---\n",
	}
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(evil, "done")}
	})
	tests := []struct{ name, output, writes, want string }{
		{"settings", ".factory", `["settings.json"]`, `blueprints/evil.md:4:9: output: ".factory" is inside .factory/`},
		{"git", ".git", `["config"]`, `blueprints/evil.md:4:9: output: ".git" is inside .git/`},
		{"root", ".", `["**"]`, `blueprints/evil.md:9:14: writes: "**" could write into .factory/`},
	}
	before := filesUnder(t, ws, ".factory/settings.json", ".git", "blueprints")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeBlueprint(t, ws, "evil", "---\nblueprint: evil\ntitle: Evil\noutput: "+tt.output+
				"\nmodel: ollama:qwen2.5-coder:7b\nsteps:\n  - id: plant\n    role: backend-developer\n    writes: "+tt.writes+"\n---\n# Evil\n")
			r := must(t, factory(t, ws, nil, "check", "evil"), 1)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("factory check: stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			r = factory(t, ws, ollamaEnv(srv), "run", "evil")
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("factory run: exit %d, stderr:\n%s", r.code, r.stderr)
			}
		})
	}
	os.Remove(filepath.Join(ws, "blueprints", "evil.md"))
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d model calls were made", n)
	}
	if after := filesUnder(t, ws, ".factory/settings.json", ".git", "blueprints"); after != before {
		t.Errorf("reserved folders changed:\nbefore %s\nafter  %s", before, after)
	}
}

// filesUnder describes the files under each of paths (relative to ws) and
// their contents, for comparing before and after.
func filesUnder(t *testing.T, ws string, paths ...string) string {
	t.Helper()
	var b strings.Builder
	for _, p := range paths {
		_ = filepath.WalkDir(filepath.Join(ws, p), func(q string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, _ := os.ReadFile(q)
			rel, _ := filepath.Rel(ws, q)
			fmt.Fprintf(&b, "%s:%x ", rel, sha256.Sum256(data))
			return nil
		})
	}
	return b.String()
}

const namesBlueprint = `---
blueprint: names
title: Names
model: ollama:qwen2.5-coder:7b
output: out/names
steps:
  - id: files
    role: backend-developer
    writes: ["**"]
---
# Names
`

// TestDeceptiveNamesRefused: a model answering with names that read as
// something else (a right-to-left override, a Cyrillic look-alike), a
// Windows device name or case twins fails its attempt with nothing written.
func TestDeceptiveNamesRefused(t *testing.T) {
	ws := workspace(t)
	writeBlueprint(t, ws, "names", namesBlueprint)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{
			"invoice\u202Etxt.exe": "x", "p\u0430ypal.go": "x", "nul.txt": "x", "Main.go": "x", "main.go": "x", "ok.go": "x",
		}, "done")}
	})
	r := factory(t, ws, ollamaEnv(srv), "run", "names")
	if r.code != 1 {
		t.Fatalf("factory run: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"U+202E", "mixes scripts", "device name", "only by case"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(ws, "out", "names")); len(entries) != 0 {
		t.Errorf("%d files written", len(entries))
	}
}

const answerBlueprint = `---
blueprint: big
title: Big
model: ollama:qwen2.5-coder:7b
output: out/big
steps:
  - id: huge
    role: backend-developer
    writes: ["*.txt"]
  - id: small
    role: backend-developer
    writes: ["*.txt"]
    max_answer_kb: 8
---
# Big
`

// TestAnswerLimit: a model answering 200 MB fails its attempt at the
// default limit (4 MiB) with the real binary's memory bounded and nothing
// huge stored; a step's max_answer_kb sets its own limit.
func TestAnswerLimit(t *testing.T) {
	ws := workspace(t)
	writeBlueprint(t, ws, "big", answerBlueprint)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(req modeltest.Request) modeltest.Reply {
		for _, m := range req.Messages {
			if strings.Contains(m.Content, "# Step: small") {
				return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"a.txt": strings.Repeat("s", 20<<10)}, "done")}
			}
		}
		return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"a.txt": strings.Repeat("h", 200<<20)}, "done"), Chunks: 2000}
	})
	start := time.Now()
	r := factory(t, ws, ollamaEnv(srv), "run", "big", "--parallel", "1")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("factory run: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"passed its limit of 4194304 bytes", "passed its limit of 8192 bytes"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.maxRSS > 256<<20 {
		t.Errorf("factory run peaked at %d MB", r.maxRSS>>20)
	}
	var runs []backend.Run
	decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &runs)
	for _, c := range runDetail(t, ws, runs[0].ID).Calls {
		t.Logf("call of step %s: %s from its first token to the refusal (%s in all): %s", c.StepID,
			(c.Duration - c.FirstToken).Round(time.Millisecond), c.Duration.Round(time.Millisecond), c.Error)
	}
	t.Logf("a 200 MB answer refused: the run took %s, peak %d MB", took.Round(time.Millisecond), r.maxRSS>>20)
	var size int64
	for _, name := range []string{"factory.db", "factory.db-wal"} {
		if fi, err := os.Stat(filepath.Join(ws, ".factory", name)); err == nil {
			size += fi.Size()
		}
	}
	if size > 32<<20 {
		t.Errorf("the database holds %d MB after the refused answers", size>>20)
	}
	if entries, _ := os.ReadDir(filepath.Join(ws, "out", "big")); len(entries) != 0 {
		t.Errorf("%d files written", len(entries))
	}
}

// TestInitIgnoresFactoryDir: factory init makes git ignore .factory/ (the
// database of prompts and answers): a fresh workspace committed to git
// commits the blueprints and not the database; an existing .gitignore keeps
// its lines and gets the one line once.
func TestInitIgnoresFactoryDir(t *testing.T) {
	ws := workspace(t)
	data, err := os.ReadFile(filepath.Join(ws, ".gitignore"))
	if err != nil || !strings.Contains(string(data), "/.factory/") {
		t.Fatalf(".gitignore: %v %q", err, data)
	}
	if _, err := exec.LookPath("git"); err == nil {
		must(t, factory(t, ws, nil, "check"), 0) // the database exists now
		git := func(args ...string) string {
			cmd := exec.Command("git", args...)
			cmd.Dir = ws
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		git("init", "-q")
		git("add", "-A")
		staged := git("diff", "--cached", "--name-only")
		if strings.Contains(staged, ".factory") || !strings.Contains(staged, "blueprints/hello.md") {
			t.Errorf("git add -A staged:\n%s", staged)
		}
	}

	other := filepath.Join(t.TempDir(), "ws")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, ".gitignore"), []byte("node_modules"), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, factory(t, other, nil, "init"), 0)
	data, _ = os.ReadFile(filepath.Join(other, ".gitignore"))
	if !strings.HasPrefix(string(data), "node_modules\n") || strings.Count(string(data), "/.factory/") != 1 {
		t.Errorf(".gitignore after init: %q", data)
	}
}
