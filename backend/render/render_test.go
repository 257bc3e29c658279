package render

import (
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	src := "---\nblueprint: x\nsteps: []\n---\n# Orders\n\n## API\n\n| verb | path |\n|:-----|-----:|\n| GET | /orders |\n\n" +
		"- [x] done\n- [ ] to do\n\n## API\n\n<script>alert(1)</script>\n<div onclick=\"x()\">hi</div>\n\n" +
		"[bad](javascript:alert(1)) [good](https://example.com) ~~old~~\n\n```go\nfunc main() {}\n```\n\nSetext\n------\n"
	r := New().Markdown([]byte(src))
	for _, want := range []string{
		`<h1 id="orders">Orders</h1>`, `<h2 id="api">API</h2>`, `<h2 id="api-1">API</h2>`, `<h2 id="setext">Setext</h2>`,
		`<table>`, `<th align="left">verb</th>`, `<td align="right">/orders</td>`,
		`<input checked="" disabled="" type="checkbox"`, `<input disabled="" type="checkbox"`,
		`<a href="https://example.com" rel="nofollow">good</a>`, `<del>old</del>`, `<code class="language-go">`,
	} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("html lacks %s:\n%s", want, r.HTML)
		}
	}
	for _, bad := range []string{"<script", "alert(1)</script>", "onclick", "javascript:", "blueprint: x", "<div"} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("html holds %s:\n%s", bad, r.HTML)
		}
	}
	want := []Section{
		{"orders", "Orders", 1, 5, 28}, {"api", "API", 2, 7, 15}, {"api-1", "API", 2, 16, 26}, {"setext", "Setext", 2, 27, 28},
	}
	if len(r.Sections) != len(want) {
		t.Fatalf("sections %+v", r.Sections)
	}
	for i, s := range want {
		if r.Sections[i] != s {
			t.Errorf("section %d = %+v, want %+v", i, r.Sections[i], s)
		}
	}
}

func TestMarkdownPlain(t *testing.T) {
	r := New().Markdown([]byte("no front matter\n\n# Title\n"))
	if !strings.Contains(r.HTML, `<h1 id="title">Title</h1>`) || len(r.Sections) != 1 || r.Sections[0].Line != 3 {
		t.Errorf("%+v", r)
	}
}

// TestMarkdownRefusesHostileBodies: a body over the size or nesting limits
// is not parsed (goldmark took 9 s on 64 KB of ">"); the answer says why.
func TestMarkdownRefusesHostileBodies(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"nested quotes", "---\nblueprint: x\n---\n" + strings.Repeat(">", 64<<10), "line 4: the Markdown nests"},
		{"too large", strings.Repeat("text\n", 60<<10), "line 1: the Markdown body is 307200 bytes, over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New().Markdown([]byte(tt.src))
			if !strings.HasPrefix(r.Refused, tt.want) || !strings.Contains(r.HTML, "Not rendered") || len(r.Sections) != 0 {
				t.Errorf("%+v", r)
			}
		})
	}
}
