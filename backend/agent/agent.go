// Package agent runs one step attempt: it builds the context package, makes
// the model call with structured output (or, for a role with skills, the
// turns in which the model calls its tools), parses the answer (JSON, or
// prose with fenced code blocks as a fallback) and writes the files through
// the workspace's scope checks.
package agent

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/tools"
)

// Config configures an Agent. Zero fields take their defaults.
type Config struct {
	Logger *slog.Logger     // nil discards
	Now    func() time.Time // nil means time.Now
	// ContextTokens is the budget of the context package, estimated as
	// bytes/4 (default DefaultContextTokens).
	ContextTokens int
	// Redact is applied to every message's content before the model call
	// (and so before it is recorded); nil leaves messages as they are.
	Redact func(string) string
}

// Agent runs step attempts. It is safe for concurrent use.
type Agent struct {
	log    *slog.Logger
	now    func() time.Time
	tokens int
	redact func(string) string
	tools  *tools.Registry
}

var _ backend.Attempter = (*Agent)(nil)

// New returns an Agent configured by cfg.
func New(cfg Config) *Agent {
	a := &Agent{log: cfg.Logger, now: cfg.Now, tokens: cfg.ContextTokens, redact: cfg.Redact, tools: tools.New()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.tokens <= 0 {
		a.tokens = DefaultContextTokens
	}
	if a.redact == nil {
		a.redact = func(s string) string { return s }
	}
	return a
}

// Attempt implements backend.Attempter: the model call(s) with the context
// package (see converse), then the answer's files written under
// req.OutputDir within the step's writes globs. A provider error keeps its code (EUNAVAILABLE and
// ENOTFOUND tell the engine a retry will not help); a bad answer or a
// refused file is EINVALID, with a message meant as the next attempt's
// feedback.
func (a *Agent) Attempt(ctx context.Context, req backend.AttemptRequest) backend.AttemptResult {
	var res backend.AttemptResult
	if err := checkRequest(req); err != nil {
		res.Err = err
		return res
	}
	msgs, tokens := BuildMessages(req, a.tokens)
	for i := range msgs {
		msgs[i].Content = a.redact(msgs[i].Content)
	}
	log := a.log.With("run", req.RunID, "step", req.Step.ID, "attempt", req.Attempt)
	log.DebugContext(ctx, "model call", "model", req.Model.String(), "context_tokens", tokens,
		"context_budget", a.tokens, "upstream_files", len(req.Upstream))

	content, err := a.converse(ctx, req, msgs, &res)
	if err != nil {
		res.Err = err
		return res
	}
	files, notes, err := ParseAnswer(content)
	if err != nil {
		res.Err = err
		return res
	}
	if len(files) == 0 {
		res.Err = backend.Errorf(backend.EINVALID,
			"the answer has no files; write at least one file matching the step's writes globs")
		return res
	}
	res.Files, res.Err = writeMerged(ctx, req, files)
	if res.Err == nil {
		res.Notes = notes
	}
	log.DebugContext(ctx, "attempt done", "files", len(res.Files), "calls", len(res.Calls), "tools", len(res.Tools), "err", res.Err)
	return res
}

// checkRequest refuses a request that cannot make a sensible model call.
func checkRequest(req backend.AttemptRequest) error {
	switch {
	case req.Step == nil:
		return backend.Errorf(backend.EINVALID, "attempt has no step")
	case req.Provider == nil:
		return backend.Errorf(backend.EINVALID, "step %s: no provider for model %q", req.Step.ID, req.Model.String())
	case req.Model.Model == "":
		return backend.Errorf(backend.EINVALID, "step %s: no model", req.Step.ID)
	case !filepath.IsAbs(req.OutputDir):
		return backend.Errorf(backend.EINVALID, "step %s: output folder %q is not an absolute path", req.Step.ID, req.OutputDir)
	}
	return nil
}

// callError returns a provider's error with its code kept, naming the model;
// cancellation is ECANCELED.
func callError(ctx context.Context, ref backend.ModelRef, err error) error {
	var e *backend.Error
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return backend.WrapError(backend.ECANCELED, err, "model %s: call canceled", ref)
	case errors.As(err, &e):
		return backend.WrapError(e.Code, err, "model %s", ref)
	}
	return backend.WrapError(backend.EINTERNAL, err, "model %s", ref)
}
