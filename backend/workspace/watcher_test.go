package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

const genGo = "package orders\n\nfunc Total() int {\n\treturn 0\n}\n"

func TestWatcherReportsHandEdits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(t *testing.T, root string)
		deleted bool
		current string // content on disk after the change
	}{
		{
			name: "edit",
			change: func(t *testing.T, root string) {
				putFile(t, root, "out/orders.go", strings.Replace(genGo, "0", "42", 1))
			},
			current: strings.Replace(genGo, "0", "42", 1),
		},
		{
			name: "delete",
			change: func(t *testing.T, root string) {
				if err := os.Remove(filepath.Join(root, "out", "orders.go")); err != nil {
					t.Fatal(err)
				}
			},
			deleted: true,
		},
		{
			name: "rename",
			change: func(t *testing.T, root string) {
				dir := filepath.Join(root, "out")
				if err := os.Rename(filepath.Join(dir, "orders.go"), filepath.Join(dir, "orders_old.go")); err != nil {
					t.Fatal(err)
				}
			},
			deleted: true,
		},
		{
			name: "editor save through a temp file",
			change: func(t *testing.T, root string) {
				putFile(t, root, "out/.orders.go.swp", "package orders // saved\n")
				dir := filepath.Join(root, "out")
				if err := os.Rename(filepath.Join(dir, ".orders.go.swp"), filepath.Join(dir, "orders.go")); err != nil {
					t.Fatal(err)
				}
			},
			current: "package orders // saved\n",
		},
		{
			name: "folder renamed away",
			change: func(t *testing.T, root string) {
				if err := os.Rename(filepath.Join(root, "out"), filepath.Join(root, "gone")); err != nil {
					t.Fatal(err)
				}
			},
			deleted: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, map[string]string{"out/orders.go": genGo}, nil)
			tt.change(t, h.root)
			e, before := h.waitKind(EventDrift, "out/orders.go")
			if e.Drift == nil {
				t.Fatal("drift event without a drift")
			}
			d := e.Drift
			if d.Deleted != tt.deleted || d.BaseSHA256 != HashBytes([]byte(genGo)) {
				t.Errorf("drift = %+v, want deleted=%v from the generated base", d, tt.deleted)
			}
			if !tt.deleted && d.CurrentSHA256 != HashBytes([]byte(tt.current)) {
				t.Errorf("current sha = %s, want the content on disk", d.CurrentSHA256)
			}
			if !strings.Contains(d.Diff, "--- a/out/orders.go (generated)") || !strings.Contains(d.Diff, "-func Total() int {") && tt.deleted {
				t.Errorf("diff does not show the change:\n%s", d.Diff)
			}
			for _, o := range before {
				if o.Kind == EventWarning {
					t.Errorf("unexpected warning: %+v", o)
				}
			}
		})
	}
}

func TestWatcherNewNestedFolder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	// A step generated out/api/v1/deep/handler.go; the folder is created by
	// hand later, with a file in it, faster than a watch can be added.
	h.m.set("out/api/v1/deep/handler.go", []byte("generated\n"))
	putFile(t, h.root, "out/api/v1/deep/handler.go", "hand made\n")
	e, _ := h.waitKind(EventDrift, "out/api/v1/deep/handler.go")
	if e.Drift.CurrentSHA256 != HashBytes([]byte("hand made\n")) {
		t.Fatalf("drift = %+v", e.Drift)
	}
	// The new folder is watched now: a second edit is seen too.
	putFile(t, h.root, "out/api/v1/deep/handler.go", "hand made again\n")
	e, _ = h.waitKind(EventDrift, "out/api/v1/deep/handler.go")
	if e.Drift.CurrentSHA256 != HashBytes([]byte("hand made again\n")) {
		t.Fatalf("second drift = %+v", e.Drift)
	}
	// A blueprint in a new nested folder is found as well.
	putFile(t, h.root, "blueprints/roles/team/reviewer.md", "---\nrole: reviewer\n---\n")
	if e, _ := h.waitKind(EventBlueprint, "blueprints/roles/team/reviewer.md"); e.Message != "created" {
		t.Fatalf("blueprint event = %+v", e)
	}
}

func TestWatcherBurstIsOneEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"out/orders.go": genGo}, nil)
	name := filepath.Join(h.root, "out", "orders.go")
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	edited := []byte(strings.ToUpper(genGo)) // same length: every write leaves the same content
	for range 1000 {
		if _, err := f.WriteAt(edited, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	events := about(h.sync(), "out/orders.go")
	if len(events) != 1 || events[0].Kind != EventDrift || events[0].Drift.CurrentSHA256 != HashBytes(edited) {
		t.Fatalf("events for a burst of 1000 writes = %+v, want one drift", events)
	}
}

func TestWatcherDriftOncePerContent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"out/orders.go": genGo}, nil)
	putFile(t, h.root, "out/orders.go", "edited\n")
	h.waitKind(EventDrift, "out/orders.go")
	putFile(t, h.root, "out/orders.go", "edited\n") // same content again
	if events := about(h.sync(), "out/orders.go"); len(events) != 0 {
		t.Fatalf("rewriting the same content reported %+v", events)
	}
	putFile(t, h.root, "out/orders.go", genGo) // back to the generated content
	e, _ := h.waitFor(func(e Event) bool { return e.Path == "out/orders.go" })
	if e.Kind != EventDriftCleared || e.Drift != nil {
		t.Fatalf("event after restoring the base = %+v, want %s", e, EventDriftCleared)
	}
}

func TestWatcherFactoryWrites(t *testing.T) {
	t.Parallel()
	t.Run("expected write", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string]string{"out/orders.go": genGo}, nil)
		next := []byte("package orders // regenerated\n")
		h.w.Expect("out/orders.go", HashBytes(next))
		written, err := WriteFiles(filepath.Join(h.root, "out"),
			[]backend.File{{Path: "orders.go", Content: next}}, []string{"**/*.go"}, backend.WriteLimits{})
		if err != nil || len(written) != 1 {
			t.Fatalf("WriteFiles = %v, %v", written, err)
		}
		events := h.sync()
		if len(events) != 0 {
			t.Fatalf("the factory's own write was reported: %+v", events)
		}
		h.m.set("out/orders.go", next) // the manifest catches up
		putFile(t, h.root, "out/orders.go", "hand edit after regeneration\n")
		e, _ := h.waitKind(EventDrift, "out/orders.go")
		if e.Drift.BaseSHA256 != HashBytes(next) {
			t.Fatalf("drift base = %s, want the regenerated content", e.Drift.BaseSHA256)
		}
	})
	t.Run("manifest updated first", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string]string{"out/orders.go": genGo}, nil)
		h.m.set("out/orders.go", []byte("v2\n"))
		putFile(t, h.root, "out/orders.go", "v2\n")
		if events := h.sync(); len(events) != 0 {
			t.Fatalf("a write matching the manifest was reported: %+v", events)
		}
	})
	t.Run("expected blueprint write", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string]string{"blueprints/orders.md": "# Orders\n"}, nil)
		h.w.Expect("blueprints/orders.md", HashBytes([]byte("# Orders (canonical)\n")))
		putFile(t, h.root, "blueprints/orders.md", "# Orders (canonical)\n")
		if events := h.sync(); len(events) != 0 {
			t.Fatalf("the editor's own write was reported: %+v", events)
		}
	})
}

func TestWatcherIgnoredFolders(t *testing.T) {
	t.Parallel()
	ignored := []string{".factory/cache/orders.go", ".git/config", "out/node_modules/pkg/index.js", "out/web/node_modules/x/y.md"}
	files := map[string]string{}
	for _, rel := range ignored {
		files[rel] = "generated\n"
	}
	h := newHarness(t, files, nil)
	for _, rel := range ignored {
		putFile(t, h.root, rel, "edited\n")
	}
	putFile(t, h.root, "blueprints/node_modules/x.md", "# not a blueprint\n")
	putFile(t, h.root, "blueprints/.#orders.md", "emacs lock\n")
	if events := h.sync(); len(events) != 0 {
		t.Fatalf("changes in ignored places were reported: %+v", events)
	}
	if err := h.w.Close(); err != nil {
		t.Fatal(err)
	}
	for dir := range h.w.watched {
		if rel := h.w.rel(dir); Ignored(rel) {
			t.Errorf("ignored folder %s is watched", rel)
		}
	}
}

func TestWatcherBlueprintEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	putFile(t, h.root, "blueprints/orders.md", "---\nblueprint: orders\n---\n")
	putFile(t, h.root, "blueprints/roles/architect.md", "---\nrole: architect\n---\n")
	putFile(t, h.root, "blueprints/notes.txt", "not a blueprint\n")
	h.waitKind(EventBlueprint, "blueprints/orders.md")
	h.waitKind(EventBlueprint, "blueprints/roles/architect.md")

	putFile(t, h.root, "blueprints/orders.md", "---\nblueprint: orders\ntitle: Orders\n---\n")
	if e, _ := h.waitKind(EventBlueprint, "blueprints/orders.md"); e.Message != "changed" {
		t.Errorf("change event = %+v", e)
	}
	if err := os.Remove(filepath.Join(h.root, "blueprints", "roles", "architect.md")); err != nil {
		t.Fatal(err)
	}
	if e, _ := h.waitKind(EventBlueprint, "blueprints/roles/architect.md"); e.Message != "removed" {
		t.Errorf("remove event = %+v", e)
	}
	if events := about(h.sync(), "blueprints/notes.txt"); len(events) != 0 {
		t.Errorf("a non-Markdown file was reported: %+v", events)
	}
}

