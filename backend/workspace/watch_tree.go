package workspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// addTree adds watches on dir and every folder below it that is not
// ignored. With collect, it returns the files found (relative paths), so the
// caller checks files created in a new folder before its watch existed.
func (w *Watcher) addTree(dir string, collect bool) []string {
	var files []string
	_ = filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished meanwhile; its removal is an event of its own
		}
		rel := w.rel(name)
		if rel != "" && Ignored(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			w.addWatch(name)
			return nil
		}
		if collect && rel != "" {
			files = append(files, rel)
		}
		return nil
	})
	return files
}

// addWatch watches one folder; on failure it falls back to periodic scans.
func (w *Watcher) addWatch(dir string) {
	if w.fallback || w.watched[dir] {
		return
	}
	if w.cfg.MaxWatches > 0 && len(w.watched) >= w.cfg.MaxWatches {
		w.enterFallback(fmt.Sprintf("more than %d folders to watch", w.cfg.MaxWatches))
		return
	}
	err := w.fsw.Add(dir)
	switch {
	case err == nil:
		w.watched[dir] = true
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		// removed before its watch was added: nothing to watch
	case errors.Is(err, syscall.ENOSPC):
		w.enterFallback(fmt.Sprintf("the system's limit of watched folders is reached after %d folders (on Linux, raise fs.inotify.max_user_watches)", len(w.watched)))
	case errors.Is(err, syscall.EMFILE):
		w.enterFallback(fmt.Sprintf("too many open files after watching %d folders", len(w.watched)))
	default:
		w.enterFallback(fmt.Sprintf("cannot watch %s: %v", dir, err))
	}
}

// enterFallback switches to periodic scans of the generated files and the
// blueprints, with one warning.
func (w *Watcher) enterFallback(reason string) {
	if w.fallback {
		return
	}
	w.fallback = true
	w.ticker = time.NewTicker(w.cfg.ScanInterval)
	w.warn("", fmt.Sprintf("cannot watch every folder of the workspace (%s): "+
		"generated files and blueprints are checked every %s instead, so edits are still found, a little later",
		reason, w.cfg.ScanInterval))
}

// stopTicker stops the fallback scan's ticker, if any.
func (w *Watcher) stopTicker() {
	if w.ticker != nil {
		w.ticker.Stop()
	}
}

// dropWatches forgets name and every watched folder below it, and reports
// whether name was a watched folder.
func (w *Watcher) dropWatches(name string) bool {
	was := w.watched[name]
	prefix := name + string(filepath.Separator)
	for dir := range w.watched {
		if dir == name || strings.HasPrefix(dir, prefix) {
			delete(w.watched, dir)
			if w.fsw != nil {
				_ = w.fsw.Remove(dir) // may already be gone with its folder
			}
		}
	}
	return was
}

// poll is the fallback scan: every generated file and blueprint whose size
// or modification time changed since the last poll is checked.
func (w *Watcher) poll(ctx context.Context) {
	entries, err := w.cfg.Manifest.Bases(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.warn("", "cannot read the manifest of generated files: "+err.Error())
		}
		return
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		if !watchedEntry(e) || !w.statChanged(e.Path) {
			continue
		}
		if err := w.checkDrift(ctx, e); err != nil {
			w.warn(e.Path, err.Error())
		}
	}
	seen := make(map[string]bool)
	for _, rel := range w.blueprintFiles() {
		seen[rel] = true
		if w.statChanged(rel) {
			w.checkBlueprint(rel)
		}
	}
	for rel := range w.blueprints {
		if !seen[rel] {
			w.checkBlueprint(rel)
		}
	}
}

// watchedEntry reports whether the watcher checks a manifest entry for
// drift: not in an ignored place, and not a blueprint (blueprints are
// reported as blueprint events).
func watchedEntry(e ManifestEntry) bool {
	return !Ignored(e.Path) && !IsBlueprint(e.Path)
}

// statChanged records the size and modification time of rel and reports
// whether they differ from the last record.
func (w *Watcher) statChanged(rel string) bool {
	var st fileStat
	if fi, err := os.Stat(w.abs(rel)); err == nil {
		st = fileStat{exists: true, size: fi.Size(), mod: fi.ModTime()}
	}
	old, known := w.stats[rel]
	w.stats[rel] = st
	return !known || old != st
}

// blueprintFiles lists the blueprint and role files of the workspace.
func (w *Watcher) blueprintFiles() []string {
	var files []string
	_ = filepath.WalkDir(w.abs(BlueprintsDir), func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel := w.rel(name)
		if d.IsDir() && Ignored(rel) {
			return filepath.SkipDir
		}
		if !d.IsDir() && IsBlueprint(rel) {
			files = append(files, rel)
		}
		return nil
	})
	return files
}
