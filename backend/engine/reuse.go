package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// cacheKeyVersion changes when what a step's output depends on changes
// shape (the context package, the answer format), so old keys stop matching.
const cacheKeyVersion = "factory-step-cache/1"

// runExtras is what a run carries besides its schedule: its spans and the
// store of reusable work.
type runExtras struct {
	trace *runTrace
	reuse backend.ReuseStore // nil: no cache, no recorded roles

	mu      sync.Mutex
	lessons map[string][]string // lesson texts by role, read once per run
}

// reuseStore returns the configured store of reusable work, or the Store
// when it is one.
func (e *Engine) reuseStore() backend.ReuseStore {
	if e.cfg.Reuse != nil {
		return e.cfg.Reuse
	}
	rs, _ := e.cfg.Store.(backend.ReuseStore)
	return rs
}

// startExtras starts the run's span and records the roles the run uses,
// for a later replay. It returns ctx carrying the run's span. A role that
// cannot be recorded is logged: the run goes on, only its replay is harder.
func (s *scheduler) startExtras(ctx context.Context) context.Context {
	s.x = &runExtras{reuse: s.e.reuseStore(), lessons: map[string][]string{}}
	ctx, s.x.trace = s.e.startTrace(ctx, s.run)
	if s.x.reuse == nil {
		return ctx
	}
	if err := s.saveRoles(context.WithoutCancel(ctx)); err != nil {
		s.e.cfg.Logger.WarnContext(ctx, "the run's roles are not recorded", "run", s.run.ID, "error", err)
	}
	return ctx
}

// saveRoles records the roles of the run's steps, each as a JSON blob.
func (s *scheduler) saveRoles(ctx context.Context) error {
	roles := map[string]string{}
	for _, st := range s.g.steps {
		role, ok := s.opts.Roles[st.Role]
		if !ok || role == nil || roles[st.Role] != "" {
			continue
		}
		data, err := json.Marshal(role)
		if err != nil {
			return backend.WrapError(backend.EINTERNAL, err, "encode role %s", st.Role)
		}
		if roles[st.Role], err = s.e.cfg.Store.PutBlob(ctx, data); err != nil {
			return err
		}
	}
	return s.x.reuse.SaveRunRoles(ctx, s.run.ID, roles)
}

// tr returns the run's spans maker; nil (making none) before startExtras.
func (s *scheduler) tr() *runTrace {
	if s.x == nil {
		return nil
	}
	return s.x.trace
}

// endExtras ends the run's span.
func (s *scheduler) endExtras(run *backend.Run) {
	if s.x != nil {
		s.x.trace.end(run)
	}
}

// executeOrReuse runs the step, or takes its outputs from a recorded run:
// the run RunOptions.Reuse names for it (a fork's upstream), or the newest
// run whose same step had the same cache key (unless NoCache).
func (r *stepRun) executeOrReuse(ctx context.Context) (status, msg string) {
	s := r.s
	if s.x == nil || s.x.reuse == nil {
		return r.execute(ctx)
	}
	rs := s.x.reuse
	key, err := r.cacheKey(ctx)
	if err != nil {
		s.e.cfg.Logger.WarnContext(ctx, "no cache key", "run", s.run.ID, "step", r.step.ID, "error", err)
	}
	var arts []backend.Artifact
	source, forced := s.opts.Reuse[r.step.ID], true
	switch {
	case source != "":
		arts, err = rs.StepOutputs(ctx, source, r.step.ID)
	case key != "" && !s.opts.NoCache:
		forced = false
		source, arts, err = rs.CachedOutputs(ctx, key, s.run.ID)
	}
	if err != nil {
		if forced {
			return backend.StatusFailed, err.Error()
		}
		s.e.cfg.Logger.WarnContext(ctx, "cache lookup failed", "step", r.step.ID, "error", err)
		source = ""
	}
	if source != "" {
		ok, err := r.reuse(ctx, source, arts, key, forced)
		if err != nil {
			return backend.StatusFailed, err.Error()
		}
		if ok {
			return backend.StatusSucceeded, ""
		}
	}
	status, msg = r.execute(ctx)
	if key != "" {
		sk := &backend.StepKey{RunID: s.run.ID, StepID: r.step.ID, Key: key}
		s.rec.do(func(ctx context.Context, _ backend.Store) error { return rs.SaveStepKey(ctx, sk) })
	}
	return status, msg
}

