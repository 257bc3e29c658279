package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"factorydesk/backend"
	"factorydesk/backend/validate"
)

// stepRun is one step's execution in a worker goroutine.
type stepRun struct {
	s        *scheduler
	step     *backend.Step
	rec      *backend.StepRun
	upstream []backend.File
	written  map[string]bool // paths written by any attempt
	res      stepResult
	// baseIn and baseOut are the tokens of a resumed step's earlier
	// attempts: its record counts them, the run already has.
	baseIn, baseOut int
}

// attemptOutcome is how one attempt ended.
type attemptOutcome struct {
	ok       bool
	fatal    bool   // no retry can help (provider down, unknown model, canceled)
	canceled bool   // ctx was canceled
	conflict bool   // the answer conflicts with a hand edit: the operator decides
	err      string // why it failed: the next attempt's feedback
}

// runStep runs step i's attempts and records its final state.
func (s *scheduler) runStep(ctx context.Context, i int, upstream []backend.File) stepResult {
	st := s.g.steps[i]
	r := &stepRun{s: s, step: st, upstream: upstream, written: map[string]bool{}, res: stepResult{index: i}}
	r.rec = &backend.StepRun{RunID: s.run.ID, StepID: st.ID, Role: st.Role, Model: s.stepModelName(st),
		Status: backend.StatusRunning, Needs: st.Needs, Sections: s.sections(st), StartedAt: s.e.cfg.Now()}
	s.saveStep(r.rec)
	s.e.emit(Event{Kind: KindStep, RunID: s.run.ID, StepID: st.ID, Status: backend.StatusRunning, Message: r.rec.Model})

	status, msg := r.executeOrReuse(ctx)
	if status == backend.StatusSucceeded {
		files, err := r.readOutput()
		if err != nil {
			status, msg = backend.StatusFailed, err.Error()
		}
		r.res.files = files
	}
	r.rec.Status, r.rec.Error, r.rec.EndedAt = status, msg, s.e.cfg.Now()
	r.rec.Attempts = r.res.attempts
	r.rec.TokensIn, r.rec.TokensOut = r.baseIn+r.res.tokensIn, r.baseOut+r.res.tokensOut
	s.saveStep(r.rec)
	s.e.emit(Event{Kind: KindStep, RunID: s.run.ID, StepID: st.ID, Status: status, Message: msg,
		TokensIn: r.res.tokensIn, TokensOut: r.res.tokensOut, Duration: r.rec.EndedAt.Sub(r.rec.StartedAt)})
	r.res.status, r.res.err = status, msg
	return r.res
}

// execute resolves the step's role and model, then runs attempts until one
// passes, retries run out, or a failure no retry can help happens.
func (r *stepRun) execute(ctx context.Context) (status, msg string) {
	s := r.s
	role, ok := s.opts.Roles[r.step.Role]
	if !ok || role == nil {
		return backend.StatusFailed, fmt.Sprintf("role %q not found: add blueprints/roles/%s.md", r.step.Role, r.step.Role)
	}
	ref, err := backend.ParseModelRef(r.rec.Model)
	if err != nil {
		return backend.StatusFailed, err.Error()
	}
	provider, ok := s.e.cfg.Providers[ref.Provider]
	if !ok || provider == nil {
		return backend.StatusFailed, fmt.Sprintf("model %s: provider %q is not configured", ref, ref.Provider)
	}
	provider = s.serverRetrying(provider, r.step.ID)
	req := backend.AttemptRequest{
		RunID: s.run.ID, Blueprint: s.opts.Blueprint, Step: r.step, Role: role,
		Model: ref, Provider: provider, Upstream: r.upstream, OutputDir: s.outDir, Options: s.stepOptions(r.step),
		Generated: s.generated(),
	}
	r.toolSetup(&req)
	return r.attempts(ctx, req)
}

