package blueprint

import (
	"fmt"
	"strings"
	"testing"
)

// TestLintReservedFolders: a blueprint whose output is, or could write
// into, .factory/, .git/ or blueprints/ gets a diagnostic at the output or
// glob; a blueprint writing only its own folders gets none.
func TestLintReservedFolders(t *testing.T) {
	tests := []struct {
		name   string
		output string
		writes string
		want   string // "line:col: text" of the one diagnostic; "" for none
	}{
		{name: "output .factory", output: ".factory", writes: `["**"]`, want: `3:9: output: ".factory" is inside .factory/`},
		{name: "output inside .factory", output: ".factory/cache", writes: `["**"]`, want: `3:9: output: ".factory/cache" is inside .factory/`},
		{name: "output ./.git", output: "./.git", writes: `["**"]`, want: `3:9: output: "./.git" is inside .git/`},
		{name: "output blueprints", output: "blueprints", writes: `["*.md"]`, want: `3:9: output: "blueprints" is inside blueprints/`},
		{name: "output Blueprints/roles", output: "Blueprints/roles", writes: `["*.md"]`, want: `3:9: output: "Blueprints/roles" is inside blueprints/`},
		{name: "output deep .git", output: "out/x/.git", writes: `["**"]`, want: `3:9: output: "out/x/.git" is inside .git/`},
		{name: "root writes **", output: ".", writes: `["**"]`, want: `9:14: writes: "**" could write into .factory/`},
		{name: "root plants a blueprint", output: ".", writes: `["src/**", "blueprints/zz-evil.md"]`, want: `9:24: writes: "blueprints/zz-evil.md" could write into blueprints/`},
		{name: "root writes */x.md", output: ".", writes: `["*/x.md"]`, want: `9:14: writes: "*/x.md" could write into .factory/`},
		{name: "a glob naming .factory", output: "out/x", writes: `[".factory/settings.json"]`, want: `9:14: writes: ".factory/settings.json" names .factory/`},
		{name: "root writes only src", output: ".", writes: `["src/**", "go.mod", "!**/*_test.go"]`},
		{name: "own folder", output: "out/x", writes: `["**"]`},
		{name: "a folder named like one deeper", output: "out/blueprints", writes: `["**"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf("---\nblueprint: x\noutput: %s\nsteps:\n  - id: a\n    role: r\n    uses: []\n    needs: []\n    writes: %s\n---\n# X\n", tt.output, tt.writes)
			_, diags := Parse("x.md", []byte(src), nil)
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%d:%d: %s", d.Line, d.Col, d.Message))
			}
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("diagnostics %q, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Fatalf("diagnostics %q, want one starting %q", got, tt.want)
			}
		})
	}
}
