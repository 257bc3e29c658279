// Package rundiff compares two recorded runs step by step: status,
// attempts, model and options, prompts and files (as unified diffs), gate
// results, tokens and durations.
package rundiff

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"factorydesk/backend"
)

// File changes.
const (
	Added   = "added"   // only in run B
	Removed = "removed" // only in run A
	Changed = "changed" // in both, with different content
)

// Report is the comparison of run A with run B.
type Report struct {
	A     backend.Run `json:"a"`
	B     backend.Run `json:"b"`
	Steps []Step      `json:"steps"`
	Same  bool        `json:"same"` // every step's outputs, prompts and outcome are equal
}

// Step compares one step of both runs. Pairs are [A, B].
type Step struct {
	StepID    string           `json:"step"`
	Only      string           `json:"only,omitempty"` // "a" or "b" when the step is in one run only
	Status    [2]string        `json:"status"`
	Attempts  [2]int           `json:"attempts"`
	CacheHit  [2]bool          `json:"cache_hit"`
	Model     [2]string        `json:"model"`
	Options   [2]string        `json:"options"`
	TokensIn  [2]int           `json:"tokens_in"`
	TokensOut [2]int           `json:"tokens_out"`
	Duration  [2]time.Duration `json:"duration_ns"`
	Gates     [2][]string      `json:"gates"`
	Prompt    string           `json:"prompt_diff,omitempty"` // unified diff of the final attempt's requests
	Files     []File           `json:"files,omitempty"`       // the files that differ
	Same      bool             `json:"same"`
}

// File is one output file that differs between the runs.
type File struct {
	Path   string `json:"path"`
	Change string `json:"change"` // Added, Removed or Changed
	Diff   string `json:"diff,omitempty"`
	SHA256 [2]string
}

// Blobs reads stored blobs; a backend.Store is one.
type Blobs interface {
	Blob(ctx context.Context, hash string) ([]byte, error)
}

// Compare compares two recorded runs; blobs gives the prompts and files.
func Compare(ctx context.Context, blobs Blobs, a, b *backend.RunDetail) (*Report, error) {
	rep := &Report{A: a.Run, B: b.Run, Same: true}
	ids := stepOrder(a, b)
	sa, sb := stepsByID(a), stepsByID(b)
	fa, fb := FinalFiles(a), FinalFiles(b)
	for _, id := range ids {
		x, inA := sa[id]
		y, inB := sb[id]
		st := Step{StepID: id}
		switch {
		case !inA:
			st.Only = "b"
		case !inB:
			st.Only = "a"
		}
		st.Status = [2]string{x.Status, y.Status}
		st.Attempts = [2]int{x.Attempts, y.Attempts}
		st.CacheHit = [2]bool{x.CacheHit, y.CacheHit}
		st.Model = [2]string{x.Model, y.Model}
		st.Options = [2]string{stepOptions(a, id), stepOptions(b, id)}
		st.TokensIn = [2]int{x.TokensIn, y.TokensIn}
		st.TokensOut = [2]int{x.TokensOut, y.TokensOut}
		st.Duration = [2]time.Duration{span(x), span(y)}
		st.Gates = [2][]string{gates(a, id, x.Attempts), gates(b, id, y.Attempts)}
		pa, err := promptText(ctx, blobs, a, id, x.Attempts)
		if err != nil {
			return nil, err
		}
		pb, err := promptText(ctx, blobs, b, id, y.Attempts)
		if err != nil {
			return nil, err
		}
		if pa != pb && pa != "" && pb != "" {
			st.Prompt = Unified(pa, pb, "a/"+id+" prompt", "b/"+id+" prompt")
		}
		if st.Files, err = diffFiles(ctx, blobs, fa[id], fb[id]); err != nil {
			return nil, err
		}
		// A step reused from a recorded run made no call and ran no gate:
		// its outputs alone say whether it is the same.
		reused := st.CacheHit[0] || st.CacheHit[1]
		st.Same = st.Only == "" && st.Status[0] == st.Status[1] && len(st.Files) == 0 &&
			(reused || (st.Prompt == "" && slices.Equal(st.Gates[0], st.Gates[1])))
		rep.Same = rep.Same && st.Same
		rep.Steps = append(rep.Steps, st)
	}
	return rep, nil
}