func TestWatcherReportsDriftFoundAtStart(t *testing.T) {
	t.Parallel()
	root, m := t.TempDir(), newMapManifest()
	generate(t, root, m, "out/orders.go", genGo)
	generate(t, root, m, "out/kept.go", "package orders\n")
	putFile(t, root, "out/orders.go", "edited while nothing watched\n")
	h := &harness{t: t, root: root, m: m}
	generate(t, root, m, sentinelPath, "sentinel\n")
	h.start(WatcherConfig{Root: root, Manifest: m, Debounce: 1})
	e, _ := h.waitKind(EventDrift, "out/orders.go")
	if e.Drift.CurrentSHA256 != HashBytes([]byte("edited while nothing watched\n")) {
		t.Fatalf("drift = %+v", e.Drift)
	}
	if events := about(h.sync(), "out/kept.go"); len(events) != 0 {
		t.Fatalf("an unchanged file was reported: %+v", events)
	}
}

func TestWatcherFallsBackToScanning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"out/api/orders.go": genGo, "blueprints/orders.md": "# Orders\n"},
		func(c *WatcherConfig) { c.MaxWatches = 1; c.ScanInterval = 50 * time.Millisecond })
	putFile(t, h.root, "out/api/orders.go", "edited in an unwatched folder\n")
	_, before := h.waitKind(EventDrift, "out/api/orders.go")
	putFile(t, h.root, "blueprints/orders.md", "# Orders, edited\n")
	_, more := h.waitKind(EventBlueprint, "blueprints/orders.md")
	putFile(t, h.root, "out/new/folder/x.txt", "a new folder\n")
	warnings := 0
	for _, e := range append(append(before, more...), h.sync()...) {
		if e.Kind == EventWarning {
			warnings++
			if !strings.Contains(e.Message, "more than 1 folders") || !strings.Contains(e.Message, "checked every") {
				t.Errorf("warning does not say what happened: %q", e.Message)
			}
		}
	}
	if warnings != 1 {
		t.Fatalf("got %d warnings, want exactly 1", warnings)
	}
}

func TestWatcherLifecycle(t *testing.T) {
	t.Parallel()
	t.Run("bad config", func(t *testing.T) {
		if _, err := NewWatcher(WatcherConfig{Root: t.TempDir()}); backend.ErrorCode(err) != backend.EINVALID {
			t.Fatalf("err = %v, want %s", err, backend.EINVALID)
		}
	})
	t.Run("missing root", func(t *testing.T) {
		w, err := NewWatcher(WatcherConfig{Root: filepath.Join(t.TempDir(), "nope"), Manifest: newMapManifest()})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(t.Context()); backend.ErrorCode(err) != backend.ENOTFOUND {
			t.Fatalf("err = %v, want %s", err, backend.ENOTFOUND)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("start twice, close twice", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		if err := h.w.Start(t.Context()); backend.ErrorCode(err) != backend.ECONFLICT {
			t.Fatalf("second start: err = %v, want %s", err, backend.ECONFLICT)
		}
		for range 2 {
			if err := h.w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := <-h.w.Events(); ok {
			t.Fatal("events still open after Close")
		}
	})
}

func TestWatcherFollowsFolders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"out/a/b/x.go": "x\n", "out/c/y.go": "y\n"}, nil)
	if err := os.RemoveAll(filepath.Join(h.root, "out", "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(h.root, "out", "c"), filepath.Join(h.root, "out", "d")); err != nil {
		t.Fatal(err)
	}
	events := h.sync()
	for _, rel := range []string{"out/a/b/x.go", "out/c/y.go"} {
		if got := about(events, rel); len(got) != 1 || !got[0].Drift.Deleted {
			t.Errorf("events for %s = %+v, want one deleted drift", rel, got)
		}
	}
	if err := h.w.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"out": true, "out/d": true, "blueprints": false, "out/a": false, "out/a/b": false, "out/c": false}
	for rel, watched := range want {
		if got := h.w.watched[h.w.abs(rel)]; got != watched {
			t.Errorf("%s watched = %v, want %v", rel, got, watched)
		}
	}
}
