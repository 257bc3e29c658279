// Package rerun runs a recorded run again: a replay answers every model call
// from the record and checks that the artifacts come out byte-identical; a
// fork re-runs a step and what depends on it, reusing the recorded outputs
// of the rest, with a changed model or blueprint.
package rerun

import (
	"context"
	"encoding/json"
	"path"
	"sort"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/engine"
	"factorydesk/backend/model/replay"
	"factorydesk/backend/rundiff"
	"factorydesk/backend/workspace"
)

// ReplayDir is where replays write, relative to the workspace root: each
// replay in ReplayDir/<its run id>.
const ReplayDir = workspace.ReplayDir

// Source is a recorded run ready to be run again: its record, the exact
// blueprint version it ran and the roles it ran with.
type Source struct {
	Detail    *backend.RunDetail
	Blueprint *backend.Blueprint
	Roles     map[string]*backend.Role
}

// Load reads a run (id or unique prefix), its blueprint version and roles.
// A role the run did not record (a run made before roles were kept) is
// taken from fallback.
func Load(ctx context.Context, store backend.Store, id string, fallback map[string]*backend.Role) (*Source, error) {
	d, err := store.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	roles := map[string]*backend.Role{}
	for name, r := range fallback {
		roles[name] = r
	}
	if rs, ok := store.(backend.ReuseStore); ok {
		hashes, err := rs.RunRoles(ctx, d.Run.ID)
		if err != nil {
			return nil, err
		}
		for name, h := range hashes {
			data, err := store.Blob(ctx, h)
			if err != nil {
				return nil, err
			}
			var r backend.Role
			if err := json.Unmarshal(data, &r); err != nil {
				return nil, backend.WrapError(backend.EINTERNAL, err, "run %s: read the recorded role %s", d.Run.ID, name)
			}
			roles[name] = &r
		}
	}
	text, err := store.BlueprintVersion(ctx, d.Run.BlueprintVersion)
	if err != nil {
		return nil, err
	}
	bp, diags := blueprint.Parse(d.Run.BlueprintPath, text, roles)
	if bp == nil {
		return nil, backend.WrapError(backend.EINVALID, diags.Err(), "run %s: its blueprint version %s cannot be read",
			d.Run.ID, d.Run.BlueprintVersion)
	}
	return &Source{Detail: d, Blueprint: bp, Roles: roles}, nil
}

// modelOverride is the run's model when it overrode the blueprint's.
func (s *Source) modelOverride() string {
	if s.Detail.Run.Model != s.Blueprint.Model {
		return s.Detail.Run.Model
	}
	return ""
}

// options are the model options of the run's first call.
func (s *Source) options() map[string]any {
	for _, c := range s.Detail.Calls {
		if c.Options == "" {
			continue
		}
		var opts map[string]any
		if json.Unmarshal([]byte(c.Options), &opts) == nil {
			return opts
		}
	}
	return nil
}

// ReplayResult is the outcome of a replay.
type ReplayResult struct {
	Original  string       `json:"original"` // the replayed run
	Run       *backend.Run `json:"run"`      // the replay
	Output    string       `json:"output"`   // its output folder, relative to the workspace
	Identical bool         `json:"identical"`
	Steps     []StepResult `json:"steps"`
	Calls     int          `json:"calls"` // calls answered from the record
}

// StepResult says whether a step came out the same.
type StepResult struct {
	StepID    string           `json:"step"`
	Status    [2]string        `json:"status"` // original, replay
	Identical bool             `json:"identical"`
	Files     []FileDivergence `json:"files,omitempty"`
	Requests  []string         `json:"requests,omitempty"` // why a request differed from the recorded one
}

// FileDivergence is a file that differs from the original's.
type FileDivergence struct {
	Path   string `json:"path"`
	Change string `json:"change"` // added, removed, changed
	Line   int    `json:"line,omitempty"`
	Was    string `json:"was,omitempty"`
	Is     string `json:"is,omitempty"`
}

// Replay re-executes src with every model call answered from its record,
// into ReplayDir/<new run id> under opts.Workspace, and compares the
// artifacts step by step. cfg wires the engine (its Providers are replaced).
func Replay(ctx context.Context, cfg engine.Config, src *Source, opts engine.RunOptions) (*ReplayResult, error) {
	rec, d, err := replay.Load(ctx, cfg.Store, src.Detail.Run.ID)
	if err != nil {
		return nil, err
	}
	cfg.Providers = map[string]backend.Provider{}
	for _, name := range backend.Providers {
		cfg.Providers[name] = rec.Provider(name)
	}
	if opts.RunID == "" {
		opts.RunID = engine.NewRunID()
	}
	bp := *src.Blueprint
	bp.Output = path.Join(ReplayDir, opts.RunID)
	opts.Blueprint, opts.Roles = &bp, src.Roles
	opts.Model, opts.Options = src.modelOverride(), src.options()
	opts.ParentID, opts.Kind, opts.NoCache, opts.Reuse = d.Run.ID, backend.KindReplay, true, nil
	run, err := engine.New(cfg).Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	got, err := cfg.Store.Run(context.WithoutCancel(ctx), run.ID)
	if err != nil {
		return nil, err
	}
	res := &ReplayResult{Original: d.Run.ID, Run: &got.Run, Output: bp.Output, Identical: true, Calls: rec.Answered()}
	res.Steps, err = compareSteps(ctx, cfg.Store, d, got, rec.Divergences())
	if err != nil {
		return nil, err
	}
	for _, s := range res.Steps {
		res.Identical = res.Identical && s.Identical
	}
	return res, nil
}