// reuse puts arts, the recorded outputs of the step in run source, in the
// output folder and records them as this step's. A cache hit (not forced)
// is given up, returning false, when a file on disk differs from the
// recorded one: it may be a hand edit, which only a real run merges.
func (r *stepRun) reuse(ctx context.Context, source string, arts []backend.Artifact, key string, forced bool) (bool, error) {
	s := r.s
	start := s.e.cfg.Now()
	if len(arts) == 0 && !forced {
		return false, nil
	}
	var write []backend.File
	written := make([]backend.WrittenFile, 0, len(arts))
	for _, a := range arts {
		name := filepath.Join(s.outDir, filepath.FromSlash(a.Path))
		disk, err := os.ReadFile(name)
		if err == nil && sha(disk) == a.SHA256 {
			written = append(written, backend.WrittenFile{Path: a.Path, SHA256: a.SHA256, Size: a.Size})
			continue
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, backend.WrapError(backend.EINTERNAL, err, "step %s: read %s", r.step.ID, a.Path)
		}
		if err == nil && !forced {
			return false, nil
		}
		data, err := s.e.cfg.Store.Blob(ctx, a.SHA256)
		if err != nil {
			return false, err
		}
		if sha(data) != a.SHA256 || int64(len(data)) != a.Size {
			// The record was tampered with: never restore what it says.
			s.log.WarnContext(ctx, "a reused file does not match its record", "step", r.step.ID, "path", a.Path, "source", source)
			if !forced {
				return false, nil
			}
			return false, backend.Errorf(backend.EINVALID, "step %s: %s of run %s does not match its recorded sha256 and size; not restored",
				r.step.ID, a.Path, source)
		}
		write = append(write, backend.File{Path: a.Path, Content: data})
	}
	if len(write) > 0 {
		files, err := workspace.WriteFiles(s.outDir, write, r.step.Writes, backend.WriteLimits{})
		if err != nil {
			if !forced {
				return false, nil
			}
			return false, backend.WrapError(backend.ErrorCode(err), err, "step %s: restore the outputs of run %s", r.step.ID, source)
		}
		r.recordBases(0, files)
		written = append(written, files...)
	}
	sort.Slice(written, func(i, j int) bool { return written[i].Path < written[j].Path })
	records := make([]backend.Artifact, len(written))
	for i, f := range written {
		r.written[f.Path] = true
		records[i] = backend.Artifact{RunID: s.run.ID, StepID: r.step.ID, Attempt: 0, Path: f.Path,
			SHA256: f.SHA256, Size: f.Size, Sections: r.rec.Sections, CreatedAt: s.e.cfg.Now()}
	}
	sk := &backend.StepKey{RunID: s.run.ID, StepID: r.step.ID, Key: key, SourceRun: source}
	rs := s.x.reuse
	s.rec.do(func(ctx context.Context, _ backend.Store) error { return rs.RecordReuse(ctx, sk, records) })
	r.rec.CacheHit = true
	s.tr().reused(ctx, r, source, key, written, start, s.e.cfg.Now())
	s.e.emit(Event{Kind: KindStep, RunID: s.run.ID, StepID: r.step.ID, Status: backend.StatusRunning,
		Message: "reused the outputs of run " + source})
	return true, nil
}

// keyInput is everything a step's output depends on, hashed into its key.
type keyInput struct {
	Version   string            `json:"v"`
	Role      keyRole           `json:"role"`
	Step      backend.Step      `json:"step"`
	Title     string            `json:"title"`
	Scope     map[string]string `json:"scope,omitempty"`
	Sections  []string          `json:"sections"`
	Upstream  []keyFile         `json:"upstream"`
	Model     string            `json:"model"`
	Options   map[string]any    `json:"options,omitempty"`
	Sandbox   string            `json:"sandbox,omitempty"`
	Env       []string          `json:"env,omitempty"`
	Timeout   int64             `json:"timeout,omitempty"`
	Lessons   []string          `json:"lessons,omitempty"`
	Blueprint string            `json:"blueprint"`
}

type keyRole struct {
	Name    string   `json:"name"`
	Prompt  string   `json:"prompt"`
	Skills  []string `json:"skills,omitempty"`
	Version string   `json:"version"`
}

type keyFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// cacheKey is the sha256 of everything the step's output depends on: its
// role's text, its spec (gates included), the text of the sections it uses,
// the content of its upstream files, its model and options, the gate
// settings and the role's lessons. "" when the role is unknown.
func (r *stepRun) cacheKey(ctx context.Context) (key string, err error) {
	s := r.s
	role, ok := s.opts.Roles[r.step.Role]
	if !ok || role == nil {
		return "", nil
	}
	bp := s.opts.Blueprint
	in := keyInput{
		Version: cacheKeyVersion, Blueprint: bp.ID, Title: bp.Title, Scope: bp.Scope,
		Role:  keyRole{Name: role.Name, Prompt: role.Prompt, Skills: role.Skills, Version: role.Version},
		Step:  *r.step,
		Model: r.rec.Model, Options: s.stepOptions(r.step), Sandbox: bp.Sandbox, Env: bp.Env,
		Timeout: int64(s.opts.GateTimeout + bp.GateTimeout),
	}
	in.Step.Line = 0
	for _, name := range r.step.Uses {
		if sec, ok := bp.Section(name); ok {
			in.Sections = append(in.Sections, sec.Text)
		}
	}
	for _, f := range r.upstream {
		in.Upstream = append(in.Upstream, keyFile{Path: f.Path, SHA256: sha(f.Content)})
	}
	if in.Lessons, err = s.x.roleLessons(ctx, s.e.cfg.Store, r.step.Role); err != nil {
		return "", err
	}
	data, err := json.Marshal(in)
	if err != nil {
		return "", backend.WrapError(backend.EINTERNAL, err, "encode the cache key of step %s", r.step.ID)
	}
	return sha(data), nil
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// roleLessons returns the texts of a role's lessons, sorted, as read the
// first time the run asks.
func (x *runExtras) roleLessons(ctx context.Context, store backend.Store, role string) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if texts, ok := x.lessons[role]; ok {
		return texts, nil
	}
	lessons, err := store.Lessons(ctx, backend.LessonFilter{Role: role})
	if err != nil {
		return nil, err
	}
	texts := make([]string, 0, len(lessons))
	for _, l := range lessons {
		texts = append(texts, l.Text)
	}
	sort.Strings(texts)
	x.lessons[role] = texts
	return texts, nil
}
