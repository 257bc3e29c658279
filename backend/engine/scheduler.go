package engine

import (
	"context"
	"fmt"
	"time"

	"factorydesk/backend"
)

// runUpdateEvery is how often at most a run's totals are recorded while its
// steps complete; the run's end is always recorded.
const runUpdateEvery = 250 * time.Millisecond

// stepState is what the scheduler knows of one step.
type stepState struct {
	status   string
	err      string
	attempts int
	byWhen   bool   // skipped because its `when` did not match the scope
	blocked  string // the failed step that keeps this one (and its dependents) from running
	started  bool
	startAt  time.Time      // when it was started
	files    []backend.File // what the step wrote, as read after it succeeded
}

// stepResult is what a step worker reports when it ends.
type stepResult struct {
	index     int
	status    string
	err       string
	attempts  int
	files     []backend.File
	tokensIn  int
	tokensOut int
	calls     int
}

// scheduler executes one run. Its execute loop owns the step states; step
// workers only report results.
type scheduler struct {
	e      *Engine
	opts   RunOptions
	g      *graph
	run    *backend.Run
	outDir string
	rec    *recorder  // writes the records behind the steps
	x      *runExtras // spans and reuse of recorded work (reuse.go)

	states    []stepState
	pending   []int // needs not yet terminal, per step
	ready     readyQueue
	done      int
	canceling bool
	updated   time.Time // when the run's totals were last recorded

	validation // secrets, budget, gates, reviews and resume (validation.go)
}

func newScheduler(e *Engine, opts RunOptions, g *graph, run *backend.Run, outDir string) *scheduler {
	s := &scheduler{e: e, opts: opts, g: g, run: run, outDir: outDir}
	s.setupValidation()
	return s
}

// execute runs the steps, then the checks, and records the run's end.
func (s *scheduler) execute(ctx context.Context) (*backend.Run, error) {
	s.rec = newRecorder(ctx, s.store)
	defer s.e.redactors.Delete(s.run.ID)
	n := len(s.g.steps)
	s.states = make([]stepState, n)
	s.pending = make([]int, n)
	for i, st := range s.g.steps {
		s.states[i].status = backend.StatusPending
		s.pending[i] = len(s.g.needs[i])
		if s.kept(i) {
			continue // a resumed run keeps its record
		}
		s.saveStep(&backend.StepRun{RunID: s.run.ID, StepID: st.ID, Role: st.Role,
			Model: s.stepModelName(st), Status: backend.StatusPending, Needs: st.Needs, Sections: s.sections(st)})
	}
	// The roots first, then settled: settling one may settle its
	// dependents (a step skipped, or kept by a resume), which must not be
	// settled twice.
	var roots []int
	for i := range s.g.steps {
		if s.pending[i] == 0 {
			roots = append(roots, i)
		}
	}
	for _, i := range roots {
		s.settle(i)
	}
	s.loop(ctx)
	return s.finish(ctx)
}

// loop starts ready steps, at most Parallel at once, until every step is
// terminal or ctx is canceled.
func (s *scheduler) loop(ctx context.Context) {
	results := make(chan stepResult)
	running := 0
	for s.done < len(s.states) {
		for running < s.opts.Parallel && s.ready.Len() > 0 && ctx.Err() == nil {
			i := s.ready.pop()
			s.states[i].started, s.states[i].startAt = true, s.e.cfg.Now()
			s.states[i].status = backend.StatusRunning
			running++
			up := s.upstream(i)
			go func() { results <- s.runStep(ctx, i, up) }()
		}
		if running == 0 {
			if ctx.Err() != nil {
				s.cancelRest(results, 0)
			}
			return
		}
		select {
		case r := <-results:
			running--
			s.complete(r)
		case <-ctx.Done():
			s.cancelRest(results, running)
			return
		}
	}
}

// cancelRest marks every step that has not started canceled, waits a short
// while for the running ones, then records those still running canceled.
func (s *scheduler) cancelRest(results <-chan stepResult, running int) {
	s.canceling = true
	for i := range s.states {
		if !s.states[i].started && !backend.Terminal(s.states[i].status) {
			s.end(i, backend.StatusCanceled, "canceled before it started")
		}
	}
	grace := time.NewTimer(cancelGrace)
	defer grace.Stop()
	for running > 0 {
		select {
		case r := <-results:
			running--
			s.complete(r)
		case <-grace.C:
			for i := range s.states {
				if s.states[i].status == backend.StatusRunning {
					s.end(i, backend.StatusCanceled, "canceled")
				}
			}
			// Late workers record themselves canceled; nobody reads results.
			go func() {
				for ; running > 0; running-- {
					<-results
				}
			}()
			return
		}
	}
}

// complete takes a worker's result into the run.
func (s *scheduler) complete(r stepResult) {
	st := &s.states[r.index]
	st.attempts = r.attempts
	st.files = r.files
	s.runMu.Lock()
	s.run.TokensIn += r.tokensIn
	s.run.TokensOut += r.tokensOut
	s.run.Calls += r.calls
	s.runMu.Unlock()
	s.mark(r.index, r.status, r.err)
	if now := s.e.cfg.Now(); now.Sub(s.updated) >= runUpdateEvery {
		s.updated = now
		s.saveRun()
	}
}

// settle decides a step whose needs are all terminal: skipped after a failed
// dependency, skipped by its `when`, or ready to run.
func (s *scheduler) settle(i int) {
	if s.keepDone(i) {
		return
	}
	for _, j := range s.g.needs[i] {
		if b := s.states[j].blocked; b != "" {
			s.states[i].blocked = b
			s.end(i, backend.StatusSkipped, fmt.Sprintf("dependency %s failed", b))
			return
		}
	}
	if !s.opts.Blueprint.Enabled(s.g.steps[i]) {
		s.states[i].byWhen = true
		s.end(i, backend.StatusSkipped, "skipped: its when does not match the blueprint's scope")
		return
	}
	s.ready.push(i)
}

