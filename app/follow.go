package app

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/engine"
)

// followedRuns is how many of the newest runs the follower compares on each
// change of the database.
const followedRuns = 100

// followGap is the shortest time between two reads of the database by the
// follower: a burst of commits is read once, and a run writing without
// pause costs at most a read per gap.
const followGap = 40 * time.Millisecond

// runSnap is what the follower last saw of a run another process records.
type runSnap struct {
	status   string
	steps    map[string]string // status by step
	attempts map[string]string // status by step and attempt
	calls    map[int64]bool
	gates    map[string]bool // by step, attempt and seq
}

// follower turns what other processes (a factory run in a terminal, another
// factory serve) record in the workspace database into the events the UI
// consumes for the runs this process runs, so every run shows live whoever
// started it. One goroutine owns its state.
type follower struct {
	store backend.Store
	self  int // runs of this process are reported by its engine
	emit  func(Event)
	runs  map[string]*runSnap
}

// startFollower follows the workspace database for the App's lifetime. A
// database that cannot be watched is logged and warned about; the App
// works on, showing its own runs live.
func (a *App) startFollower() {
	if a.cfg.Store == nil {
		return
	}
	w, err := a.cfg.Store.WatchChanges(a.cfg.FollowPoll)
	if err != nil {
		a.cfg.Logger.Warn("runs of other processes are not followed", "err", err)
		return
	}
	f := &follower{store: a.cfg.Store, self: os.Getpid(), emit: a.emit, runs: map[string]*runSnap{}}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer w.Close()
		if err := f.sync(a.ctx, true); err != nil && a.ctx.Err() == nil {
			a.cfg.Logger.Warn("cannot read the runs to follow", "err", err)
		}
		for {
			select {
			case <-a.ctx.Done():
				return
			case <-w.C():
			}
			if err := f.sync(a.ctx, false); err != nil && a.ctx.Err() == nil {
				a.cfg.Logger.Warn("cannot follow the runs of other processes", "err", err)
			}
			select { // at most one read per gap
			case <-a.ctx.Done():
				return
			case <-time.After(followGap):
			}
		}
	}()
}

// sync compares the newest runs with what it saw last and emits the
// differences of the runs other processes hold. The first sync (quiet)
// only takes note.
func (f *follower) sync(ctx context.Context, quiet bool) error {
	runs, err := f.store.Runs(ctx, backend.RunFilter{Limit: followedRuns})
	if err != nil {
		return err
	}
	for i := len(runs) - 1; i >= 0; i-- { // oldest first
		r := runs[i]
		if r.PID == f.self {
			delete(f.runs, r.ID)
			continue
		}
		snap, known := f.runs[r.ID]
		if known && snap.status == r.Status && backend.Terminal(r.Status) {
			continue
		}
		if !known {
			snap = &runSnap{steps: map[string]string{}, attempts: map[string]string{}, calls: map[int64]bool{}, gates: map[string]bool{}}
			f.runs[r.ID] = snap
			if quiet && backend.Terminal(r.Status) {
				snap.status = r.Status
				continue
			}
		}
		d, err := f.store.Run(ctx, r.ID)
		if err != nil {
			if backend.ErrorCode(err) == backend.ENOTFOUND {
				delete(f.runs, r.ID)
				continue
			}
			return err
		}
		events := snap.diff(d)
		if !quiet {
			for _, e := range events {
				f.emit(e)
			}
		}
	}
	return nil
}

// diff updates the snapshot to d and returns the events that tell the
// change, in the order the engine would have sent them: the run when it
// (re)starts, then attempts, calls, gates and steps, the run when it ends.
func (s *runSnap) diff(d *backend.RunDetail) []Event {
	var out []Event
	r := d.Run
	run := Event{Kind: engine.KindRun, RunID: r.ID, Status: r.Status, Message: r.Error, Time: r.StartedAt}
	changed := s.status != r.Status
	if changed && !backend.Terminal(r.Status) {
		out = append(out, run)
	}
	for _, a := range d.Attempts {
		key := fmt.Sprintf("%s\x00%d", a.StepID, a.N)
		if s.attempts[key] == a.Status {
			continue
		}
		if s.attempts[key] == "" && a.Status != backend.StatusRunning {
			out = append(out, Event{Kind: engine.KindAttempt, RunID: r.ID, StepID: a.StepID, Attempt: a.N,
				Status: backend.StatusRunning, Time: a.StartedAt})
		}
		s.attempts[key] = a.Status
		e := Event{Kind: engine.KindAttempt, RunID: r.ID, StepID: a.StepID, Attempt: a.N, Status: a.Status,
			Message: a.Error, Time: a.StartedAt}
		if !a.EndedAt.IsZero() {
			e.Time, e.Duration = a.EndedAt, a.EndedAt.Sub(a.StartedAt)
		}
		out = append(out, e)
	}
	for _, c := range d.Calls {
		if s.calls[c.ID] {
			continue
		}
		s.calls[c.ID] = true
		out = append(out, Event{Kind: engine.KindCall, RunID: r.ID, StepID: c.StepID, Attempt: c.Attempt,
			TokensIn: c.TokensIn, TokensOut: c.TokensOut, Duration: c.Duration, Time: c.StartedAt.Add(c.Duration),
			Message: c.Error})
	}
	out = append(out, s.gateEvents(d)...)
	out = append(out, s.stepEvents(d)...)
	if changed && backend.Terminal(r.Status) {
		if !r.EndedAt.IsZero() {
			run.Time = r.EndedAt
		}
		out = append(out, run)
	}
	s.status = r.Status
	return out
}

// gateEvents returns the events of the gates not seen yet.
func (s *runSnap) gateEvents(d *backend.RunDetail) []Event {
	var out []Event
	for _, g := range d.Gates {
		key := fmt.Sprintf("%s\x00%d\x00%d", g.StepID, g.Attempt, g.Seq)
		if s.gates[key] {
			continue
		}
		s.gates[key] = true
		status, msg := backend.StatusSucceeded, g.Name
		if !g.Passed {
			status, msg = backend.StatusFailed, g.Name+"\n"+g.Output
		}
		out = append(out, Event{Kind: engine.KindGate, RunID: d.Run.ID, StepID: g.StepID, Attempt: g.Attempt,
			Status: status, Message: msg, Duration: g.Duration, Time: g.CreatedAt})
	}
	return out
}

// stepEvents returns the events of the steps whose status changed, in the
// order they started.
func (s *runSnap) stepEvents(d *backend.RunDetail) []Event {
	steps := append([]backend.StepRun(nil), d.Steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].StartedAt.Before(steps[j].StartedAt) })
	var out []Event
	for _, st := range steps {
		if s.steps[st.StepID] == st.Status {
			continue
		}
		s.steps[st.StepID] = st.Status
		e := Event{Kind: engine.KindStep, RunID: d.Run.ID, StepID: st.StepID, Status: st.Status, Message: st.Error,
			TokensIn: st.TokensIn, TokensOut: st.TokensOut, Time: st.StartedAt}
		if !st.EndedAt.IsZero() {
			e.Time = st.EndedAt
		}
		out = append(out, e)
	}
	return out
}
