package workspace

import (
	"context"
	"os"
)

// checkPath checks one debounced path: a folder that appeared gets its
// watches, a folder that went away has the files below it checked, a
// blueprint is compared with its last content, a generated file with its base.
func (w *Watcher) checkPath(ctx context.Context, rel string) {
	if w.goneDirs[rel] {
		delete(w.goneDirs, rel)
		w.checkUnder(ctx, rel)
	}
	name := w.abs(rel)
	if fi, err := os.Lstat(name); err == nil && fi.IsDir() {
		if w.watched[name] || w.fallback {
			return // its watch and its files were taken care of on creation
		}
		for _, f := range w.addTree(name, true) {
			w.checkPath(ctx, f)
		}
		return
	}
	if IsBlueprint(rel) {
		w.checkBlueprint(rel)
		return
	}
	e, ok, err := w.cfg.Manifest.Base(ctx, rel)
	switch {
	case err != nil && ctx.Err() == nil:
		w.warn(rel, "cannot read the manifest entry: "+err.Error())
	case ok:
		if err := w.checkDrift(ctx, e); err != nil && ctx.Err() == nil {
			w.warn(rel, err.Error())
		}
	}
}

// checkUnder checks every generated file and blueprint below the folder rel,
// which was removed or renamed away.
func (w *Watcher) checkUnder(ctx context.Context, dir string) {
	entries, err := w.cfg.Manifest.Bases(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.warn(dir, "cannot read the manifest of generated files: "+err.Error())
		}
		return
	}
	for _, e := range entries {
		if under(e.Path, dir) && watchedEntry(e) {
			if err := w.checkDrift(ctx, e); err != nil && ctx.Err() == nil {
				w.warn(e.Path, err.Error())
			}
		}
	}
	for rel := range w.blueprints {
		if under(rel, dir) {
			w.checkBlueprint(rel)
		}
	}
}

// checkDrift compares a generated file with its base and reports a drift
// once per distinct content, and its end when the file is back to the base
// or the factory itself wrote it.
func (w *Watcher) checkDrift(ctx context.Context, e ManifestEntry) error {
	name, err := localPath(w.root, e.Path)
	if err != nil {
		return err
	}
	sum, err := hashFile(name)
	if err != nil {
		return err
	}
	return w.checkDriftSum(ctx, e, sum)
}

// checkDriftSum is checkDrift for a file whose content hashes to sum.
func (w *Watcher) checkDriftSum(ctx context.Context, e ManifestEntry, sum string) error {
	name, err := localPath(w.root, e.Path)
	if err != nil {
		return err
	}
	last, drifted := w.drifted[e.Path]
	switch {
	case sum == e.SHA256:
		w.settle(e.Path, sum)
		fallthrough
	case sum != "" && w.expects(e.Path, sum):
		if drifted {
			delete(w.drifted, e.Path)
			w.emit(Event{Kind: EventDriftCleared, Path: e.Path, Message: "the file is back to its generated content"})
		}
		return nil
	case drifted && last == sum:
		return nil // already reported
	}
	d, err := newDrift(ctx, name, w.cfg.Manifest, e, sum, w.cfg.Now())
	if err != nil {
		return err
	}
	w.drifted[e.Path] = sum
	w.emit(Event{Kind: EventDrift, Path: e.Path, Drift: &d, Message: driftMessage(d)})
	return nil
}

// driftMessage says what happened to a drifted file.
func driftMessage(d Drift) string {
	if d.Deleted {
		return "the generated file was deleted outside the factory"
	}
	return "the generated file was edited outside the factory"
}

// checkBlueprint reports a blueprint or role file created, changed or
// removed since its last check; the factory's own writes are not reported.
func (w *Watcher) checkBlueprint(rel string) {
	sum, err := hashFile(w.abs(rel))
	if err != nil {
		w.warn(rel, err.Error())
		return
	}
	last, known := w.blueprints[rel]
	switch {
	case sum == "" && !known, sum == last:
		return
	case sum == "":
		delete(w.blueprints, rel)
		w.emit(Event{Kind: EventBlueprint, Path: rel, Message: "removed"})
		return
	}
	w.blueprints[rel] = sum
	if w.expects(rel, sum) {
		w.settle(rel, sum)
		return
	}
	msg := "changed"
	if !known {
		msg = "created"
	}
	w.emit(Event{Kind: EventBlueprint, Path: rel, Message: msg, Hash: sum})
}
