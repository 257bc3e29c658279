package blueprint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/blueprint/blueprinttest"

	"github.com/goccy/go-yaml/lexer"
)

// hostileFrontMatters are front matters built to make a YAML parser take
// quadratic time and memory, or just too much input.
func hostileFrontMatters() map[string]string {
	var block strings.Builder
	for i := range 40 {
		block.WriteString(strings.Repeat("  ", i) + "k:\n")
	}
	var dashes strings.Builder
	for i := range 40 {
		dashes.WriteString(strings.Repeat("  ", i) + "-\n")
	}
	return map[string]string{
		"80 KB of nested [":           "blueprint: x\nsteps: " + strings.Repeat("[", 80<<10),
		"60 KB of nested [ closed":    "steps: " + strings.Repeat("[", 30<<10) + strings.Repeat("]", 30<<10),
		"nested {":                    "steps: " + strings.Repeat("{a: ", 10<<10),
		"40 block levels":             block.String(),
		"40 sequence levels":          dashes.String(),
		"compact sequences":           "steps: " + strings.Repeat("- ", 100),
		"front matter over the limit": "blueprint: x\nsteps: []\ntitle: \"" + strings.Repeat("x", MaxFrontMatterBytes) + "\"\n",
		"2 MiB of flow entries":       "blueprint: x\nsteps: [" + strings.Repeat("a,", 1<<20-16) + "]",
		"2 MiB of empty lists":        "blueprint: x\nsteps: " + strings.Repeat("[]", 1<<20-16),
		"2 MiB of dashes":             "blueprint: x\nsteps: " + strings.Repeat("- ", 1<<20-16),
		"2 MiB of keys":               "blueprint: x\nenv: {" + strings.Repeat("a: b, ", 340<<10) + "}",
		"2 MiB of nested [":           "blueprint: x\nsteps: " + strings.Repeat("[", 2<<20-32),
		"nested [ up to the tokens":   "blueprint: x\nsteps: " + strings.Repeat("[", MaxFrontMatterTokens-16),
	}
}

// TestParseRefusesHostileFrontMatter: each hostile front matter is refused
// with one diagnostic at a file position, before the YAML parser sees it.
func TestParseRefusesHostileFrontMatter(t *testing.T) {
	for name, fm := range hostileFrontMatters() {
		t.Run(name, func(t *testing.T) {
			src := []byte("---\n" + fm + "\n---\n# Body\n")
			for _, parse := range []func() ([]string, bool){
				func() ([]string, bool) {
					bp, d := Parse("blueprints/evil.md", src, nil)
					return diagStrings(d), bp == nil
				},
				func() ([]string, bool) {
					r, d := ParseRole("blueprints/roles/evil.md", src)
					return diagStrings(d), r == nil
				},
			} {
				diags, refused := parse()
				if !refused || len(diags) != 1 {
					t.Fatalf("refused %v, diagnostics %q; want one diagnostic and nothing parsed", refused, diags)
				}
				if !strings.HasPrefix(diags[0], "blueprints/") || !strings.Contains(diags[0], "over the limit") {
					t.Errorf("diagnostic %q does not name the file, position and limit", diags[0])
				}
			}
		})
	}
}

// TestHostileFrontMatterMemory: refusing each hostile front matter
// allocates memory linear in its tokens, at most the lexer's share of
// MaxFrontMatterTokens, however many it would have made (2 MiB of "a,"
// took the lexer 540 MB; 80 KB of nested "[" the parser 2.5 GB).
func TestHostileFrontMatterMemory(t *testing.T) {
	for name, fm := range hostileFrontMatters() {
		t.Run(name, func(t *testing.T) {
			src := []byte("---\n" + fm + "\n---\n# Body\n")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if bp, _ := Parse("blueprints/evil.md", src, nil); bp != nil {
				t.Fatal("parsed")
			}
			runtime.ReadMemStats(&after)
			tokens := uint64(min(tokenEstimate([]byte(fm)), MaxFrontMatterTokens))
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20+512*tokens {
				t.Errorf("refusing %d bytes (%d tokens) allocated %d MB", len(src), tokens, alloc>>20)
			}
		})
	}
}

