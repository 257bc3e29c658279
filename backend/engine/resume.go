package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// priorStep is what a resumed run keeps of a step from before.
type priorStep struct {
	done      bool           // succeeded (or approved) with its artifacts intact: not run again
	files     []backend.File // its output, as on disk, when done
	attempts  int            // attempts made so far; new ones are numbered after them
	feedback  string         // the feedback of its next attempt
	awaiting  bool           // its review is still pending: wait for it, no new attempt
	tokensIn  int            // tokens of the attempts made so far
	tokensOut int
}

// Resume continues a run that was interrupted (its process died), waits for
// a review, failed or was canceled, in this process: steps that succeeded
// (or whose review was approved) and whose artifacts are unchanged on disk
// are kept; the others run again, a rejected review's comment as feedback;
// a step whose review is still pending waits for it (opts.WaitReview) or
// leaves the run awaiting review again. opts.Blueprint must be the version
// the run ran (its text is in the store) and opts.RunID the run's id or a
// unique prefix of it. Leftover temporary files of interrupted writes are
// removed from the output folder first.
func (e *Engine) Resume(ctx context.Context, opts RunOptions) (*backend.Run, error) {
	if err := e.check(&opts); err != nil {
		return nil, err
	}
	g, err := newGraph(opts.Blueprint)
	if err != nil {
		return nil, err
	}
	bp := opts.Blueprint
	rec := context.WithoutCancel(ctx)
	d, err := e.cfg.Store.ClaimRun(rec, opts.RunID)
	if err != nil {
		return nil, err
	}
	run := d.Run
	// unclaim leaves a claimed run that does not start for the next resume.
	unclaim := func() {
		run.Status = backend.StatusInterrupted
		_ = e.cfg.Store.UpdateRun(rec, &run)
	}
	if v := blueprintVersion(bp); v != run.BlueprintVersion {
		unclaim()
		return nil, backend.Errorf(backend.EINVALID, "run %s ran blueprint version %s, not %s: resume it with the version it ran", run.ID, short(run.BlueprintVersion), short(v))
	}
	outDir := filepath.Join(opts.Workspace, filepath.FromSlash(bp.Output))
	if err := removeTemps(outDir); err != nil {
		unclaim()
		return nil, err
	}
	prior := priorStates(d, g, outDir)
	opts.RunID = run.ID
	run.Status, run.Error, run.EndedAt, run.PID = backend.StatusRunning, "", backend.Run{}.EndedAt, os.Getpid()
	if opts.Parallel > 0 {
		run.Parallel = opts.Parallel
	}
	log := e.logger(bp).With("run", run.ID, "blueprint", bp.ID)
	log.InfoContext(ctx, "run resumed", "kept", countDone(prior), "steps", len(bp.Steps))
	s := newScheduler(e, opts, g, &run, outDir)
	s.prior = prior
	return s.drive(ctx, log, bp.ID+" (resumed)")
}

func countDone(prior map[int]priorStep) int {
	n := 0
	for _, p := range prior {
		if p.done {
			n++
		}
	}
	return n
}

// blueprintVersion is the sha256 of the blueprint's bytes.
func blueprintVersion(bp *backend.Blueprint) string {
	if bp.Version != "" {
		return bp.Version
	}
	sum := sha256.Sum256(bp.Source)
	return hex.EncodeToString(sum[:])
}

// priorStates decides, for each recorded step of d, what a resume keeps.
func priorStates(d *backend.RunDetail, g *graph, outDir string) map[int]priorStep {
	latest := map[string]string{} // path -> hash of its last write in the run
	owned := map[string][]string{}
	for _, a := range d.Artifacts {
		latest[a.Path] = a.SHA256
		if !has(owned[a.StepID], a.Path) {
			owned[a.StepID] = append(owned[a.StepID], a.Path)
		}
	}
	lastErr := map[string]string{}
	attempts := map[string]int{}
	for _, a := range d.Attempts {
		attempts[a.StepID] = max(attempts[a.StepID], a.N)
		if a.Error != "" && a.Status == backend.StatusFailed {
			lastErr[a.StepID] = a.Error
		}
	}
	reviews := map[string]*backend.Review{}
	for i := range d.Reviews {
		rv := &d.Reviews[i]
		if cur := reviews[rv.StepID]; cur == nil || rv.Attempt >= cur.Attempt {
			reviews[rv.StepID] = rv
		}
	}
	index := map[string]int{}
	for i, st := range g.steps {
		index[st.ID] = i
	}
	prior := map[int]priorStep{}
	for _, sr := range d.Steps {
		i, ok := index[sr.StepID]
		if !ok {
			continue
		}
		p := priorStep{attempts: max(attempts[sr.StepID], sr.Attempts), feedback: lastErr[sr.StepID],
			tokensIn: sr.TokensIn, tokensOut: sr.TokensOut}
		rv := reviews[sr.StepID]
		keep := sr.Status == backend.StatusSucceeded ||
			(sr.Status == backend.StatusAwaitingReview && rv != nil && rv.Status == backend.ReviewApproved)
		switch {
		case keep:
			if files, ok := verify(outDir, owned[sr.StepID], latest); ok {
				p.done, p.files = true, files
			} else {
				p.feedback = ""
			}
		case sr.Status == backend.StatusAwaitingReview && rv != nil && rv.Status == backend.ReviewRejected:
			p.feedback = reviewFeedback(rv)
		case sr.Status == backend.StatusAwaitingReview && rv != nil && rv.Status == backend.ReviewPending:
			p.awaiting = true
		}
		prior[i] = p
	}
	return prior
}

// verify reads a step's files and checks each against the hash the run
// last recorded for its path; ok is false when one is missing or changed.
func verify(outDir string, paths []string, latest map[string]string) ([]backend.File, bool) {
	files := make([]backend.File, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(p)))
		if err != nil {
			return nil, false
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != latest[p] {
			return nil, false
		}
		files = append(files, backend.File{Path: p, Content: data})
	}
	return files, true
}

// removeTemps deletes the temporary files interrupted atomic writes left
// under dir.
func removeTemps(dir string) error {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), workspace.WriteTempPrefix) {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return backend.WrapError(backend.EINTERNAL, err, "clean the temporary files of %s", dir)
	}
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
