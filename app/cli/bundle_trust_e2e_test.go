package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/bundle"
	"factorydesk/backend/bundle/bundletest"
)

// noRuns fails the test unless the workspace has no run.
func noRuns(t *testing.T, ws string) {
	t.Helper()
	var runs []backend.Run
	decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &runs)
	if len(runs) != 0 {
		t.Errorf("a refused import left %d runs", len(runs))
	}
}

// TestImportRefusesBombs: factory import of each decompression bomb (about
// 1 MB, expanding to about 1 GiB) is refused as damaged with its memory
// bounded, and imports nothing.
func TestImportRefusesBombs(t *testing.T) {
	ws := workspace(t)
	dir := t.TempDir()
	for name, data := range bundletest.Bombs() {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".tgz")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := must(t, factory(t, ws, nil, "import", file), 1)
			took := time.Since(start)
			if !strings.Contains(r.stderr, "damaged") {
				t.Errorf("stderr: %s", r.stderr)
			}
			if r.maxRSS > 128<<20 {
				t.Errorf("factory import of a %d KB bomb peaked at %d MB", len(data)>>10, r.maxRSS>>20)
			}
			t.Logf("a %d KB bomb refused in %s, peak %d MB: %s", len(data)>>10, took.Round(time.Millisecond), r.maxRSS>>20, strings.TrimSpace(r.stderr))
		})
	}
	noRuns(t, ws)
}

// TestImportRefusesForeignRecords: bundles that would point the app outside
// the workspace, into its reserved folders, inject spans into a local run
// or take a local run's short id are refused by the real binary.
func TestImportRefusesForeignRecords(t *testing.T) {
	ws := chainWorkspace(t)
	cs := newChainServer(t)
	local := runID(t, ws, cs.env(), "run", "chain")
	file := filepath.Join(t.TempDir(), "run.tgz")
	must(t, factory(t, ws, nil, "export", local, "-o", file), 0)
	other := strings.Repeat("e", 32)
	tests := []struct {
		name   string
		tamper func(b *backend.RunBundle)
		want   string
	}{
		{"output leaving the workspace", func(b *backend.RunBundle) { b.Detail.Run.Output = "../../../../etc" }, `has a ".." segment`},
		{"output in .factory", func(b *backend.RunBundle) { b.Detail.Run.Output = ".factory" }, "inside the workspace's .factory/"},
		{"a file path leaving the output", func(b *backend.RunBundle) { b.Detail.Artifacts[0].Path = "../../../etc/passwd" }, `has a ".." segment`},
		{"spans injected into the local run", func(b *backend.RunBundle) { rename(b, other, local) }, "belongs to trace"},
		{"a twin of the local short id", func(b *backend.RunBundle) {
			twin := local[:12] + strings.Repeat("0", 20)
			rename(b, twin, twin)
		}, "shares its short id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := readBundle(t, file)
			tt.tamper(b)
			evil := writeBundle(t, b)
			r := must(t, factory(t, ws, nil, "import", evil), 1)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, r.stderr)
			}
			var runs []backend.Run
			decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &runs)
			if len(runs) != 1 {
				t.Errorf("%d runs after the refused import", len(runs))
			}
		})
	}
	t.Run("a run dated in the future", func(t *testing.T) {
		b := readBundle(t, file)
		future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
		rename(b, strings.Repeat("f", 32), strings.Repeat("f", 32))
		b.Detail.Run.StartedAt = future
		for i := range b.Detail.Steps {
			b.Detail.Steps[i].StartedAt = future
		}
		evil := writeBundle(t, b)
		id := strings.TrimSpace(must(t, factory(t, ws, nil, "import", evil), 0).stdout)
		for _, args := range [][]string{{"runs"}, {"show", id}} {
			out := must(t, factory(t, ws, nil, args...), 0).stdout
			if negative.MatchString(out) {
				t.Errorf("factory %v shows a negative duration:\n%s", args, out)
			}
		}
	})

	var shown backend.RunDetail
	decode(t, must(t, factory(t, ws, nil, "show", local[:12], "--json"), 0).stdout, &shown)
	if shown.Run.ID != local {
		t.Errorf("the short id resolves to %s", shown.Run.ID)
	}
}

// rename gives the bundle's run the id id and its spans the trace trace.
func rename(b *backend.RunBundle, id, trace string) {
	b.Detail.Run.ID = id
	for i := range b.Spans {
		b.Spans[i].TraceID = trace
	}
}

// negative matches a negative duration as Go prints one.
var negative = regexp.MustCompile(`-[0-9][0-9.]*(h|ms|m|s)`)

// readBundle reads a bundle file.
func readBundle(t *testing.T, file string) *backend.RunBundle {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := bundle.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeBundle writes b to a new bundle file and returns its name.
func writeBundle(t *testing.T, b *backend.RunBundle) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "bundle.tgz")
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := bundle.Write(out, b, time.Now()); err != nil {
		t.Fatal(err)
	}
	return name
}