// TestTokenEstimateBoundsTheLexer: the estimate counted before lexing is
// never below the tokens the lexer makes, on the corpus of odd blueprint
// files, the shipped examples and hostile front matters, and is within a
// few times of them on honest files.
func TestTokenEstimateBoundsTheLexer(t *testing.T) {
	files := map[string][]byte{}
	for _, dir := range []string{"edit/testdata/corpus", "testdata", "../../blueprints", "../../blueprints/roles"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.md"))
		for _, m := range matches {
			data, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			files[m] = data
		}
	}
	if len(files) < 60 {
		t.Fatalf("%d files found, want the corpus and the examples", len(files))
	}
	honest := 0
	for name, data := range files {
		b, err := SplitFrontMatter(data)
		if err != nil {
			continue
		}
		fm := data[b.YAMLStart:b.YAMLEnd]
		n, est := len(lexer.Tokenize(strings.ReplaceAll(string(fm), "\r\n", "\n"))), tokenEstimate(fm)
		if est < n {
			t.Errorf("%s: estimate %d below the lexer's %d tokens", name, est, n)
		}
		if n > 50 && est > 4*n {
			t.Errorf("%s: estimate %d over four times the lexer's %d tokens", name, est, n)
		}
		honest++
	}
	for name, fm := range map[string]string{"flow": strings.Repeat("a,", 500), "nested": strings.Repeat("[", 500),
		"dashes": strings.Repeat("- ", 500), "keys": "{" + strings.Repeat("a: b, ", 200) + "}", "anchors": strings.Repeat("- &a x\n- *a\n", 100),
		"quotes": strings.Repeat("- 'a'\n- \"b\"\n", 100), "tags": strings.Repeat("- !!str 1\n", 100)} {
		if n, est := len(lexer.Tokenize(fm)), tokenEstimate([]byte(fm)); est < n {
			t.Errorf("%s: estimate %d below the lexer's %d tokens", name, est, n)
		}
	}
	t.Logf("%d files checked", honest)
}

// TestParseAcceptsFiveThousandSteps: the largest blueprint the editor is
// measured with, 5,000 steps, is within every limit.
func TestParseAcceptsFiveThousandSteps(t *testing.T) {
	src := blueprinttest.Large(5000)
	if len(src) < 500<<10 {
		t.Fatalf("%d bytes, want a large file", len(src))
	}
	bp, diags := Parse("blueprints/large.md", src, nil)
	if bp == nil || len(diags) != 0 || len(bp.Steps) != 5000 {
		t.Fatalf("parsed %v with %d diagnostics: %v", bp != nil, len(diags), diags[:min(3, len(diags))])
	}
	fm := src[:bytes.Index(src[4:], []byte("\n---\n"))]
	t.Logf("%d bytes, %d tokens estimated (limit %d)", len(src), tokenEstimate(fm), MaxFrontMatterTokens)
}

func diagStrings(d backend.Diagnostics) []string {
	out := make([]string, len(d))
	for i, x := range d {
		out[i] = x.String()
	}
	return out
}

// TestParseAcceptsNestingWithinTheLimit: a front matter nested as deep as
// the limit allows parses; one level more does not, at that level's line.
func TestParseAcceptsNestingWithinTheLimit(t *testing.T) {
	nested := func(depth int) []byte {
		// blueprint and steps are one level; the scope's value nests.
		v := strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1)
		return []byte("---\nblueprint: deep\nsteps:\n  - id: a\n    role: r\nenv: " + v + "\n---\n")
	}
	if _, diags := Parse("deep.md", nested(MaxNestingDepth), nil); hasLimit(diags) {
		t.Errorf("depth %d refused: %v", MaxNestingDepth, diags)
	}
	_, diags := Parse("deep.md", nested(MaxNestingDepth+1), nil)
	if !hasLimit(diags) || diags[0].Line != 6 || diags[0].Col != 6+MaxNestingDepth-1 {
		t.Errorf("depth %d: diagnostics %v, want one at 6:%d", MaxNestingDepth+1, diags, 6+MaxNestingDepth-1)
	}
}

