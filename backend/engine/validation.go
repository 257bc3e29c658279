package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"factorydesk/backend"
	"factorydesk/backend/trace"
	"factorydesk/backend/validate"
)

// validation is the part of a scheduler that keeps a run validation-first:
// secrets redacted from everything recorded, the budget, how gates run and
// are recorded, reviews, and what a resumed run keeps.
type validation struct {
	store    backend.Store       // the run's store, redacting its secrets
	redact   func(string) string // secret values -> ${NAME}
	redactor *trace.Redactor     // the same, for streams
	secrets  map[string]string   // secret values by name
	log      *slog.Logger        // redacting
	budget   *budget
	prior    map[int]priorStep // a resumed run's steps, by index

	runMu   sync.Mutex // guards the run record and waiting
	waiting int        // steps waiting for a review in this process

	seqMu sync.Mutex
	seqs  map[string]int // last gate seq by step and attempt
}

// setupValidation prepares the run's validation from its blueprint.
func (s *scheduler) setupValidation() {
	bp, e := s.opts.Blueprint, s.e
	s.store = e.store(bp)
	s.secrets = SecretValues(bp, e.cfg.Getenv)
	s.redactor = trace.NewRedactor(s.secrets)
	s.redact = s.redactor.Redact
	s.log = e.logger(bp).With("run", s.run.ID)
	s.budget = newBudget(bp.Budget, e.cfg.Now, s.run)
	s.seqs = map[string]int{}
	if len(s.secrets) > 0 {
		e.redactors.Store(s.run.ID, s.redact)
	}
	if err := e.cfg.Sandbox.Available(); err != nil && bp.Sandbox != backend.SandboxOff && bp.Sandbox != backend.SandboxRequired && hasGates(bp) {
		s.log.Warn("gates run without a sandbox: " + err.Error())
	}
}

// hasGates reports whether bp has any gate command.
func hasGates(bp *backend.Blueprint) bool {
	for _, st := range bp.Steps {
		if len(st.Validate) > 0 {
			return true
		}
	}
	return len(bp.Checks) > 0
}

// gateOptions are how the run's gate commands run: the blueprint's timeout
// (or the run's), sandbox mode and variables (never a secret), a private
// Go build cache, output redacted.
func (s *scheduler) gateOptions() validate.Options {
	bp := s.opts.Blueprint
	timeout := s.opts.GateTimeout
	if timeout <= 0 {
		timeout = bp.GateTimeout
	}
	var env []string
	for _, name := range bp.Env {
		if _, secret := s.secrets[name]; secret || has(bp.Secrets, name) {
			continue
		}
		if v, ok := os.LookupEnv(name); ok || s.e.cfg.Getenv(name) != "" {
			if !ok {
				v = s.e.cfg.Getenv(name)
			}
			env = append(env, name+"="+v)
		}
	}
	cache := s.e.cfg.GateCache
	if cache == "" {
		cache = filepath.Join(s.opts.Workspace, ".factory", "cache", "go-build")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		cache = ""
	}
	return validate.Options{Timeout: timeout, Env: env, Mode: bp.Sandbox, Sandbox: s.e.cfg.Sandbox,
		CacheDir: cache, Redact: s.redact}
}

// recordGate queues a gate's outcome for the store, numbered in its attempt.
func (s *scheduler) recordGate(stepID string, attempt int, g backend.GateResult) {
	s.seqMu.Lock()
	key := fmt.Sprintf("%s\x00%d", stepID, attempt)
	s.seqs[key]++
	seq := s.seqs[key]
	s.seqMu.Unlock()
	g.Output = s.redact(g.Output)
	rec := &backend.GateRecord{RunID: s.run.ID, StepID: stepID, Attempt: attempt, Seq: seq, GateResult: g,
		CreatedAt: s.e.cfg.Now()}
	s.rec.do(func(ctx context.Context, st backend.Store) error { return st.RecordGate(ctx, rec) })
}

// saveRun queues the run's state; it is awaiting_review while a step of
// this process waits for one.
func (s *scheduler) saveRun() {
	s.runMu.Lock()
	run := *s.run
	if s.waiting > 0 && run.Status == backend.StatusRunning {
		run.Status = backend.StatusAwaitingReview
	}
	s.runMu.Unlock()
	s.rec.save("run", func(ctx context.Context, st backend.Store) error { return st.UpdateRun(ctx, &run) })
}

// setWaiting counts a step starting (+1) or ending (-1) its wait for a
// review, and records the run's state.
func (s *scheduler) setWaiting(d int) {
	s.runMu.Lock()
	s.waiting += d
	s.runMu.Unlock()
	s.saveRun()
}

// kept reports whether a resumed run keeps step i's record as it is.
func (s *scheduler) kept(i int) bool {
	p, ok := s.prior[i]
	return ok && (p.done || p.awaiting)
}

