package blueprint

import (
	"strings"
	"testing"

	"factorydesk/blueprints"
)

// FuzzParse feeds arbitrary bytes to the blueprint and role parsers: they
// never panic, and every diagnostic has a file position.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"hello.md", "orders-service.md", "roles/architect.md"} {
		src, err := blueprints.FS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, fm := range hostileFrontMatters() {
		f.Add([]byte("---\n" + fm[:min(len(fm), 4096)] + "\n---\n# X\n"))
	}
	f.Add([]byte("---\nblueprint: x\nsteps: [{id: a, role: r}]\n---\n" + strings.Repeat(">", 100)))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, diags := Parse("blueprints/f.md", src, nil)
		_, rdiags := ParseRole("blueprints/roles/f.md", src)
		for _, d := range append(diags, rdiags...) {
			if d.Line < 1 || d.Col < 1 || d.Message == "" {
				t.Fatalf("diagnostic without a position or message: %+v", d)
			}
		}
	})
}