func hasLimit(d backend.Diagnostics) bool {
	for _, x := range d {
		if strings.Contains(x.Message, "over the limit") {
			return true
		}
	}
	return false
}

func TestParseRefusesHugeBody(t *testing.T) {
	src := []byte("---\nblueprint: big\nsteps: []\n---\n" + strings.Repeat("x\n", MaxBodyBytes/2+1))
	_, diags := Parse("big.md", src, nil)
	if len(diags) != 1 || !strings.Contains(diags[0].Message, fmt.Sprint(MaxBodyBytes)) || diags[0].Line != 5 {
		t.Errorf("diagnostics %v, want one at the body naming its limit", diags)
	}
}

func TestParseRefusesHugeFile(t *testing.T) {
	src := []byte("---\nblueprint: big\nsteps: []\n---\n" + strings.Repeat("x\n", MaxFileBytes/2+1))
	_, diags := Parse("big.md", src, nil)
	if len(diags) != 1 || !strings.Contains(diags[0].Message, fmt.Sprint(MaxFileBytes)) {
		t.Errorf("diagnostics %v, want one naming the limit", diags)
	}
}

// BenchmarkRefuseNestedFrontMatter times the refusal of the 80 KB nested
// front matter that took the parser 30 s and 2.5 GB, of nesting as long as
// the token limit allows, and of 2 MiB of flow entries (refused before
// lexing).
func BenchmarkRefuseNestedFrontMatter(b *testing.B) {
	for _, c := range []struct{ name, fm string }{
		{"80KB-nested", strings.Repeat("[", 80<<10)},
		{"token-limit-nested", strings.Repeat("[", MaxFrontMatterTokens-16)},
		{"2MiB-flow-entries", "[" + strings.Repeat("a,", 1<<20-16) + "]"},
	} {
		src := []byte("---\nblueprint: x\nsteps: " + c.fm + "\n---\n")
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bp, _ := Parse("evil.md", src, nil); bp != nil {
					b.Fatal("parsed")
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/refusal")
		})
	}
}

// TestParseRefusesHostileBody: Markdown nested past the limit (block
// quotes, list indentation, unclosed brackets; 64 KB of ">" took goldmark
// 9 s) is refused at its position; code blocks and honest prose are not.
func TestParseRefusesHostileBody(t *testing.T) {
	var list strings.Builder
	for i := range 40 {
		list.WriteString(strings.Repeat("  ", i) + "- x\n")
	}
	tests := []struct {
		name string
		body string
		at   string // "line:col" of the diagnostic; "" when accepted
	}{
		{name: "64 KB of >", body: strings.Repeat(">", 64<<10), at: "6:1"},
		{name: "spaced quotes", body: "text\n\n" + strings.Repeat("> ", 40) + "x\n", at: "8:1"},
		{name: "nested lists", body: list.String(), at: "39:67"},
		{name: "unclosed links", body: strings.Repeat("[a](", 16<<10), at: "6:129"},
		{name: "unclosed brackets across lines", body: strings.Repeat("[\n", 40), at: "38:1"},
		{name: "brackets in a fenced block", body: "```\n" + strings.Repeat("[", 100) + "\n" + strings.Repeat(">", 100) + "\n```\n"},
		{name: "brackets in a long fence", body: "````\n```\n" + strings.Repeat("(", 100) + "\n````\n"},
		{name: "paragraphs reset the count", body: strings.Repeat(strings.Repeat("[", 30)+"\n\n", 10)},
		{name: "prose", body: "# Title\n\n> a quote\n> > nested\n\n- a\n  - b [link](x) (aside)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte("---\nblueprint: x\nsteps: [{id: a, role: r}]\n---\n\n" + tt.body)
			bp, diags := Parse("x.md", src, nil)
			if tt.at == "" {
				if bp == nil || hasLimit(diags) {
					t.Fatalf("refused: %v", diags)
				}
				return
			}
			if bp != nil || len(diags) != 1 || !strings.HasPrefix(diags[0].String(), "x.md:"+tt.at+": the Markdown nests") {
				t.Fatalf("diagnostics %v, want one at %s", diags, tt.at)
			}
		})
	}
}
