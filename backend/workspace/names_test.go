package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
)

// TestWriteFilesRefusesDeceptiveNames: names that read as something else,
// that Windows cannot hold, or that collide with another file on a
// case-insensitive or normalising file system are refused with nothing
// written; honest names in any one script are written.
func TestWriteFilesRefusesDeceptiveNames(t *testing.T) {
	tests := []struct {
		name     string
		existing []string // files already in the output folder
		paths    []string
		want     string // in the error; "" when written
	}{
		{name: "right-to-left override", paths: []string{"invoice\u202Etxt.exe"}, want: "U+202E"},
		{name: "zero-width space", paths: []string{"ma\u200Bin.go"}, want: "U+200B"},
		{name: "Cyrillic a in a Latin name", paths: []string{"p\u0430ypal.go"}, want: "mixes scripts (Latin+Cyrillic)"},
		{name: "Greek omicron in a folder", paths: []string{"c\u03BFnfig/app.go"}, want: "mixes scripts"},
		{name: "device name", paths: []string{"CON"}, want: "device name"},
		{name: "device name with an extension", paths: []string{"docs/nul.txt"}, want: "device name"},
		{name: "com port", paths: []string{"Com1.go"}, want: "device name"},
		{name: "trailing dot", paths: []string{"notes."}, want: "ends with a dot"},
		{name: "colon", paths: []string{"x/a:b.go"}, want: "Windows cannot store"},
		{name: "case twins in one answer", paths: []string{"Main.go", "main.go"}, want: `only by case`},
		{name: "normalisation twins", paths: []string{"caf\u00e9.go", "cafe\u0301.go"}, want: "Unicode normalisation"},
		{name: "case twin of a file on disk", existing: []string{"README.md"}, paths: []string{"readme.md"}, want: `"README.md", already in its folder`},
		{name: "one script", paths: []string{"данные.go", "résumé.md", "日本語ファイル.go", "Latin日本.go", "sub.dir/x_y-z.go"}},
		{name: "rewriting a file on disk", existing: []string{"main.go"}, paths: []string{"main.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, p := range tt.existing {
				if err := os.WriteFile(filepath.Join(root, p), []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var files []backend.File
			for _, p := range tt.paths {
				files = append(files, backend.File{Path: p, Content: []byte("x")})
			}
			_, err := WriteFiles(root, files, []string{"**"}, backend.WriteLimits{})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
			entries, _ := os.ReadDir(root)
			if len(entries) != len(tt.existing) {
				t.Errorf("%d entries in the output folder after the refusal, want %d", len(entries), len(tt.existing))
			}
		})
	}
}