// attempt runs one attempt: the Attempter's model call(s) and writes, then
// the step's gates, and records it all.
func (r *stepRun) attempt(ctx context.Context, req backend.AttemptRequest) attemptOutcome {
	s := r.s
	a := &backend.Attempt{RunID: s.run.ID, StepID: r.step.ID, N: req.Attempt, Status: backend.StatusRunning,
		Feedback: req.Feedback, StartedAt: s.e.cfg.Now()}
	r.res.attempts = req.Attempt
	r.rec.Attempts = req.Attempt
	s.saveAttempt(a)
	ctx = s.tr().startAttempt(ctx, r, a)
	if req.Attempt > 1 {
		s.saveStep(r.rec) // the step's attempt count; the first is implied by its attempt
	}
	s.e.emit(Event{Kind: KindAttempt, RunID: s.run.ID, StepID: r.step.ID, Attempt: req.Attempt, Status: backend.StatusRunning})
	// The streamed answer reaches the UI redacted, a secret split across
	// two pieces included.
	stream := s.redactor.Stream()
	emitToken := func(text string) {
		if text != "" {
			s.e.emit(Event{Kind: KindToken, RunID: s.run.ID, StepID: r.step.ID, Attempt: req.Attempt, Text: text})
		}
	}
	req.OnToken = func(text string) { emitToken(stream.Write(text)) }
	recorded := r.liveRecords(&req)

	res := s.e.cfg.Attempter.Attempt(ctx, req)
	emitToken(stream.Flush())
	s.tr().attemptDone(ctx, res, s.e.cfg.Now())
	s.tr().toolSpans(ctx, res.Tools, s.redact)
	builtin := r.builtinGates(&res) // before anything reads the files
	r.recordCalls(req.Attempt, res.Calls[min(recorded.calls, len(res.Calls)):])
	r.recordTools(req.Attempt, res.Tools[min(recorded.tools, len(res.Tools)):])
	s.budget.add(callTokens(res.Calls), len(res.Calls))
	r.recordArtifacts(req.Attempt, res.Files)
	r.recordBases(req.Attempt, res.Files)
	a.Notes = s.redact(res.Notes)
	out := r.judge(ctx, res, builtin)

	a.EndedAt = s.e.cfg.Now()
	switch {
	case out.canceled:
		a.Status, a.Error = backend.StatusCanceled, "canceled"
	case out.ok:
		a.Status = backend.StatusSucceeded
	default:
		a.Status, a.Error = backend.StatusFailed, out.err
	}
	s.saveAttempt(a)
	s.tr().endAttempt(a)
	s.e.emit(Event{Kind: KindAttempt, RunID: s.run.ID, StepID: r.step.ID, Attempt: req.Attempt,
		Status: a.Status, Message: a.Error, Duration: a.EndedAt.Sub(a.StartedAt)})
	return out
}

// judge decides an attempt's outcome from the Attempter's result and, when
// it wrote its files, the step's gates.
func (r *stepRun) judge(ctx context.Context, res backend.AttemptResult, builtin []backend.GateResult) attemptOutcome {
	if ctx.Err() != nil {
		return attemptOutcome{canceled: true}
	}
	if out, ok := conflictOutcome(res.Err); ok {
		return out
	}
	if res.Err != nil {
		switch backend.ErrorCode(res.Err) {
		case backend.EUNAVAILABLE, backend.ENOTFOUND:
			// Not the model's fault: never the next attempt's feedback.
			return attemptOutcome{fatal: true, err: providerMessage(res.Err)}
		case backend.ECANCELED:
			return attemptOutcome{canceled: true}
		}
		return attemptOutcome{err: res.Err.Error()}
	}
	for _, g := range builtin {
		r.s.emitGate(r.step.ID, r.res.attempts, g)
		if !g.Passed {
			return attemptOutcome{err: validate.Feedback(g)}
		}
	}
	opts := r.s.gateOptions()
	for _, cmd := range r.step.Validate {
		g := validate.RunCommand(ctx, r.s.outDir, cmd, opts)
		r.s.emitGate(r.step.ID, r.res.attempts, g)
		if ctx.Err() != nil {
			return attemptOutcome{canceled: true}
		}
		if !g.Passed {
			fb := validate.Feedback(g)
			r.noteFailure(fb)
			return attemptOutcome{err: fb}
		}
	}
	return attemptOutcome{ok: true}
}

