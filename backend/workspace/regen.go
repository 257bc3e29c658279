package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"factorydesk/backend"
)

// ConflictsDir is the folder, relative to the workspace root, where the
// conflicted versions of regenerated files are kept, under the run's id and
// the file's workspace path.
const ConflictsDir = ".factory/conflicts"

// Regeneration is what a step would write: the answer's files, relative to
// the output folder.
type Regeneration struct {
	Workspace string         // absolute workspace root
	Output    string         // the output folder, relative to the workspace root
	RunID     string         // names the folder of conflict files
	Files     []backend.File // the new answer
}

// Regenerated is the answer after merging: Files to write (in the answer's
// order) and, for each merged path, its parents (the hashes of the content
// on disk and of the new answer).
type Regenerated struct {
	Files   []backend.File
	Parents map[string][]string
}

// Conflict is one file whose hand edit and new answer change the same lines.
type Conflict struct {
	Path      string `json:"path"`       // relative to the output folder
	File      string `json:"file"`       // the conflicted version, relative to the workspace root
	Conflicts int    `json:"conflicts"`  // conflict regions (0 for a file that cannot be merged)
	Reason    string `json:"reason"`     // for the operator
	OursSHA   string `json:"ours_sha"`   // the content left on disk
	TheirsSHA string `json:"theirs_sha"` // the new answer
}

// ConflictError is returned when regeneration would change lines a hand
// edit changed: nothing was written, the files on disk are untouched, and
// each conflicted version is kept with markers under ConflictsDir. Its code
// is backend.ECONFLICT; the engine detects it with AsConflict.
type ConflictError struct {
	Conflicts []Conflict
}

// Error names every conflict and where its marked-up version is.
func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		parts[i] = fmt.Sprintf("merge conflict in %s: %s; see %s", c.Path, c.Reason, c.File)
	}
	return strings.Join(parts, "\n") +
		"\nthe files on disk were left as they are; resolve the conflicts by hand (or accept or revert the drift) and run the step again"
}

// Unwrap gives the error its code, backend.ECONFLICT.
func (e *ConflictError) Unwrap() error {
	return &backend.Error{Code: backend.ECONFLICT, Message: "merge conflict"}
}

// AsConflict returns the *ConflictError in err's chain, if any.
func AsConflict(err error) (*ConflictError, bool) {
	var ce *ConflictError
	ok := errors.As(err, &ce)
	return ce, ok
}

// Merge prepares an answer for writing without losing a hand edit. For each
// file whose path has content on disk that differs from what the factory
// last generated there (gen's base; a file the factory never generated has
// an empty base), it merges three ways: base = last generated, ours = disk,
// theirs = new answer. A clean merge replaces the answer's content. If any
// file conflicts, nothing is to be written: the conflicted versions are kept
// under ConflictsDir and a *ConflictError names them. Files whose path would
// be refused by WriteFiles are passed through unchanged for it to refuse.
// Merge never writes to the output folder.
func Merge(ctx context.Context, gen backend.Generated, r Regeneration) (Regenerated, error) {
	out := Regenerated{Files: make([]backend.File, len(r.Files)), Parents: map[string][]string{}}
	copy(out.Files, r.Files)
	if gen == nil || len(r.Files) == 0 {
		return out, nil
	}
	outDir := filepath.Join(r.Workspace, filepath.FromSlash(r.Output))
	root, err := os.OpenRoot(outDir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil // nothing on disk yet
	}
	if err != nil {
		return out, backend.WrapError(backend.EINTERNAL, err, "open output folder %s", outDir)
	}
	defer root.Close()

	seen := map[string]string{} // path -> sha256 of the disk content merged with
	var conflicts []conflicted
	for i, f := range r.Files {
		ours, exists, skip := readOurs(root, f.Path)
		if skip || !exists || bytes.Equal(ours, f.Content) {
			continue
		}
		wpath := workspacePath(r.Output, f.Path)
		base, _, err := gen.GeneratedContent(ctx, wpath)
		if err != nil {
			return out, backend.WrapError(backend.ErrorCode(err), err, "read the generated content of %s", wpath)
		}
		if bytes.Equal(ours, base) {
			continue // not edited by hand: the new answer replaces it
		}
		seen[f.Path] = HashBytes(ours)
		res, err := Merge3(ctx, base, ours, f.Content)
		if backend.ErrorCode(err) == backend.EINVALID { // binary: cannot merge
			conflicts = append(conflicts, conflicted{file: f, ours: ours, content: f.Content,
				reason: "the file on disk is not text and cannot be merged"})
			continue
		}
		if err != nil {
			return out, err
		}
		if !res.Clean {
			conflicts = append(conflicts, conflicted{file: f, ours: ours, content: res.Content, n: res.Conflicts,
				reason: "your edit and the new answer change the same lines"})
			continue
		}
		out.Files[i].Content = res.Content
		out.Parents[f.Path] = []string{seen[f.Path], HashBytes(f.Content)}
	}
	if len(conflicts) > 0 {
		return Regenerated{}, keepConflicts(r, conflicts)
	}
	if err := checkUnchanged(root, seen); err != nil {
		return Regenerated{}, err
	}
	return out, nil
}

