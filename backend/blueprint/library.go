package blueprint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"factorydesk/backend"
)

// Library is a workspace's blueprints and roles.
type Library struct {
	Dir         string                   // the workspace root
	Blueprints  []*backend.Blueprint     // every blueprint whose front matter could be read, by path
	Roles       map[string]*backend.Role // roles by name
	Diagnostics backend.Diagnostics      // all problems of all files, by path, line and column
}

// Load reads DIR/blueprints/*.md and DIR/blueprints/roles/*.md. Paths in
// the library and its diagnostics are relative to DIR, like
// blueprints/hello.md. A workspace without a blueprints folder gives an empty
// library. The error is only for I/O failures (ENOTFOUND when DIR does not
// exist).
func Load(workspaceDir string) (*Library, error) {
	info, err := os.Stat(workspaceDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, backend.Errorf(backend.ENOTFOUND, "workspace %s does not exist", workspaceDir)
	case err != nil:
		return nil, backend.WrapError(backend.EINTERNAL, err, "open workspace %s", workspaceDir)
	case !info.IsDir():
		return nil, backend.Errorf(backend.EINVALID, "workspace %s is not a folder", workspaceDir)
	}
	lib := &Library{Dir: workspaceDir, Roles: map[string]*backend.Role{}}
	if err := lib.loadRoles(); err != nil {
		return nil, err
	}
	if err := lib.loadBlueprints(); err != nil {
		return nil, err
	}
	sort.SliceStable(lib.Diagnostics, func(i, j int) bool {
		a, b := lib.Diagnostics[i], lib.Diagnostics[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return lib, nil
}

// LoadRoles reads the role library of the workspace at workspaceDir,
// blueprints/roles/*.md, by name; a role whose front matter cannot be
// read is left out.
func LoadRoles(workspaceDir string) (map[string]*backend.Role, error) {
	lib := &Library{Dir: workspaceDir, Roles: map[string]*backend.Role{}}
	if err := lib.loadRoles(); err != nil {
		return nil, err
	}
	return lib.Roles, nil
}

// files returns the workspace-relative slash paths of the files matching
// pattern (relative to the workspace), sorted, with their contents.
func (l *Library) files(pattern string) ([]string, [][]byte, error) {
	matches, err := filepath.Glob(filepath.Join(l.Dir, filepath.FromSlash(pattern)))
	if err != nil {
		return nil, nil, backend.WrapError(backend.EINTERNAL, err, "list %s", pattern)
	}
	sort.Strings(matches)
	var paths []string
	var srcs [][]byte
	for _, m := range matches {
		if info, err := os.Stat(m); err == nil && !info.Mode().IsRegular() {
			continue
		}
		src, err := ReadSource(m)
		if err != nil {
			return nil, nil, backend.WrapError(backend.EINTERNAL, err, "read %s", m)
		}
		rel, err := filepath.Rel(l.Dir, m)
		if err != nil {
			return nil, nil, backend.WrapError(backend.EINTERNAL, err, "read %s", m)
		}
		paths = append(paths, filepath.ToSlash(rel))
		srcs = append(srcs, src)
	}
	return paths, srcs, nil
}

// loadRoles parses blueprints/roles/*.md.
func (l *Library) loadRoles() error {
	paths, srcs, err := l.files("blueprints/roles/*.md")
	if err != nil {
		return err
	}
	for i, p := range paths {
		r, diags := ParseRole(p, srcs[i])
		l.Diagnostics = append(l.Diagnostics, diags...)
		if r == nil || r.Name == "" {
			continue
		}
		if prev, dup := l.Roles[r.Name]; dup {
			l.Diagnostics = append(l.Diagnostics, backend.Diagnostic{Path: p, Line: 1, Col: 1,
				Message: fmt.Sprintf("duplicate role %q (also in %s): rename one", r.Name, prev.Path)})
			continue
		}
		l.Roles[r.Name] = r
	}
	return nil
}

// loadBlueprints parses blueprints/*.md against the loaded roles.
func (l *Library) loadBlueprints() error {
	paths, srcs, err := l.files("blueprints/*.md")
	if err != nil {
		return err
	}
	byID := map[string]string{}
	for i, p := range paths {
		bp, diags, idPos := parse(p, srcs[i], l.Roles)
		l.Diagnostics = append(l.Diagnostics, diags...)
		if bp == nil {
			continue
		}
		if prev, dup := byID[bp.ID]; dup && bp.ID != "" {
			l.Diagnostics = append(l.Diagnostics, backend.Diagnostic{Path: p, Line: idPos.line, Col: idPos.col,
				Message: fmt.Sprintf("duplicate blueprint id %q (also in %s): give each blueprint its own id", bp.ID, prev)})
		} else {
			byID[bp.ID] = p
		}
		l.Blueprints = append(l.Blueprints, bp)
	}
	return nil
}

// DiagnosticsFor returns the diagnostics of one file of the library, by its
// workspace-relative path.
func (l *Library) DiagnosticsFor(path string) backend.Diagnostics {
	var out backend.Diagnostics
	for _, d := range l.Diagnostics {
		if d.Path == path {
			out = append(out, d)
		}
	}
	return out
}

// Find returns a blueprint of the library by id, or by file path relative
// to the current directory, the workspace or its blueprints folder. A
// blueprint with diagnostics is returned too; see DiagnosticsFor. Anything
// else is ENOTFOUND, with the known ids listed.
func (l *Library) Find(idOrPath string) (*backend.Blueprint, error) {
	for _, bp := range l.Blueprints {
		if bp.ID == idOrPath && bp.ID != "" {
			return bp, nil
		}
	}
	for _, want := range l.candidates(idOrPath) {
		for _, bp := range l.Blueprints {
			if samePath(want, filepath.Join(l.Dir, filepath.FromSlash(bp.Path))) {
				return bp, nil
			}
		}
	}
	ids := make([]string, 0, len(l.Blueprints))
	for _, bp := range l.Blueprints {
		if bp.ID != "" {
			ids = append(ids, bp.ID)
		}
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return nil, backend.Errorf(backend.ENOTFOUND, "blueprint %q not found: the workspace has no blueprints in blueprints/ (factory init creates examples)", idOrPath)
	}
	return nil, backend.Errorf(backend.ENOTFOUND, "blueprint %q not found (known: %s)", idOrPath, strings.Join(ids, ", "))
}

// candidates returns the absolute paths a blueprint path may mean.
func (l *Library) candidates(p string) []string {
	if p == "" {
		return nil
	}
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return []string{filepath.Clean(p)}
	}
	var out []string
	for _, base := range []string{"", l.Dir, filepath.Join(l.Dir, "blueprints")} {
		if abs, err := filepath.Abs(filepath.Join(base, p)); err == nil {
			out = append(out, abs)
		}
	}
	return out
}

// samePath reports whether the absolute path want and the path have name the
// same file, through symbolic links too.
func samePath(want, have string) bool {
	if abs, err := filepath.Abs(have); err == nil && abs == want {
		return true
	}
	a, errA := os.Stat(want)
	b, errB := os.Stat(have)
	return errA == nil && errB == nil && os.SameFile(a, b)
}

// ReadSource reads a blueprint or role file, at most MaxFileBytes+1 bytes
// of it: enough for Parse to say it is too large, without holding a huge
// file in memory.
func ReadSource(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
}

// Holds reports whether rel, a slash-separated path relative to the
// workspace, is a file Load reads: blueprints/*.md or blueprints/roles/*.md.
func Holds(rel string) bool {
	for _, pattern := range []string{"blueprints/*.md", "blueprints/roles/*.md"} {
		if ok, _ := path.Match(pattern, rel); ok {
			return true
		}
	}
	return false
}
