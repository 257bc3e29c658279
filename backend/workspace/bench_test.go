package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// benchTree generates a workspace of dirs×subdirs×files files in nested
// folders, all in the manifest.
func benchTree(b *testing.B, dirs, subdirs, files int) (string, *mapManifest) {
	b.Helper()
	root, m := b.TempDir(), newMapManifest()
	for d := range dirs {
		for s := range subdirs {
			for f := range files {
				rel := fmt.Sprintf("out/pkg%02d/sub%02d/file%02d.go", d, s, f)
				generate(b, root, m, rel, fmt.Sprintf("package sub%02d\n\n// file %d\n", s, f))
			}
		}
	}
	return root, m
}

// startBench starts a watcher on root and fails the benchmark on error.
func startBench(b *testing.B, root string, m Manifest) *Watcher {
	b.Helper()
	w, err := NewWatcher(WatcherConfig{Root: root, Manifest: m})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkWorkspace measures the drift scan and the watcher on a workspace
// of 50,000 generated files in 1,000 folders.
func BenchmarkWorkspace(b *testing.B) {
	root, m := benchTree(b, 50, 20, 50)
	const nFiles = 50 * 20 * 50

	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			drifts, err := Scan(context.Background(), root, m, nil)
			if err != nil || len(drifts) != 0 {
				b.Fatalf("Scan = %d drifts, %v", len(drifts), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scan")
		b.ReportMetric(nFiles, "files")
	})

	b.Run("scan-stat-first", func(b *testing.B) { // the manifest keeps each file's size and mtime
		withStat := statManifest(b, root, m)
		for b.Loop() {
			drifts, err := Scan(context.Background(), root, withStat, nil)
			if err != nil || len(drifts) != 0 {
				b.Fatalf("Scan = %d drifts, %v", len(drifts), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scan")
	})

	b.Run("start", func(b *testing.B) { // adding the watches; Start also runs a scan of the manifest
		watches := 0
		for b.Loop() {
			w := startBench(b, root, newMapManifest())
			b.StopTimer()
			watches = len(w.watched)
			w.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/start-watches")
		b.ReportMetric(float64(watches), "watches")
	})

	b.Run("edit-to-event", func(b *testing.B) {
		w := startBench(b, root, m)
		defer w.Close()
		rel := "out/pkg25/sub10/file25.go"
		var total time.Duration
		i := 0
		for b.Loop() {
			i++
			content := fmt.Sprintf("package sub10 // edit %d\n", i)
			start := time.Now()
			putFile(b, root, rel, content)
			for e := range w.Events() {
				if e.Kind == EventDrift && e.Drift.CurrentSHA256 == HashBytes([]byte(content)) {
					break
				}
			}
			total += time.Since(start)
		}
		b.StopTimer()
		generate(b, root, m, rel, fmt.Sprintf("package sub10\n\n// file %d\n", 25))
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/edit")
		b.ReportMetric(float64(DefaultDebounce.Milliseconds()), "debounce-ms")
	})

	b.Run("memory", func(b *testing.B) {
		var before, after runtime.MemStats
		var delta uint64
		for b.Loop() {
			runtime.GC()
			runtime.ReadMemStats(&before)
			w := startBench(b, root, m)
			runtime.GC()
			runtime.ReadMemStats(&after)
			delta = after.HeapInuse - min(before.HeapInuse, after.HeapInuse)
			w.Close()
		}
		b.ReportMetric(float64(delta)/(1<<20), "heap-MiB")
	})
}

// statManifest returns a copy of m whose entries carry the size and mtime of
// their files, as the factory records them after writing.
func statManifest(b *testing.B, root string, m *mapManifest) *mapManifest {
	b.Helper()
	out := newMapManifest()
	m.mu.Lock()
	defer m.mu.Unlock()
	for rel, e := range m.entries {
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			b.Fatal(err)
		}
		e.Size, e.ModTime = fi.Size(), fi.ModTime()
		out.entries[rel] = e
	}
	for k, v := range m.contents {
		out.contents[k] = v
	}
	return out
}
