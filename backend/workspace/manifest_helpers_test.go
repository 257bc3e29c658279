package workspace

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"factorydesk/backend"
)

// mapManifest is a Manifest backed by maps, safe for the watcher's goroutine
// and the test's to use at once.
type mapManifest struct {
	mu       sync.Mutex
	entries  map[string]ManifestEntry
	contents map[string][]byte
}

func newMapManifest() *mapManifest {
	return &mapManifest{entries: map[string]ManifestEntry{}, contents: map[string][]byte{}}
}

// set records content as the base of rel.
func (m *mapManifest) set(rel string, content []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sum := HashBytes(content)
	m.entries[rel] = ManifestEntry{Path: rel, SHA256: sum, RunID: "run1", StepID: "code", Attempt: 1,
		UpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	m.contents[sum] = append([]byte(nil), content...)
}

func (m *mapManifest) Bases(ctx context.Context) ([]ManifestEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ManifestEntry, 0, len(m.entries))
	for _, e := range m.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (m *mapManifest) Base(ctx context.Context, path string) (ManifestEntry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[path]
	return e, ok, nil
}

func (m *mapManifest) BaseContent(ctx context.Context, sum string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.contents[sum]
	if !ok {
		return nil, backend.Errorf(backend.ENOTFOUND, "no content %s", sum)
	}
	return b, nil
}

// putFile writes content at rel under root, creating folders.
func putFile(t testing.TB, root, rel, content string) {
	t.Helper()
	name := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// generate writes content at rel and records it as the file's base, as a
// step would.
func generate(t testing.TB, root string, m *mapManifest, rel, content string) {
	t.Helper()
	putFile(t, root, rel, content)
	m.set(rel, []byte(content))
}
