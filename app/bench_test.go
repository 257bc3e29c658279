package app_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// haveBrowser reports why the browser benchmarks cannot run, or "".
func haveBrowser(tb testing.TB) string {
	chromium := os.Getenv("FACTORY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	fe := frontendDir(tb)
	for _, p := range []string{chromium, filepath.Join(fe, "node_modules", "playwright-core"), filepath.Join(fe, "dist", "index.html")} {
		if _, err := os.Stat(p); err != nil {
			return p + " is missing (make apt-test frontend)"
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not on PATH"
	}
	return ""
}

// BenchmarkBrowser times the app in chromium against factory serve over a
// workspace with a 30k-span run of 300 steps (600 attempts, 1,200 calls)
// and a run of 1,000 steps, and reports the figures of e2e/bench.mjs.
func BenchmarkBrowser(b *testing.B) {
	if why := haveBrowser(b); why != "" {
		b.Skip("browser benchmarks need chromium, node and the frontend: " + why)
	}
	bin := buildFactory(b, "")
	ws := newWorkspace(b, bin)
	big := bigRun{ID: strings.Repeat("b", 32), Layers: 30, Width: 10, Attempts: 2, Calls: 2, Spans: 30_000}
	wide := bigRun{ID: strings.Repeat("c", 32), Layers: 50, Width: 20, Attempts: 1, Calls: 1, Spans: 4_000}
	seedRun(b, ws, big)
	seedRun(b, ws, wide)
	u, pid := serve(b, bin, ws, nil)
	b.ResetTimer()
	var figures map[string]float64
	for i := 0; i < b.N; i++ {
		out := runNode(b, nil, "bench.mjs", u, big.ID, wide.ID)
		for _, line := range strings.Split(out, "\n") {
			if data, ok := strings.CutPrefix(line, "BENCH "); ok {
				if err := json.Unmarshal([]byte(data), &figures); err != nil {
					b.Fatalf("bench.mjs printed %q: %v", data, err)
				}
			}
		}
	}
	b.StopTimer()
	if figures == nil {
		b.Fatal("bench.mjs printed no figures")
	}
	for _, m := range []struct{ key, unit string }{
		{"open_ms", "ms/open-30k-span-run"},
		{"cold_open_ms", "ms/cold-load-30k-span-run"},
		{"panel_ms", "ms/open-step-panel"},
		{"timeline_ms", "ms/open-timeline"},
		{"graph_ms", "ms/draw-1000-nodes"},
		{"layout_ms", "ms/layout-1000-nodes"},
		{"heap_mb", "MB-js-heap-1000-nodes"},
		{"big_heap_mb", "MB-js-heap-30k-span-run"},
	} {
		b.ReportMetric(figures[m.key], m.unit)
	}
	b.ReportMetric(float64(rss(pid))/(1<<20), "MB-serve-rss")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDesktopColdStart starts the desktop window under Xvfb a few times
// and reports the time from the process start to the first screenshot with
// the runs view drawn, and the window's memory then.
func BenchmarkDesktopColdStart(b *testing.B) {
	for _, tool := range []string{"Xvfb", "xwd"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skip("the desktop benchmark needs Xvfb and xwd (make apt-test)")
		}
	}
	if err := exec.Command("pkg-config", "--exists", "webkit2gtk-4.1").Run(); err != nil {
		b.Skip("the desktop benchmark needs libwebkit2gtk-4.1-dev (make apt-desktop)")
	}
	bin := buildFactory(b, desktopTags)
	ws := newWorkspace(b, buildFactory(b, ""))
	display := startXvfb(b)
	b.ResetTimer()
	var paints []time.Duration
	var mem int64
	for i := 0; i < b.N; i++ {
		for try := 0; try < 3; try++ {
			s, closeWindow := startDesktop(b, bin, display, ws, 90*time.Second)
			paints = append(paints, s.FirstPaint)
			mem = max(mem, s.RSS)
			closeWindow()
		}
	}
	b.StopTimer()
	first := paints[0]
	slices.Sort(paints)
	b.ReportMetric(float64(paints[len(paints)/2].Milliseconds()), "ms/first-paint")
	b.ReportMetric(float64(first.Milliseconds()), "ms/first-paint-first-try")
	b.ReportMetric(float64(mem)/(1<<20), "MB-rss")
	b.ReportMetric(0, "ns/op")
}
