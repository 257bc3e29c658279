package app

import (
	"context"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/engine"
)

// Resume continues a run that was interrupted (its process died), failed,
// was canceled or waits for a review, in the background as StartRun does
// for a new run: progress arrives as events, its steps wait for their
// reviews in the UI, and CancelRun stops it. It returns the run at once.
//
// Steps that succeeded (or whose review was approved) are kept when their
// files on disk are unchanged; the others run again. The run uses the
// blueprint version it ran, as recorded in the database, not the file on
// disk, and the model it ran with.
//
// An unknown run is not found; a run going on in this App, or running in
// another live process, is a conflict, as is a run that already succeeded.
func (a *App) Resume(runID string) (*backend.Run, error) {
	d, err := a.cfg.Store.Run(a.ctx, runID)
	if err != nil {
		return nil, err
	}
	id := d.Run.ID
	ctx, cancel := context.WithCancel(a.ctx)
	a.mu.Lock()
	_, live := a.runs[id]
	if !live {
		a.runs[id] = cancel // reserved: a second Resume of it is refused
	}
	a.mu.Unlock()
	if live {
		cancel()
		if d.Run.Status == backend.StatusAwaitingReview {
			return nil, backend.Errorf(backend.ECONFLICT, "run %s waits for a review in this window: approve or reject its step and it goes on by itself", id)
		}
		return nil, backend.Errorf(backend.ECONFLICT, "run %s is already going on in this window; wait for it or cancel it first", id)
	}
	release := func() {
		cancel()
		a.mu.Lock()
		delete(a.runs, id)
		a.mu.Unlock()
	}
	// The engine's claim refuses a run that succeeded or that a live
	// process holds; that error is answered here, as it happens before the
	// run starts.
	bp, roles, err := a.runBlueprint(&d.Run)
	if err != nil {
		release()
		return nil, err
	}
	s := a.currentSettings()
	parallel := d.Run.Parallel
	if parallel <= 0 {
		parallel = s.Parallel
	}
	model := ""
	if d.Run.Model != bp.Model {
		model = d.Run.Model // the --model it was started with
	}
	opts := engine.RunOptions{
		RunID:      id,
		Blueprint:  bp,
		Roles:      roles,
		Workspace:  a.cfg.Root,
		Model:      model,
		Parallel:   parallel,
		WaitReview: true, // as StartRun: a step waits for its review in the UI
	}

	return a.launch(ctx, id, s, bp, release, func(ctx context.Context, eng *engine.Engine) error {
		_, err := eng.Resume(ctx, opts)
		return err
	})
}

// runBlueprint parses the blueprint version run ran, from the store, with
// the workspace's roles.
func (a *App) runBlueprint(run *backend.Run) (*backend.Blueprint, map[string]*backend.Role, error) {
	lib, err := blueprint.Load(a.cfg.Root)
	if err != nil {
		return nil, nil, err
	}
	text, err := a.cfg.Store.BlueprintVersion(a.ctx, run.BlueprintVersion)
	if err != nil {
		return nil, nil, err
	}
	bp, diags := blueprint.Parse(run.BlueprintPath, text, lib.Roles)
	if bp == nil || len(diags) > 0 {
		return nil, nil, backend.Errorf(backend.EINVALID, "the blueprint version run %s ran no longer parses with the workspace's roles:\n%s", run.ID, diags.Error())
	}
	return bp, lib.Roles, nil
}