// compareSteps compares each step's status and files in the original and
// the replay, with the reasons requests differed.
func compareSteps(ctx context.Context, blobs rundiff.Blobs, a, b *backend.RunDetail, divs []replay.Divergence) ([]StepResult, error) {
	fa, fb := rundiff.FinalFiles(a), rundiff.FinalFiles(b)
	status := map[string]string{}
	for _, s := range b.Steps {
		status[s.StepID] = s.Status
	}
	var out []StepResult
	for _, s := range a.Steps {
		sr := StepResult{StepID: s.StepID, Status: [2]string{s.Status, status[s.StepID]}}
		files, err := divergentFiles(ctx, blobs, fa[s.StepID], fb[s.StepID])
		if err != nil {
			return nil, err
		}
		sr.Files = files
		for _, d := range divs {
			if d.StepID == s.StepID {
				sr.Requests = append(sr.Requests, d.Reason)
			}
		}
		// A request that differed from the record is a divergence even when
		// the files came out the same: the replay did not follow the run.
		sr.Identical = sr.Status[0] == sr.Status[1] && len(sr.Files) == 0 && len(sr.Requests) == 0
		out = append(out, sr)
	}
	return out, nil
}

func divergentFiles(ctx context.Context, blobs rundiff.Blobs, a, b map[string]backend.Artifact) ([]FileDivergence, error) {
	var paths []string
	seen := map[string]bool{}
	for _, m := range []map[string]backend.Artifact{a, b} {
		for p := range m {
			if !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
	}
	sort.Strings(paths)
	var out []FileDivergence
	for _, p := range paths {
		x, inA := a[p]
		y, inB := b[p]
		switch {
		case !inA:
			out = append(out, FileDivergence{Path: p, Change: rundiff.Added})
		case !inB:
			out = append(out, FileDivergence{Path: p, Change: rundiff.Removed})
		case x.SHA256 != y.SHA256:
			was, err := blobs.Blob(ctx, x.SHA256)
			if err != nil {
				return nil, err
			}
			is, err := blobs.Blob(ctx, y.SHA256)
			if err != nil {
				return nil, err
			}
			line, lw, li := replay.FirstDiffLine(string(was), string(is))
			out = append(out, FileDivergence{Path: p, Change: rundiff.Changed, Line: line, Was: lw, Is: li})
		}
	}
	return out, nil
}

// Fork runs src again from step from: from and every step downstream of it
// run (with no cache), every other step reuses src's recorded outputs when
// it succeeded there. opts.Blueprint, when set, replaces src's blueprint
// (a changed one); opts.Model may change the model.
func Fork(ctx context.Context, cfg engine.Config, src *Source, from string, opts engine.RunOptions) (*backend.Run, error) {
	if opts.Blueprint == nil {
		opts.Blueprint = src.Blueprint
	}
	if opts.Roles == nil {
		opts.Roles = src.Roles
	}
	bp := opts.Blueprint
	if _, ok := bp.Step(from); !ok {
		return nil, backend.Errorf(backend.ENOTFOUND, "blueprint %s has no step %q", bp.ID, from)
	}
	rerun := Downstream(bp, from)
	succeeded := map[string]bool{}
	for _, s := range src.Detail.Steps {
		succeeded[s.StepID] = s.Status == backend.StatusSucceeded
	}
	opts.Reuse = map[string]string{}
	for _, s := range bp.Steps {
		if !rerun[s.ID] && succeeded[s.ID] {
			opts.Reuse[s.ID] = src.Detail.Run.ID
		}
	}
	if opts.Model == "" {
		opts.Model = src.modelOverride()
	}
	if opts.Options == nil {
		opts.Options = src.options()
	}
	opts.ParentID, opts.Kind, opts.NoCache = src.Detail.Run.ID, backend.KindFork, true
	return engine.New(cfg).Run(ctx, opts)
}

// Downstream returns step from and every step that needs it, directly or
// not.
func Downstream(bp *backend.Blueprint, from string) map[string]bool {
	set := map[string]bool{from: true}
	for changed := true; changed; {
		changed = false
		for _, s := range bp.Steps {
			if set[s.ID] {
				continue
			}
			for _, n := range s.Needs {
				if set[n] {
					set[s.ID], changed = true, true
					break
				}
			}
		}
	}
	return set
}
