package workspace

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
)

// writeSandbox is a temp folder holding the output folder "out" and a
// sibling "outside" with one file in it.
type writeSandbox struct {
	dir, out, outside string
}

func newWriteSandbox(t *testing.T) writeSandbox {
	t.Helper()
	dir := t.TempDir()
	s := writeSandbox{dir: dir, out: filepath.Join(dir, "out"), outside: filepath.Join(dir, "outside")}
	for _, d := range []string{s.out, s.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeTestFile(t, filepath.Join(s.outside, "target.go"), "package outside\n")
	return s
}

func writeTestFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlinkForTest(t *testing.T, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

// writeSnapshot maps every entry under dir (not following symlinks) to a
// description of its type and content.
func writeSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			snap[rel] = "symlink " + target
			return err
		case d.IsDir():
			snap[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			sum := sha256.Sum256(b)
			snap[rel] = "file " + hex.EncodeToString(sum[:])
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func writeSnapshotDiff(before, after map[string]string) []string {
	var diff []string
	for k, v := range after {
		if before[k] != v {
			diff = append(diff, fmt.Sprintf("%s: %q -> %q", k, before[k], v))
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			diff = append(diff, k+": removed")
		}
	}
	return diff
}

func writeInputs(pathContent ...string) []backend.File {
	var out []backend.File
	for i := 0; i+1 < len(pathContent); i += 2 {
		out = append(out, backend.File{Path: pathContent[i], Content: []byte(pathContent[i+1])})
	}
	return out
}

func TestWriteFilesRefuses(t *testing.T) {
	writes := []string{"src/**", "docs/*.md", "!src/secret/**"}
	many := make([]backend.File, 200) // plus the valid file: 201
	for i := range many {
		many[i] = backend.File{Path: fmt.Sprintf("src/f%d.go", i), Content: []byte("package src\n")}
	}
	tests := []struct {
		name   string
		setup  func(t *testing.T, s writeSandbox)
		files  []backend.File
		writes []string
		limits backend.WriteLimits
		want   string
	}{
		{name: "empty path", files: writeInputs("", "x"), want: "empty path"},
		{name: "dotdot", files: writeInputs("../outside/x.go", "x"), want: `".." segment`},
		{name: "deep dotdot", files: writeInputs("src/a/../../../../etc/passwd", "x"), want: `".." segment`},
		{name: "absolute", files: writeInputs("/etc/passwd", "x"), want: "absolute path"},
		{name: "windows drive", files: writeInputs("C:/Windows/x.go", "x"), want: "Windows drive"},
		{name: "windows drive backslash", files: writeInputs(`c:\x.go`, "x"), want: "Windows drive"},
		{name: "leading backslash", files: writeInputs(`\src\x.go`, "x"), want: "absolute path"},
		{name: "backslash", files: writeInputs(`src\x.go`, "x"), want: "backslash"},
		{name: "NUL in name", files: writeInputs("src/a\x00.go", "x"), want: "U+0000"},
		{name: "newline in name", files: writeInputs("src/a\n.go", "x"), want: "U+000A"},
		{name: "DEL in name", files: writeInputs("src/a\x7f.go", "x"), want: "U+007F"},
		{name: "invalid UTF-8 name", files: writeInputs("src/a\xff.go", "x"), want: "not valid UTF-8"},
		{name: "dot segment", files: writeInputs("src/./a.go", "x"), want: `"." segment`},
		{name: "empty segment", files: writeInputs("src//a.go", "x"), want: "empty or"},
		{name: "trailing slash", files: writeInputs("src/a/", "x"), want: "empty or"},
		{name: "long segment", files: writeInputs("src/"+strings.Repeat("a", 201), "x"), want: "longer than"},
		{name: "git", files: writeInputs(".git/config", "x"), writes: []string{"**"}, want: ".git/ is reserved"},
		{name: "nested git", files: writeInputs("src/.GIT/hooks/pre-commit", "x"), want: ".git/ is reserved"},
		{name: "factory", files: writeInputs(".factory/x", "x"), writes: []string{"**"}, want: ".factory/ is reserved"},
		{name: "outside writes", files: writeInputs("main.go", "x"), want: "outside the step's writes globs (src/**, docs/*.md)"},
		{name: "excluded", files: writeInputs("src/secret/key.go", "x"), want: `excluded by the step's writes glob "!src/secret/**"`},
		{name: "no writes", files: writeInputs("src/a.go", "x"), writes: []string{}, want: "declares no writes globs"},
		{name: "malformed glob", files: writeInputs("src/a.go", "x"), writes: []string{"src/[a"}, want: "malformed"},
		{name: "too big", files: writeInputs("src/a.go", strings.Repeat("a", 1<<20+1)), want: "over the limit of 1048576 bytes"},
		{name: "custom size limit", files: writeInputs("src/a.go", "12345"), limits: backend.WriteLimits{MaxFileBytes: 4}, want: "over the limit of 4 bytes"},
		{name: "too many", files: many, want: "201 files, over the limit of 200"},
		{name: "custom file limit", files: writeInputs("src/a.go", "a", "src/b.go", "b"), limits: backend.WriteLimits{MaxFiles: 1}, want: "over the limit of 1 files"},
		{name: "duplicate", files: writeInputs("src/a.go", "a", "src/a.go", "b"), want: "duplicate path"},
		{name: "NUL content", files: writeInputs("src/a.go", "a\x00b"), want: "NUL bytes"},
		{name: "invalid UTF-8 content", files: writeInputs("src/a.go", "a\xc3\x28"), want: "not valid UTF-8"},
		{
			name: "symlinked parent outside",
			setup: func(t *testing.T, s writeSandbox) {
				symlinkForTest(t, "../../outside", filepath.Join(s.out, "src/link"))
			},
			files: writeInputs("src/link/pwned.go", "x"), want: `parent "src/link" is a symlink that leads outside`,
		},
		{
			name:  "absolute symlinked parent, deep",
			setup: func(t *testing.T, s writeSandbox) { symlinkForTest(t, s.outside, filepath.Join(s.out, "src/vendor")) },
			files: writeInputs("src/vendor/lib/deep/x.go", "x"), want: `parent "src/vendor" is a symlink`,
		},
		{
			name:  "dangling symlinked parent",
			setup: func(t *testing.T, s writeSandbox) { symlinkForTest(t, "nowhere", filepath.Join(s.out, "src/gone")) },
			files: writeInputs("src/gone/x.go", "x"), want: "dangling symlink",
		},
		{
			name: "target is a symlink",
			setup: func(t *testing.T, s writeSandbox) {
				symlinkForTest(t, "../../outside/target.go", filepath.Join(s.out, "src/target.go"))
			},
			files: writeInputs("src/target.go", "package pwned\n"), want: "the target is a symlink",
		},
		{
			name:  "parent is a file",
			setup: func(t *testing.T, s writeSandbox) { writeTestFile(t, filepath.Join(s.out, "src/a.go"), "x") },
			files: writeInputs("src/a.go/b.go", "x"), want: `parent "src/a.go" exists and is not a folder`,
		},
		{
			name:  "target is a folder",
			setup: func(t *testing.T, s writeSandbox) { writeTestFile(t, filepath.Join(s.out, "src/dir/x.go"), "x") },
			files: writeInputs("src/dir", "x"), want: "the target is an existing folder",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newWriteSandbox(t)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			w := writes
			if tt.writes != nil {
				w = tt.writes
			}
			// A valid file alongside the hostile one: all-or-nothing.
			all := append(writeInputs("src/ok.go", "package src\n"), tt.files...)
			before := writeSnapshot(t, s.dir)
			got, err := WriteFiles(s.out, all, w, tt.limits)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if backend.ErrorCode(err) != backend.EINVALID {
				t.Errorf("code = %q, want %q", backend.ErrorCode(err), backend.EINVALID)
			}
			if len(got) != 0 {
				t.Errorf("written = %v, want none", got)
			}
			if diff := writeSnapshotDiff(before, writeSnapshot(t, s.dir)); len(diff) > 0 {
				t.Errorf("the sandbox changed:\n%s", strings.Join(diff, "\n"))
			}
		})
	}
}

func TestWriteFilesWrites(t *testing.T) {
	s := newWriteSandbox(t)
	out := filepath.Join(s.out, "new", "folder") // created if missing
	writeTestFile(t, filepath.Join(out, "run.sh"), "old\n")
	if err := os.Chmod(filepath.Join(out, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink that stays inside the output folder may be a parent.
	symlinkForTest(t, "pkg", filepath.Join(out, "alias"))
	if err := os.Mkdir(filepath.Join(out, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := writeInputs(
		"run.sh", "#!/bin/sh\necho hi\n",
		"cmd/app/main.go", "package main\n",
		"alias/x.go", "package pkg\n",
		"docs/ünïcode.md", "# héllo\n",
		"empty.txt", "",
	)
	got, err := WriteFiles(out, in, []string{"**"}, backend.WriteLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("written %d files, want %d", len(got), len(in))
	}
	for i, w := range got {
		sum := sha256.Sum256(in[i].Content)
		want := backend.WrittenFile{Path: in[i].Path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(in[i].Content))}
		if w != want {
			t.Errorf("written[%d] = %+v, want %+v", i, w, want)
		}
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(in[i].Path)))
		if err != nil || string(b) != string(in[i].Content) {
			t.Errorf("%s on disk = %q, %v; want %q", in[i].Path, b, err, in[i].Content)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "pkg", "x.go")); err != nil {
		t.Errorf("alias/x.go did not land in pkg/: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(out, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode = %v, %v; want it kept at 0755", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(out, "empty.txt")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode = %v, %v; want 0644", fi.Mode(), err)
	}
	for p := range writeSnapshot(t, s.dir) {
		if strings.Contains(p, WriteTempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
	}
}

func TestWriteFilesListsEveryRefusal(t *testing.T) {
	s := newWriteSandbox(t)
	_, err := WriteFiles(s.out, writeInputs("ok.go", "x", "../a.go", "x", "b.go", "\x00"), []string{"*.go"}, backend.WriteLimits{})
	var e *backend.Error
	if !errors.As(err, &e) || e.Code != backend.EINVALID {
		t.Fatalf("err = %v, want an EINVALID *backend.Error", err)
	}
	for _, want := range []string{"refused 2 of 3 files, nothing was written", `"../a.go": ".." segment`, `"b.go": content contains NUL`} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q lacks %q", e.Message, want)
		}
	}
	if strings.Contains(e.Message, `"ok.go"`) {
		t.Errorf("message %q names an accepted file", e.Message)
	}
}

func TestWriteFilesRelativeRoot(t *testing.T) {
	_, err := WriteFiles("out", writeInputs("a.go", "x"), []string{"**"}, backend.WriteLimits{})
	if backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(err.Error(), "not an absolute path") {
		t.Fatalf("err = %v, want EINVALID about an absolute path", err)
	}
}

func TestCheckPath(t *testing.T) {
	s := newWriteSandbox(t)
	symlinkForTest(t, "../outside", filepath.Join(s.out, "esc"))
	writes := []string{"**/*.go", "go.mod", "!**/*_test.go"}
	tests := []struct {
		name, root, rel, want string // want "" means allowed
	}{
		{name: "allowed", rel: "cmd/main.go"},
		{name: "allowed top", rel: "go.mod"},
		{name: "root missing is fine", root: filepath.Join(s.dir, "missing"), rel: "a.go"},
		{name: "excluded", rel: "a_test.go", want: `"a_test.go": excluded by the step's writes glob "!**/*_test.go"`},
		{name: "outside globs", rel: "README.md", want: "outside the step's writes globs (**/*.go, go.mod)"},
		{name: "dotdot", rel: "../x.go", want: `".." segment`},
		{name: "symlink escape", rel: "esc/x.go", want: `parent "esc" is a symlink that leads outside`},
		{name: "relative root", root: "out", rel: "a.go", want: "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := s.out
			if tt.root != "" {
				root = tt.root
			}
			err := CheckPath(root, tt.rel, writes)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckPath = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("CheckPath = %v, want it to contain %q", err, tt.want)
			case tt.want != "" && backend.ErrorCode(err) != backend.EINVALID:
				t.Fatalf("code = %q, want %q", backend.ErrorCode(err), backend.EINVALID)
			}
		})
	}
}

func BenchmarkWriteFiles(b *testing.B) {
	out := filepath.Join(b.TempDir(), "out")
	in := make([]backend.File, 50)
	for i := range in {
		in[i] = backend.File{Path: fmt.Sprintf("pkg%d/file%d.go", i%5, i), Content: []byte(strings.Repeat("// line\n", 500))}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := WriteFiles(out, in, []string{"**/*.go"}, backend.WriteLimits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "files/s")
}
