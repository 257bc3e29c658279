package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/validate"
	"factorydesk/backend/workspace"
)

type draftFile struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

type runChecksArgs struct {
	Files []draftFile `json:"files"`
}

// runChecks writes a draft into a scratch copy of the output folder, by
// the step's write rules, and runs the step's gates there: the output
// folder is never written. The answer is each gate's outcome and the
// trimmed errors of the first that failed, worded the same on every run
// (no scratch paths, no timings), so that a replay can compare it.
func runChecks(ctx context.Context, env *Env, a runChecksArgs) (string, error) {
	if env.Checks == nil {
		return "this step has no validate gates, so there is nothing to run; give your final answer\n", nil
	}
	files := make([]backend.File, len(a.Files))
	for i, f := range a.Files {
		files[i] = backend.File{Path: f.Path, Content: []byte(f.Content)}
	}
	if err := os.MkdirAll(scratchParent(env), 0o755); err != nil {
		return "", backend.WrapError(backend.EINTERNAL, err, "make the scratch folder")
	}
	scratch, err := os.MkdirTemp(scratchParent(env), "factory-checks-")
	if err != nil {
		return "", backend.WrapError(backend.EINTERNAL, err, "make the scratch folder")
	}
	defer os.RemoveAll(scratch)
	if err := copyTree(ctx, env, scratch); err != nil {
		return "", err
	}
	if _, err := workspace.WriteFiles(scratch, files, env.Writes, backend.WriteLimits{}); err != nil {
		return "", err // EINVALID: the draft breaks the step's write rules
	}
	results := env.Checks(ctx, scratch)
	if err := ctx.Err(); err != nil {
		return "", backend.WrapError(backend.ECANCELED, err, "run_checks canceled")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ran the step's gates on your draft of %d files in a scratch copy of the output folder (the output folder is unchanged):\n", len(files))
	failed := false
	for _, g := range results {
		if g.Passed {
			fmt.Fprintf(&b, "$ %s (passed)\n", g.Name)
			continue
		}
		failed = true
		head, body, _ := strings.Cut(validate.Feedback(g), "\n")
		b.WriteString(head + "\n" + strings.TrimRight(stable(body, scratch), "\n") + "\n")
		break
	}
	if failed {
		b.WriteString("the draft fails its checks: fix the errors, then run_checks again or give your final answer\n")
	} else {
		b.WriteString("every check passed: give your final answer with these files\n")
	}
	return b.String(), nil
}

// scratchParent is the folder run_checks makes its scratch folders in.
func scratchParent(env *Env) string {
	if env.ScratchDir != "" {
		return env.ScratchDir
	}
	return os.TempDir()
}

// timing matches the durations tools print (0.003s, (0.00s), 1m2.5s).
var timing = regexp.MustCompile(`\b(\d+m)?\d+(\.\d+)?(ns|µs|us|ms|s)\b`)

// stable makes a gate's report the same on every run: the scratch folder's
// path becomes ".", timings become "(time)", and "(cached)" results read
// like fresh ones.
func stable(report, scratch string) string {
	report = strings.ReplaceAll(report, scratch+string(filepath.Separator), "")
	report = strings.ReplaceAll(report, scratch, ".")
	report = strings.ReplaceAll(report, "(cached)", "(time)")
	return timing.ReplaceAllString(report, "(time)")
}

// copyTree copies the regular files of the output folder (never through a
// symlink, never hidden ones) into dst, within MaxCopyBytes and
// MaxVisited entries: all of them, as the step's gates will see them, not
// only those in the step's view.
func copyTree(ctx context.Context, env *Env, dst string) error {
	lim := env.Limits.withDefaults()
	r, ok, err := openRoot(env)
	if err != nil || !ok {
		return err
	}
	defer r.Close()
	var total int64
	var copyErr error
	truncated, err := walk(ctx, nil, r, "**", lim.MaxVisited, func(e entry) bool {
		if total += e.size; total > lim.MaxCopyBytes {
			copyErr = backend.Errorf(backend.EINTERNAL,
				"the output folder holds over %d bytes, too much to copy for run_checks", lim.MaxCopyBytes)
			return false
		}
		copyErr = copyFile(r, e.path, filepath.Join(dst, filepath.FromSlash(e.path)))
		return copyErr == nil
	})
	switch {
	case err != nil:
		return backend.WrapError(backend.EINTERNAL, err, "copy the output folder")
	case copyErr != nil:
		return copyErr
	case truncated:
		return backend.Errorf(backend.EINTERNAL, "the output folder holds over %d entries, too many to copy for run_checks", lim.MaxVisited)
	}
	return nil
}

// copyFile copies rel under r to the path dst, keeping its permission bits.
func copyFile(r *os.Root, rel, dst string) error {
	in, err := r.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // gone since the walk saw it
	}
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "copy %s", rel)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "copy %s", rel)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "copy %s", rel)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "copy %s", rel)
	}
	return nil
}
