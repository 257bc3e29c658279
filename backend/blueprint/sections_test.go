package blueprint

import (
	"os"
	"path/filepath"
	"testing"

	"factorydesk/backend"
)

func TestSlug(t *testing.T) {
	tests := []struct {
		name, title, want string
	}{
		{"words", "Hello World", "hello-world"},
		{"dashes collapse and trim", "  Leading -- dashes  ", "leading-dashes"},
		{"punctuation dropped", "Errors & retries", "errors-retries"},
		{"dots dropped", "v1.2 API", "v12-api"},
		{"underscores", "snake_case name", "snake-case-name"},
		{"path", "GET /orders/{id}", "get-orders-id"},
		{"digits first", "2024 plan", "2024-plan"},
		{"non-ascii dropped", "Café menu", "caf-menu"},
		{"nothing left", "概要", "section"},
		{"empty", "", "section"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Slug(tc.title); got != tc.want {
				t.Errorf("Slug(%q) = %q, want %q", tc.title, got, tc.want)
			}
		})
	}
}

func TestSections(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "sections.md"))
	if err != nil {
		t.Fatal(err)
	}
	bp, diags := Parse("sections.md", src, nil)
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	want := []backend.Section{
		{ID: "service", Title: "Service", Level: 1, Line: 5, End: 24},
		{ID: "api", Title: "API", Level: 2, Line: 9, End: 16},
		{ID: "get-orders-list", Title: "GET /orders list", Level: 3, Line: 15, End: 16, Text: "### `GET /orders` *list*\nText.\n"},
		{ID: "api-1", Title: "API", Level: 2, Line: 17, End: 19, Text: "## API\nAgain\n\n"},
		{ID: "setext-title", Title: "Setext title", Level: 2, Line: 20, End: 22, Text: "Setext title\n------------\n\n"},
		{ID: "errors-retries", Title: "Errors & retries", Level: 2, Line: 23, End: 24, Text: "## Errors & retries\nlast line\n"},
	}
	if len(bp.Sections) != len(want) {
		t.Fatalf("got %d sections %+v, want %d", len(bp.Sections), bp.Sections, len(want))
	}
	for i, w := range want {
		t.Run(w.ID, func(t *testing.T) {
			got := bp.Sections[i]
			if w.Text == "" {
				w.Text = lines(t, src, w.Line, w.End)
			}
			if got != w {
				t.Errorf("section %d:\n got %+v\nwant %+v", i, got, w)
			}
		})
	}
}

// lines returns lines from..to (1-based, inclusive) of src.
func lines(t *testing.T, src []byte, from, to int) string {
	t.Helper()
	line, start := 1, -1
	for i := 0; i <= len(src); i++ {
		if line == from && start < 0 {
			start = i
		}
		if i == len(src) || src[i] == '\n' {
			if line == to {
				return string(src[start:min(i+1, len(src))])
			}
			line++
		}
	}
	t.Fatalf("lines %d-%d out of range", from, to)
	return ""
}

func TestSectionsEdges(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []backend.Section
	}{
		{
			name: "no body",
			src:  "---\nblueprint: a\nsteps: [{id: a, role: r}]\n---\n",
			want: []backend.Section{},
		},
		{
			name: "no trailing newline",
			src:  "---\nblueprint: a\nsteps: [{id: a, role: r}]\n---\n# Title\ntext",
			want: []backend.Section{{ID: "title", Title: "Title", Level: 1, Line: 5, End: 6, Text: "# Title\ntext"}},
		},
		{
			name: "crlf line endings",
			src:  "---\r\nblueprint: a\r\nsteps: [{id: a, role: r}]\r\n---\r\n\r\n## Two\r\n",
			want: []backend.Section{{ID: "two", Title: "Two", Level: 2, Line: 6, End: 6, Text: "## Two\r\n"}},
		},
		{
			name: "slug taken by a later title",
			src:  "---\nblueprint: a\nsteps: [{id: a, role: r}]\n---\n# A\n# A\n# A 1\n",
			want: []backend.Section{
				{ID: "a", Title: "A", Level: 1, Line: 5, End: 5, Text: "# A\n"},
				{ID: "a-1", Title: "A", Level: 1, Line: 6, End: 6, Text: "# A\n"},
				{ID: "a-1-1", Title: "A 1", Level: 1, Line: 7, End: 7, Text: "# A 1\n"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bp, diags := Parse("x.md", []byte(tc.src), nil)
			if len(diags) > 0 || bp == nil {
				t.Fatalf("diagnostics: %v", diags)
			}
			if len(bp.Sections) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", bp.Sections, tc.want)
			}
			for i := range tc.want {
				if bp.Sections[i] != tc.want[i] {
					t.Errorf("section %d:\n got %+v\nwant %+v", i, bp.Sections[i], tc.want[i])
				}
			}
		})
	}
}
