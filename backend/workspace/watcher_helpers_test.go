package workspace

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// eventDeadline is how long a test waits for an event before failing: long
// enough never to fail a correct watcher on a slow machine.
const eventDeadline = 10 * time.Second

// sentinelPath is a generated file each harness has; editing it and waiting
// for its drift proves every earlier change has been looked at.
const sentinelPath = "out/sentinel.txt"

// harness is a workspace with a manifest and a started watcher.
type harness struct {
	t    *testing.T
	root string
	m    *mapManifest
	w    *Watcher
	n    int
}

// newHarness generates files into a new workspace and starts a watcher on
// it; opt, if not nil, adjusts the configuration.
func newHarness(t *testing.T, files map[string]string, opt func(*WatcherConfig)) *harness {
	t.Helper()
	h := &harness{t: t, root: t.TempDir(), m: newMapManifest()}
	generate(t, h.root, h.m, sentinelPath, "sentinel\n")
	for rel, content := range files {
		generate(t, h.root, h.m, rel, content)
	}
	cfg := WatcherConfig{Root: h.root, Manifest: h.m, Debounce: 30 * time.Millisecond}
	if opt != nil {
		opt(&cfg)
	}
	h.start(cfg)
	return h
}

// start starts a watcher with cfg and closes it when the test ends.
func (h *harness) start(cfg WatcherConfig) {
	h.t.Helper()
	w, err := NewWatcher(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.w = w
	h.t.Cleanup(func() {
		if err := w.Close(); err != nil {
			h.t.Error(err)
		}
	})
}

// next returns the next event, failing the test after eventDeadline.
func (h *harness) next() Event {
	h.t.Helper()
	select {
	case e, ok := <-h.w.Events():
		if !ok {
			h.t.Fatal("events closed")
		}
		return e
	case <-time.After(eventDeadline):
		h.t.Fatalf("no event within %s", eventDeadline)
	}
	return Event{}
}

// waitFor returns the first event matching ok and the events before it.
func (h *harness) waitFor(ok func(Event) bool) (Event, []Event) {
	h.t.Helper()
	var before []Event
	for {
		e := h.next()
		if ok(e) {
			return e, before
		}
		before = append(before, e)
	}
}

// waitKind waits for an event of kind about rel.
func (h *harness) waitKind(kind, rel string) (Event, []Event) {
	h.t.Helper()
	return h.waitFor(func(e Event) bool { return e.Kind == kind && e.Path == rel })
}

// sync edits the sentinel and returns every event up to its drift: all the
// changes made before the call have then been checked.
func (h *harness) sync() []Event {
	h.t.Helper()
	h.n++
	putFile(h.t, h.root, sentinelPath, fmt.Sprintf("sentinel edit %d\n", h.n))
	_, before := h.waitFor(func(e Event) bool {
		return e.Kind == EventDrift && e.Path == sentinelPath && e.Drift != nil &&
			e.Drift.CurrentSHA256 == HashBytes(fmt.Appendf(nil, "sentinel edit %d\n", h.n))
	})
	return slices.DeleteFunc(before, func(e Event) bool { return e.Path == sentinelPath })
}

// about returns the events about rel.
func about(events []Event, rel string) []Event {
	return slices.DeleteFunc(slices.Clone(events), func(e Event) bool { return e.Path != rel })
}
