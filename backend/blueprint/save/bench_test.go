package save

import (
	"strings"
	"testing"
)

// BenchmarkDraftJournal times one journaled draft of a 200-step blueprint
// (about 25 KB): written to a temporary file, fsync'd and renamed.
func BenchmarkDraftJournal(b *testing.B) {
	root := b.TempDir()
	j := NewJournal(root, nil)
	text := []byte("---\nblueprint: x\nsteps:\n" + strings.Repeat("  - id: s\n    role: architect\n    writes: [\"out/**\"]\n", 200) + "---\n# X\n")
	for b.Loop() {
		if _, err := j.Put("blueprints/x.md", text); err != nil {
			b.Fatal(err)
		}
	}
}
