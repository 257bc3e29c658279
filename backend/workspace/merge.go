package workspace

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"factorydesk/backend"
)

// MergeResult is the outcome of a three-way merge. When Clean, Content is
// the merged file; otherwise it holds the merge with conflict markers and
// Conflicts counts them, and the file on disk should be left untouched.
type MergeResult struct {
	Content   []byte `json:"content"`
	Clean     bool   `json:"clean"`
	Conflicts int    `json:"conflicts"`
}

// Merge labels, shown in conflict markers.
const (
	LabelBase   = "generated" // the content the factory last generated
	LabelOurs   = "yours"     // the file on disk, with its hand edits
	LabelTheirs = "new"       // the content the factory generates now
)

// Merge3 merges base (the last generated content), ours (the file on disk)
// and theirs (the new answer) with git merge-file, in diff3 style. It needs
// git on the PATH.
func Merge3(ctx context.Context, base, ours, theirs []byte) (MergeResult, error) {
	return Merge3Labeled(ctx, base, ours, theirs, [3]string{LabelOurs, LabelBase, LabelTheirs})
}

// Merge3Labeled is Merge3 with the conflict markers' labels of ours, base
// and theirs given.
func Merge3Labeled(ctx context.Context, base, ours, theirs []byte, labels [3]string) (MergeResult, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return MergeResult{}, backend.WrapError(backend.EUNAVAILABLE, err,
			"git is needed for three-way merges; install it with apt-get install git")
	}
	dir, err := os.MkdirTemp("", "factory-merge-")
	if err != nil {
		return MergeResult{}, backend.WrapError(backend.EINTERNAL, err, "cannot create a folder for a three-way merge")
	}
	defer os.RemoveAll(dir)
	names := make([]string, 3)
	for i, b := range [][]byte{ours, base, theirs} {
		names[i] = filepath.Join(dir, []string{"ours", "base", "theirs"}[i])
		if err := os.WriteFile(names[i], b, 0o600); err != nil {
			return MergeResult{}, backend.WrapError(backend.EINTERNAL, err, "cannot write a file for a three-way merge")
		}
	}
	cmd := exec.CommandContext(ctx, git, "merge-file", "-p", "--diff3",
		"-L", labels[0], "-L", labels[1], "-L", labels[2],
		names[0], names[1], names[2])
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return MergeResult{}, backend.WrapError(backend.ECANCELED, ctx.Err(), "three-way merge canceled")
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return MergeResult{Content: stdout.Bytes(), Clean: true}, nil
	case errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode() < 128:
		return MergeResult{Content: stdout.Bytes(), Conflicts: exit.ExitCode()}, nil
	case strings.Contains(stderr.String(), "binary"):
		return MergeResult{}, backend.Errorf(backend.EINVALID,
			"cannot merge a binary file three ways; resolve it by hand")
	}
	return MergeResult{}, backend.WrapError(backend.EINTERNAL, err,
		"git merge-file failed: %s", strings.TrimSpace(stderr.String()))
}