// conflicted is a file that could not be merged, before it is kept.
type conflicted struct {
	file    backend.File
	ours    []byte
	content []byte // with conflict markers (or the new answer, for a binary file)
	n       int
	reason  string
}

// readOurs reads the file at rel under the output folder. skip is true when
// rel is not a path WriteFiles would write (it refuses it itself).
func readOurs(root *os.Root, rel string) (data []byte, exists, skip bool) {
	if nameReason(rel) != "" || fsReason(root, rel) != "" {
		return nil, false, true
	}
	data, err := root.ReadFile(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, false
	}
	if err != nil {
		return nil, false, true
	}
	return data, true, false
}

// checkUnchanged makes sure no file merged with changed on disk during the
// merge: a hand edit made meanwhile must not be overwritten.
func checkUnchanged(root *os.Root, seen map[string]string) error {
	for rel, sum := range seen {
		data, err := root.ReadFile(rel)
		if err != nil || HashBytes(data) != sum {
			return &ConflictError{Conflicts: []Conflict{{Path: rel, File: "(none)", OursSHA: sum,
				Reason: "the file changed on disk while it was being merged; nothing was written"}}}
		}
	}
	return nil
}

// keepConflicts writes each conflicted version under ConflictsDir/<run>/
// (atomically, so a crash leaves no half file) and returns the error naming
// them.
func keepConflicts(r Regeneration, cs []conflicted) error {
	dir := filepath.Join(r.Workspace, filepath.FromSlash(ConflictsDir), safeSegment(r.RunID))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "create %s", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "open %s", dir)
	}
	defer root.Close()
	ce := &ConflictError{}
	for _, c := range cs {
		wpath := workspacePath(r.Output, c.file.Path)
		if err := writeAtomic(root, wpath, c.content); err != nil {
			return backend.WrapError(backend.EINTERNAL, err, "keep the conflicted version of %s", wpath)
		}
		ce.Conflicts = append(ce.Conflicts, Conflict{
			Path: c.file.Path, File: path.Join(ConflictsDir, safeSegment(r.RunID), wpath), Conflicts: c.n,
			Reason: c.reason, OursSHA: HashBytes(c.ours), TheirsSHA: HashBytes(c.file.Content),
		})
	}
	return ce
}

// workspacePath is the workspace-relative path of rel in the output folder.
func workspacePath(output, rel string) string {
	return path.Join(path.Clean(filepath.ToSlash(output)), rel)
}

// WorkspacePath is the path, relative to the workspace root, of the file rel
// of the output folder output (itself relative to the workspace root): the
// manifest's key for it.
func WorkspacePath(output, rel string) string { return workspacePath(output, rel) }

// safeSegment makes a run id usable as one folder name.
func safeSegment(s string) string {
	if s == "" {
		return "unknown-run"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '.' || r < 0x20 {
			return '_'
		}
		return r
	}, s)
}