// end records a step's terminal state decided by the scheduler itself.
func (s *scheduler) end(i int, status, msg string) {
	st := s.g.steps[i]
	s.saveStep(&backend.StepRun{RunID: s.run.ID, StepID: st.ID, Role: st.Role, Model: s.stepModelName(st),
		Status: status, Error: msg, Attempts: s.states[i].attempts, Needs: st.Needs,
		Sections: s.sections(st), StartedAt: s.states[i].startAt, EndedAt: s.e.cfg.Now()})
	s.e.emit(Event{Kind: KindStep, RunID: s.run.ID, StepID: st.ID, Status: status, Message: msg})
	s.mark(i, status, msg)
}

// mark sets a step's terminal status and settles the dependents it unblocks.
func (s *scheduler) mark(i int, status, msg string) {
	st := &s.states[i]
	if backend.Terminal(st.status) {
		return
	}
	st.status, st.err = status, msg
	s.done++
	if status == backend.StatusAwaitingReview {
		return // its dependents wait for the review
	}
	if (status == backend.StatusFailed || status == backend.StatusCanceled) && st.blocked == "" {
		st.blocked = s.g.steps[i].ID
	}
	if s.canceling {
		return // every step not yet decided is canceled
	}
	for _, d := range s.g.dependents[i] {
		if s.pending[d]--; s.pending[d] == 0 && !backend.Terminal(s.states[d].status) {
			s.settle(d)
		}
	}
}

// finish runs the checks when every step succeeded (or was skipped by its
// `when`), sets the run's final status and records it.
func (s *scheduler) finish(ctx context.Context) (*backend.Run, error) {
	status, msg := backend.StatusSucceeded, ""
	switch {
	case ctx.Err() != nil:
		status, msg = backend.StatusCanceled, "canceled"
	default:
		for i := range s.states {
			st := &s.states[i]
			if st.status == backend.StatusSucceeded || st.byWhen || st.status == backend.StatusAwaitingReview ||
				st.status == backend.StatusPending {
				continue
			}
			status, msg = backend.StatusFailed, s.stepFailure(i)
			break
		}
		if reason := s.budget.reason(); reason != "" {
			status, msg = backend.StatusFailed, reason
		}
		if status == backend.StatusSucceeded {
			status, msg = s.awaitingReview()
		}
		if status == backend.StatusSucceeded {
			status, msg = s.runChecks(ctx)
		}
	}
	recErr := s.rec.close()
	if recErr != nil {
		recErr = backend.WrapError(backend.ErrorCode(recErr), recErr, "run %s: recording failed", s.run.ID)
		if status != backend.StatusCanceled {
			status, msg = backend.StatusFailed, recErr.Error()
		}
	}
	s.run.Status, s.run.Error, s.run.EndedAt = status, s.redact(msg), s.e.cfg.Now()
	if status == backend.StatusAwaitingReview {
		s.run.EndedAt = time.Time{}
	}
	err := s.store.UpdateRun(context.WithoutCancel(ctx), s.run)
	s.e.emit(Event{Kind: KindRun, RunID: s.run.ID, Status: status, Message: msg,
		TokensIn: s.run.TokensIn, TokensOut: s.run.TokensOut, Duration: s.run.EndedAt.Sub(s.run.StartedAt)})
	if err == nil {
		err = recErr
	}
	return s.run, err
}

// stepFailure says why step i keeps the run from succeeding.
func (s *scheduler) stepFailure(i int) string {
	st := &s.states[i]
	id := s.g.steps[i].ID
	switch {
	case st.status == backend.StatusFailed && st.attempts > 0:
		return fmt.Sprintf("step %s failed after %d %s: %s", id, st.attempts, plural(st.attempts, "attempt"), st.err)
	case st.status == backend.StatusFailed:
		return fmt.Sprintf("step %s failed: %s", id, st.err)
	}
	return fmt.Sprintf("step %s %s: %s", id, st.status, st.err)
}

// saveStep queues a step's state for the store.
func (s *scheduler) saveStep(sr *backend.StepRun) {
	rec := *sr
	s.rec.save("step "+rec.StepID, func(ctx context.Context, st backend.Store) error { return st.SaveStep(ctx, &rec) })
}

// saveAttempt queues an attempt's state for the store.
func (s *scheduler) saveAttempt(a *backend.Attempt) {
	rec := *a
	key := fmt.Sprintf("attempt %s %d", rec.StepID, rec.N)
	s.rec.save(key, func(ctx context.Context, st backend.Store) error { return st.SaveAttempt(ctx, &rec) })
}

// upstream returns the files written by step i's transitive upstream steps,
// in blueprint order; a path written by several is given once, as the last
// of them wrote it.
func (s *scheduler) upstream(i int) []backend.File {
	var files []backend.File
	at := make(map[string]int)
	s.g.ancestors[i].each(func(j int) {
		for _, f := range s.states[j].files {
			if k, ok := at[f.Path]; ok {
				files[k] = f
				continue
			}
			at[f.Path] = len(files)
			files = append(files, f)
		}
	})
	return files
}

// stepModelName is the model reference a step runs with, as recorded.
func (s *scheduler) stepModelName(st *backend.Step) string {
	return s.opts.Blueprint.StepModel(st, s.opts.Roles[st.Role], s.opts.Model)
}

// sections returns the ids of the sections a step uses.
func (s *scheduler) sections(st *backend.Step) []string {
	var ids []string
	for _, name := range st.Uses {
		if sec, ok := s.opts.Blueprint.Section(name); ok {
			ids = append(ids, sec.ID)
		}
	}
	return ids
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