// FinalFiles returns, by step and path, the artifact each step left: the
// version of its latest attempt that wrote the path.
func FinalFiles(d *backend.RunDetail) map[string]map[string]backend.Artifact {
	out := map[string]map[string]backend.Artifact{}
	for _, a := range d.Artifacts {
		m := out[a.StepID]
		if m == nil {
			m = map[string]backend.Artifact{}
			out[a.StepID] = m
		}
		if old, ok := m[a.Path]; !ok || a.Attempt >= old.Attempt {
			m[a.Path] = a
		}
	}
	return out
}

// Unified returns the unified diff of a and b, "" when equal.
func Unified(a, b, nameA, nameB string) string {
	if a == b {
		return ""
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b), FromFile: nameA, ToFile: nameB, Context: 3,
	})
	if err != nil {
		return err.Error()
	}
	return s
}

// stepOrder returns the step ids of A in order, then those only in B.
func stepOrder(a, b *backend.RunDetail) []string {
	var ids []string
	seen := map[string]bool{}
	for _, d := range []*backend.RunDetail{a, b} {
		for _, s := range d.Steps {
			if !seen[s.StepID] {
				seen[s.StepID] = true
				ids = append(ids, s.StepID)
			}
		}
	}
	return ids
}

func stepsByID(d *backend.RunDetail) map[string]backend.StepRun {
	m := make(map[string]backend.StepRun, len(d.Steps))
	for _, s := range d.Steps {
		m[s.StepID] = s
	}
	return m
}

func span(s backend.StepRun) time.Duration {
	if s.StartedAt.IsZero() || s.EndedAt.IsZero() {
		return 0
	}
	return s.EndedAt.Sub(s.StartedAt)
}

// stepOptions returns the options of the step's first call.
func stepOptions(d *backend.RunDetail, step string) string {
	for _, c := range d.Calls {
		if c.StepID == step {
			return c.Options
		}
	}
	return ""
}

// gates lists the step's gates of its final attempt as "name: passed".
func gates(d *backend.RunDetail, step string, attempt int) []string {
	var out []string
	for _, g := range d.Gates {
		if g.StepID != step || g.Attempt != attempt {
			continue
		}
		state := "passed"
		if !g.Passed {
			state = fmt.Sprintf("failed (exit %d)", g.ExitCode)
		}
		out = append(out, g.Name+": "+state)
	}
	return out
}

// promptText renders the requests of the step's final attempt as text.
func promptText(ctx context.Context, blobs Blobs, d *backend.RunDetail, step string, attempt int) (string, error) {
	var b strings.Builder
	for _, c := range d.Calls {
		if c.StepID != step || c.Attempt != attempt || c.PromptHash == "" {
			continue
		}
		data, err := blobs.Blob(ctx, c.PromptHash)
		if err != nil {
			return "", err
		}
		var req backend.StoredRequest
		if err := json.Unmarshal(data, &req); err != nil {
			b.Write(data)
			continue
		}
		for _, m := range req.Messages {
			fmt.Fprintf(&b, "--- %s (call %d)\n%s\n", m.Role, c.Seq, strings.TrimRight(m.Content, "\n"))
		}
	}
	return b.String(), nil
}

// diffFiles compares the files two versions of a step left.
func diffFiles(ctx context.Context, blobs Blobs, a, b map[string]backend.Artifact) ([]File, error) {
	paths := map[string]bool{}
	for p := range a {
		paths[p] = true
	}
	for p := range b {
		paths[p] = true
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	var out []File
	for _, p := range sorted {
		x, inA := a[p]
		y, inB := b[p]
		if inA && inB && x.SHA256 == y.SHA256 {
			continue
		}
		f := File{Path: p, SHA256: [2]string{x.SHA256, y.SHA256}}
		var ta, tb string
		var err error
		if inA {
			if ta, err = text(ctx, blobs, x.SHA256); err != nil {
				return nil, err
			}
		}
		if inB {
			if tb, err = text(ctx, blobs, y.SHA256); err != nil {
				return nil, err
			}
		}
		switch {
		case !inA:
			f.Change = Added
		case !inB:
			f.Change = Removed
		default:
			f.Change = Changed
		}
		f.Diff = Unified(ta, tb, "a/"+p, "b/"+p)
		out = append(out, f)
	}
	return out, nil
}

func text(ctx context.Context, blobs Blobs, hash string) (string, error) {
	data, err := blobs.Blob(ctx, hash)
	return string(data), err
}