// keepDone marks step i succeeded when a resumed run keeps it, and reports
// whether it did.
func (s *scheduler) keepDone(i int) bool {
	p, ok := s.prior[i]
	if !ok || !p.done {
		return false
	}
	s.states[i].files, s.states[i].attempts = p.files, p.attempts
	s.e.emit(Event{Kind: KindStep, RunID: s.run.ID, StepID: s.g.steps[i].ID, Status: backend.StatusSucceeded,
		Message: "kept from before the interruption"})
	s.mark(i, backend.StatusSucceeded, "")
	return true
}

// awaitingReview returns the run's status when no step failed: awaiting
// review while a step waits for one, else succeeded.
func (s *scheduler) awaitingReview() (status, msg string) {
	for i := range s.states {
		if s.states[i].status == backend.StatusAwaitingReview {
			id := s.g.steps[i].ID
			return backend.StatusAwaitingReview, fmt.Sprintf("step %s waits for a review: factory review %s %s --approve (or --reject \"why\"), then factory resume %s",
				id, s.run.ID, id, s.run.ID)
		}
	}
	return backend.StatusSucceeded, ""
}

// builtinGates runs the built-in gates on what an attempt wrote: scope
// (enforced as the files were written) and secrets.
func (r *stepRun) builtinGates(res *backend.AttemptResult) []backend.GateResult {
	if res.Err != nil || len(res.Files) == 0 {
		return nil
	}
	scope := backend.GateResult{Name: CheckScope, Passed: true,
		Output: fmt.Sprintf("%d file(s) inside the output folder and the step's writes globs", len(res.Files))}
	secrets, _ := r.scanWritten(res)
	return []backend.GateResult{scope, secrets}
}

// attempts runs the step's attempts until one passes its gates (and its
// review, when required), retries run out, the budget is spent, or a
// failure no retry can help happens. A rejected review's comment is the
// next attempt's feedback; that attempt does not use up a retry.
func (r *stepRun) attempts(ctx context.Context, req backend.AttemptRequest) (status, msg string) {
	s := r.s
	p := s.prior[r.res.index]
	made, feedback := p.attempts, p.feedback
	r.baseIn, r.baseOut = p.tokensIn, p.tokensOut
	r.res.attempts, r.rec.Attempts = made, made
	if p.awaiting {
		status, msg, feedback = r.decide(ctx, made)
		if status != "" {
			return status, msg
		}
	}
	for tries := 0; tries <= max(r.step.Retries, 0); tries++ {
		if ctx.Err() != nil {
			return backend.StatusCanceled, "canceled"
		}
		if reason := s.budget.checkStart(r.step.ID, made+1); reason != "" {
			return backend.StatusFailed, reason
		}
		made++
		req.Attempt, req.Feedback, req.Lessons = made, feedback, r.lessons(ctx)
		actx, stop := s.budget.attemptContext(ctx, r.step.ID, made)
		out := r.attempt(actx, req)
		stop()
		if reason := s.budget.check(r.step.ID, made); reason != "" && ctx.Err() == nil {
			return backend.StatusFailed, reason
		}
		switch {
		case out.canceled:
			return backend.StatusCanceled, "canceled"
		case out.ok && r.step.Review != "required":
			return backend.StatusSucceeded, ""
		case out.ok:
			if status, msg, feedback = r.decide(ctx, made); status != "" {
				return status, msg
			}
			tries-- // a rejection is not a failed try
			continue
		case out.conflict:
			if status, msg, feedback = r.decide(ctx, made); status != "" {
				if status == backend.StatusAwaitingReview {
					msg = out.err + "; resolve it on disk, then approve (keep the files as they are) or reject (regenerate)"
				}
				return status, msg
			}
			tries--
			continue
		case out.fatal:
			return backend.StatusFailed, out.err
		}
		if err := s.rec.firstErr(); err != nil {
			return backend.StatusFailed, "recording failed: " + err.Error()
		}
		feedback = out.err
	}
	return backend.StatusFailed, feedback
}

// decide waits for the review of attempt n and returns the step's status
// when the review ends it (approved: succeeded; pending: awaiting_review;
// canceled), or "" and the feedback of the next attempt (rejected).
func (r *stepRun) decide(ctx context.Context, n int) (status, msg, feedback string) {
	rv, err := r.review(ctx, n)
	switch {
	case ctx.Err() != nil:
		return backend.StatusCanceled, "canceled", ""
	case err != nil:
		return backend.StatusFailed, "review: " + err.Error(), ""
	case rv.Status == backend.ReviewApproved:
		return backend.StatusSucceeded, "", ""
	case rv.Status == backend.ReviewPending:
		return backend.StatusAwaitingReview, "waits for a review", ""
	}
	r.rec.Status = backend.StatusRunning
	r.s.saveStep(r.rec)
	return "", "", reviewFeedback(rv)
}
