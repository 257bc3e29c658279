package workspace

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

var updateGolden = flag.Bool("update-workspace", false, "rewrite the golden files of the workspace tests")

// golden compares got with testdata/name, or rewrites it with -update-workspace.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (rerun with -update-workspace to accept):\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

func TestScan(t *testing.T) {
	root, m := t.TempDir(), newMapManifest()
	generate(t, root, m, "out/orders.go", genGo)
	generate(t, root, m, "out/kept.go", "package orders\n")
	generate(t, root, m, "out/gone.go", "package orders\n\nconst Gone = true\n")
	generate(t, root, m, "out/logo.png", "\x89PNG\x00\x01")
	generate(t, root, m, "out/docs/design.md", "# Design\n\nOrders have lines.\n")
	putFile(t, root, "out/orders.go", strings.Replace(genGo, "return 0", "// by hand\n\treturn 42", 1))
	if err := os.Remove(filepath.Join(root, "out", "gone.go")); err != nil {
		t.Fatal(err)
	}
	putFile(t, root, "out/logo.png", "\x89PNG\x00\x02")
	putFile(t, root, "out/docs/design.md", "# Design\n\nOrders have lines and a total.\n")
	m.mu.Lock()
	delete(m.contents, m.entries["out/docs/design.md"].SHA256) // base content not kept
	m.mu.Unlock()

	seen := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	drifts, err := Scan(context.Background(), root, m, func() time.Time { return seen })
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, d := range drifts {
		if !d.SeenAt.Equal(seen) {
			t.Errorf("%s: SeenAt = %v, want the injected clock", d.Path, d.SeenAt)
		}
		fmt.Fprintf(&out, "== %s deleted=%v base=%.8s current=%.8s\n%s", d.Path, d.Deleted, d.BaseSHA256, d.CurrentSHA256, d.Diff)
	}
	golden(t, "scan.golden", out.Bytes())
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() context.Context
		path string
		code string
	}{
		{"path outside the workspace", context.Background, "../escape.go", backend.EINVALID},
		{"absolute path", context.Background, "/etc/passwd", backend.EINVALID},
		{"canceled", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "out/x.go", backend.ECANCELED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMapManifest()
			m.set(tt.path, []byte("x"))
			_, err := Scan(tt.ctx(), t.TempDir(), m, nil)
			if backend.ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestDiffSummaries(t *testing.T) {
	big := bytes.Repeat([]byte("line\n"), maxDiffBytes/5+1)
	tests := []struct {
		name          string
		base, current []byte
		want          string
	}{
		{"binary", []byte("a\x00b"), []byte("a\x00c"), "Binary files a/f and b/f differ\n"},
		{"invalid utf-8", []byte("a\n"), []byte("\xff\xfe\n"), "Binary files a/f and b/f differ\n"},
		{"too large", big, []byte("x\n"), fmt.Sprintf("f: file too large to show a diff (over %d bytes)\n", maxDiffBytes)},
		{"same", []byte("a\n"), []byte("a\n"), ""},
		{"deleted", []byte("a\n"), nil, "--- a/f (generated)\n+++ b/f (on disk)\n@@ -1 +0,0 @@\n-a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff("f", tt.base, tt.current); got != tt.want {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}
