package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
)

// FuzzWriteNames writes one file under an arbitrary name into a workspace's
// root: either the writer refuses it, or the file lands exactly at that
// name inside the root, outside .factory/, .git/ and blueprints/, and its
// name passes every check again.
func FuzzWriteNames(f *testing.F) {
	for _, seed := range []string{"main.go", "a/b/c.txt", "../x", "/etc/passwd", "blueprints/x.md", ".git/config",
		"Blueprints/x", "CON", "nul.txt", "invoice\u202Etxt.exe", "p\u0430ypal.go", "a//b", "a\\b", "C:x", "日本語.go", "x."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		ws := t.TempDir()
		for _, d := range []string{".factory", "blueprints"} {
			if err := os.Mkdir(filepath.Join(ws, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		written, err := WriteFiles(ws, []backend.File{{Path: name, Content: []byte("x")}}, []string{"**"}, backend.WriteLimits{})
		if err != nil {
			if backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("%q: %v is not EINVALID", name, err)
			}
			return
		}
		if len(written) != 1 || written[0].Path != name {
			t.Fatalf("%q: written %+v", name, written)
		}
		if d := backend.ReservedDir(name); d != "" {
			t.Fatalf("%q was written into %s/", name, d)
		}
		data, err := os.ReadFile(filepath.Join(ws, filepath.FromSlash(name)))
		if err != nil || string(data) != "x" {
			t.Fatalf("%q: not at its name: %v", name, err)
		}
		for _, seg := range strings.Split(name, "/") {
			if r := segmentReason(seg); r != "" {
				t.Fatalf("%q was written though %s", name, r)
			}
		}
	})
}
