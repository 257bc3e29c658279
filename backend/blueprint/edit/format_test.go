package edit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFormat formats every corpus file: the model and the comments stay,
// and formatting again changes nothing.
func TestFormat(t *testing.T) {
	for name, src := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			kind := kindOfCorpus(name)
			once, err := Format(kind, src)
			if err != nil {
				t.Fatalf("format: %v", err)
			}
			twice, err := Format(kind, once)
			if err != nil {
				t.Fatalf("format again: %v", err)
			}
			if !bytes.Equal(once, twice) {
				t.Errorf("not idempotent:\n%s", diffLines(string(once), string(twice)))
			}
		})
	}
}

// TestFormatGolden compares the canonical form of a few odd files with
// testdata/fmt/NAME (go test -update rewrites them).
func TestFormatGolden(t *testing.T) {
	files := corpus(t)
	for _, name := range []string{"01-comments-everywhere.md", "05-block-lists-unindented.md", "08-mixed-quotes.md",
		"10-literal-keep.md", "15-crlf.md", "20-four-space.md", "32-unusual-order.md", "38-json-style.md", "role-odd-comments.md"} {
		t.Run(name, func(t *testing.T) {
			out, err := Format(kindOfCorpus(name), files[name])
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "fmt", name)
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
