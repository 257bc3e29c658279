package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// openRoot opens the output folder; ok is false when it does not exist yet.
func openRoot(env *Env) (*os.Root, bool, error) {
	r, err := os.OpenRoot(env.Root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, backend.WrapError(backend.EINTERNAL, err, "open the output folder")
	}
	return r, true, nil
}

// entry is a regular file found under the output folder.
type entry struct {
	path string
	size int64
}

// walk calls fn for each regular file under r whose path matches glob and
// is in view (env nil: every file), in lexical order, never following a
// symlink and skipping hidden paths. It
// stops after visiting max entries (truncated is then true) or when fn
// returns false.
func walk(ctx context.Context, env *Env, r *os.Root, glob string, maxVisit int, fn func(entry) bool) (truncated bool, err error) {
	visited := 0
	stop := errors.New("stop")
	err = fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an entry that vanished or cannot be read is left out
		}
		if p == "." {
			return nil
		}
		if visited++; visited > maxVisit {
			truncated = true
			return stop
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if workspace.Hidden(p) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil // folders are walked into; symlinks and devices are not files here
		}
		if ok, _ := doublestar.Match(glob, p); !ok || (env != nil && env.excluded(p)) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if !fn(entry{path: p, size: info.Size()}) {
			return stop
		}
		return nil
	})
	if errors.Is(err, stop) {
		err = nil
	}
	return truncated, err
}

// globArg checks a glob argument, "" meaning every file.
func globArg(glob string) (string, error) {
	if glob == "" {
		return "**", nil
	}
	if err := workspace.CheckGlob(glob); err != nil {
		return "", err
	}
	return glob, nil
}

type listFilesArgs struct {
	Glob string `json:"glob"`
}

// listFiles answers the paths and sizes of the files matching a glob.
func listFiles(ctx context.Context, env *Env, a listFilesArgs) (string, error) {
	glob, err := globArg(a.Glob)
	if err != nil {
		return "", err
	}
	lim := env.Limits.withDefaults()
	r, ok, err := openRoot(env)
	if err != nil || !ok {
		return "the output folder is empty: no step has written a file yet", err
	}
	defer r.Close()
	var found []entry
	more := false
	truncated, err := walk(ctx, env, r, glob, lim.MaxVisited, func(e entry) bool {
		if len(found) == lim.MaxListed {
			more = true
			return false
		}
		found = append(found, e)
		return true
	})
	if err != nil {
		return "", backend.WrapError(backend.EINTERNAL, err, "list the output folder")
	}
	var b strings.Builder
	if len(found) == 0 {
		fmt.Fprintf(&b, "no file under the output folder matches %q", glob)
	} else {
		fmt.Fprintf(&b, "files under the output folder matching %q (path, bytes):\n", glob)
	}
	for _, e := range found {
		fmt.Fprintf(&b, "%s\t%d\n", e.path, e.size)
	}
	switch {
	case more:
		fmt.Fprintf(&b, "[only the first %d files are shown; narrow the glob]\n", lim.MaxListed)
	case truncated:
		fmt.Fprintf(&b, "[the listing stopped after %d entries; narrow the glob]\n", lim.MaxVisited)
	}
	return b.String(), nil
}

type readFileArgs struct {
	Path     string `json:"path"`
	FromLine int    `json:"from_line"`
	ToLine   int    `json:"to_line"`
}

// readText reads a text file under the output folder: the path is checked
// by the write rules, the file must be regular, within MaxFileBytes, UTF-8
// and free of NUL bytes. A refusal is EINVALID, a missing file ENOTFOUND.
func readText(env *Env, rel string) (string, error) {
	if err := workspace.CheckName(rel); err != nil {
		return "", err
	}
	if env.excluded(rel) {
		return "", backend.Errorf(backend.EINVALID,
			"%q is not for this step to read: this step, or one that does not come before it, writes it", rel)
	}
	lim := env.Limits.withDefaults()
	r, ok, err := openRoot(env)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", backend.Errorf(backend.ENOTFOUND, "%q does not exist: the output folder is empty", rel)
	}
	defer r.Close()
	f, err := r.Open(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", backend.Errorf(backend.ENOTFOUND, "%q does not exist; list_files shows what does", rel)
	case workspace.Escapes(err):
		return "", backend.Errorf(backend.EINVALID, "%q leads outside the output folder (a symlink); it cannot be read", rel)
	case err != nil:
		return "", backend.WrapError(backend.EINVALID, err, "%q cannot be read", rel)
	}
	defer f.Close()
	info, err := f.Stat()
	switch {
	case err != nil:
		return "", backend.WrapError(backend.EINTERNAL, err, "%q cannot be read", rel)
	case info.IsDir():
		return "", backend.Errorf(backend.EINVALID, "%q is a folder; list_files shows what is in it", rel)
	case !info.Mode().IsRegular():
		return "", backend.Errorf(backend.EINVALID, "%q is not a regular file", rel)
	case info.Size() > lim.MaxFileBytes:
		return "", backend.Errorf(backend.EINVALID, "%q is %d bytes, over the limit of %d bytes a tool reads", rel, info.Size(), lim.MaxFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, lim.MaxFileBytes+1))
	switch {
	case err != nil:
		return "", backend.WrapError(backend.EINTERNAL, err, "%q cannot be read", rel)
	case int64(len(data)) > lim.MaxFileBytes:
		return "", backend.Errorf(backend.EINVALID, "%q is over the limit of %d bytes a tool reads", rel, lim.MaxFileBytes)
	case !isText(data):
		return "", backend.Errorf(backend.EINVALID, "%q is a binary file (not UTF-8 text); only text files can be read", rel)
	}
	return string(data), nil
}

// isText reports whether data is UTF-8 without NUL bytes.
func isText(data []byte) bool {
	return utf8.Valid(data) && !strings.ContainsRune(string(data), 0)
}

// readFile answers a file's lines, numbered, within the result limit.
func readFile(_ context.Context, env *Env, a readFileArgs) (string, error) {
	text, err := readText(env, a.Path)
	if err != nil {
		return "", err
	}
	lines := strings.SplitAfter(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	from, to := max(a.FromLine, 1), a.ToLine
	if to == 0 || to > len(lines) {
		to = len(lines)
	}
	if len(lines) == 0 {
		return fmt.Sprintf("%s is empty (0 lines)\n", a.Path), nil
	}
	if from > to {
		return "", backend.Errorf(backend.EINVALID, "%s has %d lines; from_line %d is past to_line %d", a.Path, len(lines), from, to)
	}
	budget := env.Limits.withDefaults().MaxResultBytes - 200
	var b strings.Builder
	last := from - 1
	for i := from; i <= to; i++ {
		line := fmt.Sprintf("%d\t%s", i, lines[i-1])
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		if b.Len()+len(line) > budget && i > from {
			break
		}
		b.WriteString(line)
		last = i
	}
	head := fmt.Sprintf("%s: lines %d-%d of %d\n", a.Path, from, last, len(lines))
	if last < to {
		return head + b.String() + fmt.Sprintf("[cut at line %d; read on with from_line %d]\n", last, last+1), nil
	}
	return head + b.String(), nil
}
