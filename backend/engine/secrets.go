package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"factorydesk/backend"
	"factorydesk/backend/trace"
	"factorydesk/backend/validate"
	"factorydesk/backend/workspace"
)

// SecretValues returns the values of a blueprint's secrets from getenv, by
// name; unset secrets are left out.
func SecretValues(bp *backend.Blueprint, getenv func(string) string) map[string]string {
	values := make(map[string]string, len(bp.Secrets))
	for _, name := range bp.Secrets {
		if v := getenv(name); v != "" {
			values[name] = v
		}
	}
	return values
}

// Redactor returns the function that replaces the values of a blueprint's
// secrets with ${NAME}: give it to the Attempter (agent.Config.Redact) so
// that no secret reaches a model. The engine applies the same to everything
// it records, logs and reports.
func Redactor(bp *backend.Blueprint, getenv func(string) string) func(string) string {
	r := trace.NewRedactor(SecretValues(bp, getenv))
	return r.Redact
}

// redactingStore redacts secret values from everything a run records.
type redactingStore struct {
	backend.Store
	redact func(string) string
}

// Batch implements backend.Batcher when the store it wraps does.
func (s redactingStore) Batch(ctx context.Context, fn func(ctx context.Context) error) error {
	if b, ok := s.Store.(backend.Batcher); ok {
		return b.Batch(ctx, fn)
	}
	return fn(ctx)
}

// PutBlob implements backend.Store; the stored (and hashed) data is redacted.
func (s redactingStore) PutBlob(ctx context.Context, data []byte) (string, error) {
	return s.Store.PutBlob(ctx, []byte(s.redact(string(data))))
}

// SaveBlueprintVersion implements backend.Store.
func (s redactingStore) SaveBlueprintVersion(ctx context.Context, id, version, path string, text []byte) error {
	return s.Store.SaveBlueprintVersion(ctx, id, version, path, []byte(s.redact(string(text))))
}

// CreateRun implements backend.Store.
func (s redactingStore) CreateRun(ctx context.Context, r *backend.Run) error {
	c := *r
	c.Error = s.redact(c.Error)
	if err := s.Store.CreateRun(ctx, &c); err != nil {
		return err
	}
	r.PID, r.StartedAt, r.Status = c.PID, c.StartedAt, c.Status
	return nil
}

// UpdateRun implements backend.Store.
func (s redactingStore) UpdateRun(ctx context.Context, r *backend.Run) error {
	c := *r
	c.Error = s.redact(c.Error)
	return s.Store.UpdateRun(ctx, &c)
}

// SaveStep implements backend.Store.
func (s redactingStore) SaveStep(ctx context.Context, st *backend.StepRun) error {
	c := *st
	c.Error = s.redact(c.Error)
	return s.Store.SaveStep(ctx, &c)
}

// SaveAttempt implements backend.Store.
func (s redactingStore) SaveAttempt(ctx context.Context, a *backend.Attempt) error {
	c := *a
	c.Error, c.Feedback, c.Notes = s.redact(c.Error), s.redact(c.Feedback), s.redact(c.Notes)
	return s.Store.SaveAttempt(ctx, &c)
}

// RecordCall implements backend.Store.
func (s redactingStore) RecordCall(ctx context.Context, c *backend.ModelCall) error {
	cp := *c
	cp.Error = s.redact(cp.Error)
	err := s.Store.RecordCall(ctx, &cp)
	c.ID = cp.ID
	return err
}

// RecordGate implements backend.ValidationStore.
func (s redactingStore) RecordGate(ctx context.Context, g *backend.GateRecord) error {
	c := *g
	c.Output, c.Name = s.redact(c.Output), s.redact(c.Name)
	return s.Store.RecordGate(ctx, &c)
}

// AddLesson implements backend.ValidationStore.
func (s redactingStore) AddLesson(ctx context.Context, l *backend.Lesson) (bool, error) {
	l.Text = s.redact(l.Text)
	return s.Store.AddLesson(ctx, l)
}

// redactingHandler is a slog.Handler that redacts the message and the
// string attributes of each record.
type redactingHandler struct {
	next   slog.Handler
	redact func(string) string
}

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, g := range attrs {
			out[i] = h.attr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.redact(err.Error()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return redactingHandler{next: h.next.WithAttrs(red), redact: h.redact}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{next: h.next.WithGroup(name), redact: h.redact}
}

// scanWritten runs the secrets gate on the files an attempt wrote. A file
// holding a secret's value is rewritten (atomically) with ${NAME} in its
// place, so the value stays neither in the output nor in the record, and
// the gate fails: the next attempt is told to read the secret from the
// environment instead.
func (r *stepRun) scanWritten(res *backend.AttemptResult) (backend.GateResult, bool) {
	s := r.s
	paths := make([]string, len(res.Files))
	for i, f := range res.Files {
		paths[i] = f.Path
	}
	g := validate.ScanFiles(s.outDir, paths, s.secrets)
	if g.Passed {
		return g, true
	}
	var fixed []backend.File
	for i, f := range res.Files {
		abs := filepath.Join(s.outDir, filepath.FromSlash(f.Path))
		data, err := os.ReadFile(abs)
		if err != nil {
			continue
		}
		red := s.redact(string(data))
		if red == string(data) {
			continue
		}
		fixed = append(fixed, backend.File{Path: f.Path, Content: []byte(red)})
		written, err := workspace.WriteFiles(s.outDir, fixed[len(fixed)-1:], []string{f.Path}, r.limits())
		if err != nil || len(written) != 1 {
			// Never leave the value behind.
			_ = os.Remove(abs)
			continue
		}
		res.Files[i] = written[0]
	}
	g.Output += "\nRefer to secrets through their environment variables (os.Getenv) instead of their values."
	return g, false
}

// limits are the write limits of a rewrite: the same as the attempt's.
func (r *stepRun) limits() backend.WriteLimits { return backend.WriteLimits{MaxFileBytes: 64 << 20} }
