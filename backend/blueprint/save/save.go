// Package save writes blueprint and role files the way the editor needs:
// only inside blueprints/, atomically (a temporary file, fsync, rename),
// and only over the version the writer read (its sha256), answering a
// stale write with the version on disk and a three-way merge instead of
// overwriting it. Its Journal keeps unsaved drafts under .factory/.
package save

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// MaxBytes is the largest blueprint or role file saved or journaled.
const MaxBytes = 4 << 20

// Dir is the folder, relative to the workspace, that saves write into.
const Dir = "blueprints"

// Labels of a stale save's three-way merge, in its conflict markers.
const (
	LabelDisk  = "on disk"
	LabelBase  = "base"
	LabelDraft = "draft"
)

// Versions keeps file texts by their sha256, so that a stale save can be
// merged with the version it started from. *sqlite.DB is one.
type Versions interface {
	PutBlob(ctx context.Context, data []byte) (string, error)
	Blob(ctx context.Context, hash string) ([]byte, error)
}

// Saver saves the blueprint and role files of one workspace.
type Saver struct {
	root     string
	versions Versions // may be nil: a stale save then comes without a merge
	mu       sync.Mutex
}

// NewSaver returns a Saver for the workspace at root.
func NewSaver(root string, versions Versions) *Saver {
	return &Saver{root: root, versions: versions}
}

// Result is the outcome of a save or a delete.
type Result struct {
	Saved    bool      `json:"saved"`
	Path     string    `json:"path"`
	Hash     string    `json:"hash"` // sha256 of the file on disk now ("" when there is none)
	Conflict *Conflict `json:"conflict,omitempty"`
}

// Conflict is the answer to a stale save: the file on disk changed since
// the version the draft started from.
type Conflict struct {
	Disk       string `json:"disk"`        // the file on disk ("" when it is gone)
	DiskHash   string `json:"disk_hash"`   // its sha256 ("" when it is gone)
	DiskExists bool   `json:"disk_exists"` // false when the file was deleted
	BaseKnown  bool   `json:"base_known"`  // the draft's base version is known, so Merged is set
	Merged     string `json:"merged"`      // three-way merge of base, disk and draft
	Clean      bool   `json:"clean"`       // Merged has no conflict markers
	Conflicts  int    `json:"conflicts"`   // how many conflicting hunks Merged marks
}

