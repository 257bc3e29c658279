package save

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// DraftsDir is where the journal keeps drafts, relative to the workspace.
const DraftsDir = ".factory/drafts"

// Journal keeps the unsaved text of blueprint and role files, one file per
// path under .factory/drafts/, each written atomically and fsync'd before
// Draft returns, so a crash loses nothing that Draft accepted.
type Journal struct {
	root string
	now  func() time.Time
	mu   sync.Mutex
}

// NewJournal returns the journal of the workspace at root.
func NewJournal(root string, now func() time.Time) *Journal {
	if now == nil {
		now = time.Now
	}
	return &Journal{root: root, now: now}
}

// Draft is one unsaved buffer.
type Draft struct {
	Path     string    `json:"path"`
	Text     string    `json:"text"`
	Hash     string    `json:"hash"`      // sha256 of Text
	DiskHash string    `json:"disk_hash"` // sha256 of the file on disk when the draft was written ("" when absent)
	SavedAt  time.Time `json:"saved_at"`
}

// Listed is a draft that differs from its file, with what it changes.
type Listed struct {
	Draft
	Current string `json:"current_hash"` // sha256 of the file on disk now ("" when absent)
	// Newer is true when the draft was written after the file last changed
	// (or the file is gone): unsaved work to offer back. A draft older than
	// its file (changed on disk since) is listed too, with Newer false.
	Newer bool   `json:"newer"`
	Diff  string `json:"diff"` // unified diff from the file on disk to the draft
}

// name returns the journal file of a path.
func name(p string) string { return Hash([]byte(p))[:32] + ".json" }

// open opens the drafts folder, creating it.
func (j *Journal) open() (*os.Root, error) {
	dir := filepath.Join(j.root, filepath.FromSlash(DraftsDir))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "create %s", dir)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "open %s", dir)
	}
	return r, nil
}

// Put stores the unsaved text of rel.
func (j *Journal) Put(rel string, text []byte) (Draft, error) {
	p, err := CleanPath(rel)
	if err != nil {
		return Draft{}, err
	}
	if len(text) > MaxBytes {
		return Draft{}, backend.Errorf(backend.EINVALID, "%s: a draft of %d bytes is over the limit of %d", p, len(text), MaxBytes)
	}
	d := Draft{Path: p, Text: string(text), Hash: Hash(text), SavedAt: j.now().UTC()}
	if disk, ok := j.disk(p); ok {
		d.DiskHash = Hash(disk)
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Draft{}, backend.WrapError(backend.EINTERNAL, err, "encode the draft of %s", p)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	r, err := j.open()
	if err != nil {
		return Draft{}, err
	}
	defer r.Close()
	if err := workspace.WriteAtomic(r, name(p), data); err != nil {
		return Draft{}, backend.WrapError(backend.EINTERNAL, err, "journal the draft of %s", p)
	}
	return d, nil
}

// Discard forgets the draft of rel (after a save, or when the operator
// throws it away). A path with no draft is fine.
func (j *Journal) Discard(rel string) error {
	p, err := CleanPath(rel)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	r, err := j.open()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Remove(name(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return backend.WrapError(backend.EINTERNAL, err, "discard the draft of %s", p)
	}
	return nil
}

// List returns the drafts that differ from their file, each with its diff
// and whether it is newer than the file, by path. A draft equal to its file
// is dropped.
func (j *Journal) List() ([]Listed, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r, err := j.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	entries, err := fs.ReadDir(r.FS(), ".")
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "list %s", DraftsDir)
	}
	out := []Listed{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
			continue
		}
		data, err := r.ReadFile(e.Name())
		var d Draft
		if err != nil || json.Unmarshal(data, &d) != nil || name(d.Path) != e.Name() {
			continue // a file the journal did not write
		}
		disk, exists := j.disk(d.Path)
		if exists && string(disk) == d.Text {
			_ = r.Remove(e.Name())
			continue
		}
		l := Listed{Draft: d, Newer: !exists || j.newer(d), Diff: workspace.DiffLabeled(d.Path, disk, []byte(d.Text), "on disk", "draft")}
		if exists {
			l.Current = Hash(disk)
		}
		out = append(out, l)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out, nil
}

// newer reports whether a draft was written after its file last changed.
func (j *Journal) newer(d Draft) bool {
	fi, err := os.Stat(filepath.Join(j.root, filepath.FromSlash(d.Path)))
	return err != nil || !fi.ModTime().After(d.SavedAt)
}

// disk reads the file of a path inside blueprints/.
func (j *Journal) disk(p string) ([]byte, bool) {
	r, err := os.OpenRoot(filepath.Join(j.root, Dir))
	if err != nil {
		return nil, false
	}
	defer r.Close()
	b, ok, err := readFile(r, strings.TrimPrefix(p, Dir+"/"))
	if err != nil {
		return nil, false
	}
	return b, ok
}
