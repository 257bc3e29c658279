package engine

import (
	"context"
	"os"
	"path/filepath"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// manifestStore is a Store that also keeps the manifest of generated files
// (the SQLite store does). With one, every file a step writes becomes the
// base of its path, and a step regenerating a hand-edited file merges three
// ways instead of overwriting it.
type manifestStore interface {
	backend.Generated
	RecordBase(ctx context.Context, e workspace.ManifestEntry) error
}

// generated returns the store as the agent's source of last generated
// content, or nil when the store keeps no manifest.
func (s *scheduler) generated() backend.Generated {
	if m, ok := s.e.cfg.Store.(manifestStore); ok {
		return m
	}
	return nil
}

// recordBases makes every file an attempt wrote the base of its workspace
// path. It writes at once, not through the recorder's queue: the next
// attempt, or the next step, must see the new bases before it writes.
func (r *stepRun) recordBases(attempt int, files []backend.WrittenFile) {
	s := r.s
	m, ok := s.e.cfg.Store.(manifestStore)
	if !ok || len(files) == 0 {
		return
	}
	ctx := s.rec.ctx
	for _, f := range files {
		if err := r.recordBase(ctx, m, attempt, f); err != nil {
			s.rec.fail(err)
		}
	}
}

// recordBase stores one written file's content and records it as the base.
// Its size and mtime are kept only when the file did not change while it
// was read, so a later scan may trust them.
func (r *stepRun) recordBase(ctx context.Context, m manifestStore, attempt int, f backend.WrittenFile) error {
	s := r.s
	name := filepath.Join(s.outDir, filepath.FromSlash(f.Path))
	before, err := os.Stat(name)
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "step %s: read the written file %s", r.step.ID, f.Path)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "step %s: read the written file %s", r.step.ID, f.Path)
	}
	hash, err := s.e.cfg.Store.PutBlob(ctx, data)
	if err != nil {
		return err
	}
	if f.SHA256 != "" && hash != f.SHA256 {
		return backend.Errorf(backend.ECONFLICT, "%s changed on disk while step %s wrote it", f.Path, r.step.ID)
	}
	e := workspace.ManifestEntry{
		Path: workspace.WorkspacePath(s.opts.Blueprint.Output, f.Path), SHA256: hash,
		RunID: s.run.ID, StepID: r.step.ID, Attempt: attempt, UpdatedAt: s.e.cfg.Now(), Size: -1,
	}
	if f.Parents != [2]string{} {
		e.Parents = f.Parents[:]
	}
	if after, err := os.Stat(name); err == nil && after.Size() == before.Size() &&
		after.ModTime().Equal(before.ModTime()) && after.Size() == int64(len(data)) {
		e.Size, e.ModTime = after.Size(), after.ModTime()
	}
	return m.RecordBase(ctx, e)
}

// conflictOutcome is the outcome of an attempt whose answer conflicts with a
// hand edit: no retry can resolve it, the operator must. The step waits for
// a review: approving keeps the files on disk as they are (the operator's
// resolution), rejecting regenerates with the comment as feedback.
func conflictOutcome(err error) (attemptOutcome, bool) {
	ce, ok := workspace.AsConflict(err)
	if !ok {
		return attemptOutcome{}, false
	}
	return attemptOutcome{conflict: true, err: ce.Error()}, true
}