// Hash returns the sha256 hex of b, a file's version.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CleanPath checks that rel is a Markdown file inside blueprints/ and
// returns it cleaned, with forward slashes.
func CleanPath(rel string) (string, error) {
	p := filepath.ToSlash(strings.TrimSpace(rel))
	switch {
	case p == "" || path.IsAbs(p) || filepath.IsAbs(rel) || strings.Contains(p, `\`) || len(p) > 1 && p[1] == ':':
		return "", backend.Errorf(backend.EINVALID, "%q: give a path inside %s/, relative to the workspace", rel, Dir)
	case strings.Contains("/"+p+"/", "/../"):
		return "", backend.Errorf(backend.EINVALID, "%q: leaves its folder: remove the .. parts", rel)
	}
	p = path.Clean(p)
	if !strings.HasPrefix(p, Dir+"/") || !strings.HasSuffix(p, ".md") {
		return "", backend.Errorf(backend.EINVALID, "%q: only Markdown files inside %s/ are written", rel, Dir)
	}
	return p, nil
}

// Remember keeps a version's text so that a later stale save based on it
// can be merged.
func (s *Saver) Remember(ctx context.Context, text []byte) {
	if s.versions != nil && len(text) <= MaxBytes {
		_, _ = s.versions.PutBlob(ctx, text)
	}
}

// Save writes text to rel when the file on disk is still the version
// baseHash ("" for a new file). Otherwise nothing is written and the result
// carries the conflict.
func (s *Saver) Save(ctx context.Context, rel string, text []byte, baseHash string) (Result, error) {
	if len(text) > MaxBytes {
		return Result{}, backend.Errorf(backend.EINVALID, "%s: %d bytes is over the limit of %d", rel, len(text), MaxBytes)
	}
	return s.write(ctx, rel, text, baseHash, false)
}

// Delete removes rel when the file on disk is still the version baseHash.
func (s *Saver) Delete(ctx context.Context, rel, baseHash string) (Result, error) {
	if baseHash == "" {
		return Result{}, backend.Errorf(backend.EINVALID, "delete %s: give the hash of the version you mean to delete", rel)
	}
	return s.write(ctx, rel, nil, baseHash, true)
}

// write saves or deletes under the lock, after the hash check.
func (s *Saver) write(ctx context.Context, rel string, text []byte, baseHash string, remove bool) (Result, error) {
	p, err := CleanPath(rel)
	if err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.openRoot()
	if err != nil {
		return Result{}, err
	}
	defer r.Close()
	inner := strings.TrimPrefix(p, Dir+"/")
	disk, exists, err := readFile(r, inner)
	if err != nil {
		return Result{}, err
	}
	res := Result{Path: p}
	if exists {
		res.Hash = Hash(disk)
	}
	if res.Hash != baseHash {
		res.Conflict = s.conflict(ctx, disk, exists, text, baseHash, remove)
		return res, nil
	}
	if remove {
		if err := r.Remove(inner); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Result{}, backend.WrapError(backend.EINTERNAL, err, "delete %s", p)
		}
		res.Saved, res.Hash = true, ""
		return res, nil
	}
	if err := workspace.WriteAtomic(r, inner, text); err != nil {
		return Result{}, backend.WrapError(backend.EINTERNAL, err, "save %s", p)
	}
	s.Remember(ctx, text)
	res.Saved, res.Hash = true, Hash(text)
	return res, nil
}

// openRoot opens blueprints/ of the workspace, creating it when missing;
// no path under it can lead outside (symlinks included).
func (s *Saver) openRoot() (*os.Root, error) {
	dir := filepath.Join(s.root, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "create %s", dir)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "open %s", dir)
	}
	return r, nil
}

// readFile reads a regular file under r; a missing one is not an error.
func readFile(r *os.Root, rel string) ([]byte, bool, error) {
	fi, err := r.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, backend.WrapError(backend.EINVALID, err, "%s/%s", Dir, rel)
	case !fi.Mode().IsRegular():
		return nil, false, backend.Errorf(backend.EINVALID, "%s/%s is not a regular file", Dir, rel)
	case fi.Size() > MaxBytes:
		return nil, false, backend.Errorf(backend.EINVALID, "%s/%s: %d bytes is over the limit of %d", Dir, rel, fi.Size(), MaxBytes)
	}
	b, err := r.ReadFile(rel)
	if err != nil {
		return nil, false, backend.WrapError(backend.EINTERNAL, err, "read %s/%s", Dir, rel)
	}
	return b, true, nil
}

// conflict builds the answer to a stale save: the disk version and, when
// the base is known, the three-way merge of base, disk and draft.
func (s *Saver) conflict(ctx context.Context, disk []byte, exists bool, draft []byte, baseHash string, remove bool) *Conflict {
	c := &Conflict{Disk: string(disk), DiskExists: exists}
	if exists {
		c.DiskHash = Hash(disk)
	}
	if remove || s.versions == nil || baseHash == "" {
		return c
	}
	base, err := s.versions.Blob(ctx, baseHash)
	if err != nil || Hash(base) != baseHash {
		return c
	}
	m, err := workspace.Merge3Labeled(ctx, base, disk, draft, [3]string{LabelDisk, LabelBase, LabelDraft})
	if err != nil {
		return c
	}
	c.BaseKnown, c.Merged, c.Clean, c.Conflicts = true, string(m.Content), m.Clean, m.Conflicts
	return c
}
