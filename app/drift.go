package app

import (
	"context"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// Event kinds of the workspace watcher.
const (
	EventDrift     = "drift"             // Status edited, deleted or cleared; Name the path
	EventBlueprint = "blueprint.changed" // Status created, changed or removed; Name the path; Hash its new sha256 ("" when removed)
	EventWarning   = "warning"           // the watcher's warnings (a watch limit reached, ...)
)

// Drift scans the workspace and returns its open drifts: generated files
// edited or deleted outside the factory, each with its diff.
func (a *App) Drift() ([]workspace.Drift, error) {
	return workspace.SyncDrift(a.ctx, a.cfg.Root, a.cfg.Store, a.cfg.Now)
}

// AcceptDrift makes the content on disk of the generated file path
// (relative to the workspace root) its new base.
func (a *App) AcceptDrift(path string) error {
	rel, err := workspace.CleanPath(a.cfg.Root, a.cfg.Root, path)
	if err != nil {
		return err
	}
	_, err = workspace.AcceptDrift(a.ctx, a.cfg.Root, a.cfg.Store, rel)
	return err
}

// RevertResult says where a revert kept the version it replaced.
type RevertResult struct {
	Path     string `json:"path"`
	Reverted bool   `json:"reverted"`       // false: the file had no drift
	Kept     string `json:"kept,omitempty"` // the replaced version, relative to the workspace root
}

// RevertDrift restores the generated content of path (relative to the
// workspace root); the version it replaces is kept under .factory/reverted/.
// The UI asks for confirmation before calling it.
func (a *App) RevertDrift(path string) (RevertResult, error) {
	rel, err := workspace.CleanPath(a.cfg.Root, a.cfg.Root, path)
	if err != nil {
		return RevertResult{}, err
	}
	kept, reverted, err := workspace.RevertDrift(a.ctx, a.cfg.Root, a.cfg.Store, rel, a.cfg.Now())
	return RevertResult{Path: rel, Reverted: reverted, Kept: kept}, err
}

// startWatcher watches the workspace for the App's lifetime: drift is
// recorded and, with blueprint changes, emitted as events. A workspace that
// cannot be watched is logged and emitted as a warning; the App works on.
func (a *App) startWatcher() {
	if a.cfg.Store == nil {
		return
	}
	w, err := workspace.NewWatcher(workspace.WatcherConfig{Root: a.cfg.Root, Manifest: a.cfg.Store, Logger: a.cfg.Logger, Now: a.cfg.Now})
	if err != nil {
		a.cfg.Logger.Warn("the workspace is not watched", "err", err)
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer w.Close()
		if err := w.Start(a.ctx); err != nil { // scans every generated file first: not in New
			if a.ctx.Err() == nil {
				a.cfg.Logger.Warn("the workspace is not watched", "err", err)
				a.emit(Event{Kind: EventWarning, Message: "the workspace is not watched: " + err.Error()})
			}
			return
		}
		for e := range w.Events() {
			a.watchEvent(e)
		}
	}()
}

// watchEvent records and emits one watcher event.
func (a *App) watchEvent(e workspace.Event) {
	ctx := context.WithoutCancel(a.ctx)
	switch e.Kind {
	case workspace.EventDrift:
		status := "edited"
		if e.Drift != nil && e.Drift.Deleted {
			status = "deleted"
		}
		if e.Drift != nil {
			if err := a.cfg.Store.SaveDrift(ctx, *e.Drift); err != nil {
				a.cfg.Logger.Error("cannot record a drift", "path", e.Path, "err", err)
			}
		}
		a.emit(Event{Kind: EventDrift, Status: status, Name: e.Path, Message: e.Message})
	case workspace.EventDriftCleared:
		err := a.cfg.Store.ResolveDrift(ctx, e.Path, workspace.DriftCleared)
		if err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
			a.cfg.Logger.Error("cannot resolve a drift", "path", e.Path, "err", err)
		}
		a.emit(Event{Kind: EventDrift, Status: "cleared", Name: e.Path, Message: e.Message})
	case workspace.EventBlueprint:
		if e.Hash != "" {
			a.docs.remember(ctx, e.Path)
		}
		a.emit(Event{Kind: EventBlueprint, Status: e.Message, Name: e.Path, Hash: e.Hash, Message: e.Path + " " + e.Message})
	default:
		a.emit(Event{Kind: EventWarning, Name: e.Path, Message: e.Message})
	}
}
