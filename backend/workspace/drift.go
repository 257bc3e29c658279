package workspace

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"factorydesk/backend"
)

// How a drift is resolved.
const (
	DriftAccepted    = "accepted"    // the hand edit became the new base
	DriftReverted    = "reverted"    // the generated content was restored
	DriftRegenerated = "regenerated" // a step wrote the path again (merged)
	DriftCleared     = "cleared"     // the file went back to its base by itself
)

// RevertedDir is the folder, relative to the workspace root, where a revert
// keeps the hand-edited version it replaces.
const RevertedDir = ".factory/reverted"

// DriftStore is a Manifest that also keeps drift records and can change
// bases; the SQLite store implements it.
type DriftStore interface {
	Manifest
	PutBlob(ctx context.Context, data []byte) (string, error)
	RecordBase(ctx context.Context, e ManifestEntry) error
	DeleteBase(ctx context.Context, path string) error
	SaveDrift(ctx context.Context, d Drift) error
	Drifts(ctx context.Context) ([]Drift, error)
	ResolveDrift(ctx context.Context, path, how string) error
}

// SyncDrift scans the workspace (see Scan), records every drift found,
// resolves the recorded drifts whose files are back to their base, and
// returns the open drifts, by path.
func SyncDrift(ctx context.Context, root string, s DriftStore, now func() time.Time) ([]Drift, error) {
	found, err := Scan(ctx, root, s, now)
	if err != nil {
		return nil, err
	}
	current := make(map[string]bool, len(found))
	for _, d := range found {
		current[d.Path] = true
		if err := s.SaveDrift(ctx, d); err != nil {
			return nil, err
		}
	}
	open, err := s.Drifts(ctx)
	if err != nil {
		return nil, err
	}
	out := open[:0]
	for _, d := range open {
		if current[d.Path] {
			out = append(out, d)
			continue
		}
		if err := s.ResolveDrift(ctx, d.Path, DriftCleared); err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
			return nil, err
		}
	}
	return out, nil
}

// AcceptDrift makes the content on disk of the generated file rel (relative
// to the workspace root) its new base; a deleted file leaves the manifest.
// It reports false when the file has no drift (nothing to accept).
func AcceptDrift(ctx context.Context, root string, s DriftStore, rel string) (bool, error) {
	e, name, err := generatedEntry(ctx, root, s, rel)
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return true, s.DeleteBase(ctx, e.Path)
	}
	if err != nil {
		return false, backend.WrapError(backend.EINTERNAL, err, "read %s", e.Path)
	}
	if HashBytes(data) == e.SHA256 {
		return false, resolveQuietly(ctx, s, e.Path, DriftCleared)
	}
	sum, err := s.PutBlob(ctx, data)
	if err != nil {
		return false, err
	}
	if err := resolveQuietly(ctx, s, e.Path, DriftAccepted); err != nil {
		return false, err
	}
	ne := ManifestEntry{Path: e.Path, SHA256: sum, Size: -1}
	if fi, err := os.Stat(name); err == nil && fi.Size() == int64(len(data)) {
		ne.Size, ne.ModTime = fi.Size(), fi.ModTime()
	}
	return true, s.RecordBase(ctx, ne)
}

// RevertDrift writes the generated content of rel back (atomically) and
// returns where the hand-edited version it replaced is kept, relative to the
// workspace root ("" when the file was deleted). It reports an ENOTFOUND
// error when the generated content is not kept, and changes nothing when
// the file has no drift (kept is "", reverted false).
func RevertDrift(ctx context.Context, root string, s DriftStore, rel string, now time.Time) (kept string, reverted bool, err error) {
	e, name, err := generatedEntry(ctx, root, s, rel)
	if err != nil {
		return "", false, err
	}
	base, err := s.BaseContent(ctx, e.SHA256)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return "", false, backend.Errorf(backend.ENOTFOUND,
			"the generated content of %s is not kept, so it cannot be restored; accept the drift instead", e.Path)
	}
	if err != nil {
		return "", false, err
	}
	cur, err := os.ReadFile(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", false, backend.WrapError(backend.EINTERNAL, err, "read %s", e.Path)
	case HashBytes(cur) == e.SHA256:
		return "", false, resolveQuietly(ctx, s, e.Path, DriftCleared)
	default:
		kept = path.Join(RevertedDir, now.UTC().Format("20060102T150405.000000000Z"), e.Path)
		if err := writeUnder(root, kept, cur); err != nil {
			return "", false, err
		}
	}
	if err := writeUnder(root, e.Path, base); err != nil {
		return kept, false, err
	}
	if err := resolveQuietly(ctx, s, e.Path, DriftReverted); err != nil {
		return kept, true, err
	}
	if fi, err := os.Stat(name); err == nil && fi.Size() == int64(len(base)) {
		e.Size, e.ModTime = fi.Size(), fi.ModTime()
		return kept, true, s.RecordBase(ctx, e)
	}
	return kept, true, nil
}

// CleanPath turns a path given by the operator (relative to the workspace
// root or to dir, or absolute) into a manifest path.
func CleanPath(root, dir, p string) (string, error) {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(dir, p)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return "", backend.Errorf(backend.EINVALID, "%s is not inside the workspace %s", p, root)
	}
	return filepath.ToSlash(rel), nil
}

// generatedEntry returns the base of rel and its file name, or ENOTFOUND
// when rel was never generated.
func generatedEntry(ctx context.Context, root string, s DriftStore, rel string) (ManifestEntry, string, error) {
	rel = strings.TrimPrefix(path.Clean(filepath.ToSlash(rel)), "./")
	e, ok, err := s.Base(ctx, rel)
	if err != nil {
		return e, "", err
	}
	if !ok {
		return e, "", backend.Errorf(backend.ENOTFOUND, "%s is not a generated file (list the drifted files with: factory drift)", rel)
	}
	name, err := localPath(root, rel)
	return e, name, err
}

// resolveQuietly resolves the open drift of rel, if there is one.
func resolveQuietly(ctx context.Context, s DriftStore, rel, how string) error {
	err := s.ResolveDrift(ctx, rel, how)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return nil
	}
	return err
}

// writeUnder writes data atomically at rel under root, refusing to follow
// a symlink out of it.
func writeUnder(root, rel string, data []byte) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "open the workspace %s", root)
	}
	defer r.Close()
	if err := writeAtomic(r, rel, data); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "write %s", rel)
	}
	return nil
}