// providerMessage is the provider's own message for a failed call.
func providerMessage(err error) string {
	var e *backend.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// emitGate reports a gate's result; a failed gate's message is its feedback.
func (s *scheduler) emitGate(stepID string, attempt int, g backend.GateResult) {
	s.tr().gate(stepID, attempt, g, s.e.cfg.Now())
	s.recordGate(stepID, attempt, g)
	status, msg := backend.StatusSucceeded, g.Name
	if !g.Passed {
		status, msg = backend.StatusFailed, validate.Feedback(g)
	}
	s.e.emit(Event{Kind: KindGate, RunID: s.run.ID, StepID: stepID, Attempt: attempt,
		Status: status, Message: msg, Duration: g.Duration})
}

// recordCalls queues each call's request, answer and record for the store.
func (r *stepRun) recordCalls(attempt int, calls []backend.CallRecord) {
	s := r.s
	for i, c := range calls {
		seq := c.Seq
		if seq == 0 {
			seq = i + 1
		}
		mc := &backend.ModelCall{RunID: s.run.ID, StepID: r.step.ID, Attempt: attempt, Seq: seq, Turn: c.Turn,
			Provider: c.Provider, Model: c.Request.Model, TokensIn: c.Response.InputTokens,
			TokensOut: c.Response.OutputTokens, Duration: c.Response.Duration,
			FirstToken: c.Response.FirstToken, DoneReason: c.Response.DoneReason, StartedAt: c.StartedAt}
		if c.Err != nil {
			mc.Error = c.Err.Error()
		}
		prompt, _, err := backend.RequestBlob(c.Request)
		if err != nil {
			s.rec.fail(backend.WrapError(backend.EINVALID, err, "step %s: encode the model request", r.step.ID))
			continue
		}
		if len(c.Request.Options) > 0 {
			opts, _ := json.Marshal(c.Request.Options) // encoded above already
			mc.Options = string(opts)
		}
		answer := []byte(c.Response.Content)
		s.rec.do(func(ctx context.Context, st backend.Store) (err error) {
			if mc.PromptHash, err = st.PutBlob(ctx, prompt); err != nil {
				return err
			}
			if mc.AnswerHash, err = st.PutBlob(ctx, answer); err != nil {
				return err
			}
			return st.RecordCall(ctx, mc)
		})
		r.res.calls++
		r.res.tokensIn += mc.TokensIn
		r.res.tokensOut += mc.TokensOut
		// The step's record counts each call as it is made, so a step
		// waiting for a review shows its tokens.
		r.rec.TokensIn, r.rec.TokensOut = r.baseIn+r.res.tokensIn, r.baseOut+r.res.tokensOut
		s.e.emit(Event{Kind: KindCall, RunID: s.run.ID, StepID: r.step.ID, Attempt: attempt,
			Status: callStatus(c.Err), Message: mc.Error, TokensIn: mc.TokensIn, TokensOut: mc.TokensOut, Duration: mc.Duration})
	}
}

func callStatus(err error) string {
	if err != nil {
		return backend.StatusFailed
	}
	return backend.StatusSucceeded
}

// recordArtifacts reads the files an attempt wrote (before a later attempt
// can change them) and queues their content and records for the store.
func (r *stepRun) recordArtifacts(attempt int, files []backend.WrittenFile) {
	s := r.s
	for _, f := range files {
		r.written[f.Path] = true
		data, err := os.ReadFile(filepath.Join(s.outDir, filepath.FromSlash(f.Path)))
		if err != nil {
			s.rec.fail(backend.WrapError(backend.EINTERNAL, err, "step %s: read the written file %s", r.step.ID, f.Path))
			continue
		}
		a := &backend.Artifact{RunID: s.run.ID, StepID: r.step.ID, Attempt: attempt, Path: f.Path,
			SHA256: f.SHA256, Size: int64(len(data)), Sections: r.rec.Sections, CreatedAt: s.e.cfg.Now()}
		s.rec.do(func(ctx context.Context, st backend.Store) error {
			hash, err := st.PutBlob(ctx, data)
			if err != nil {
				return err
			}
			if a.SHA256 != "" && a.SHA256 != hash {
				return backend.Errorf(backend.ECONFLICT, "%s changed on disk while step %s wrote it", a.Path, a.StepID)
			}
			a.SHA256 = hash
			return st.RecordArtifact(ctx, a)
		})
	}
}

// readOutput reads the files the step's attempts wrote, as they are now in
// the output folder (after the gates); a file gone since is left out.
func (r *stepRun) readOutput() ([]backend.File, error) {
	paths := make([]string, 0, len(r.written))
	for p := range r.written {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	files := make([]backend.File, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join(r.s.outDir, filepath.FromSlash(p)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, backend.WrapError(backend.EINTERNAL, err, "read the step's output %s", p)
		}
		files = append(files, backend.File{Path: p, Content: data})
	}
	return files, nil
}
