package workspace

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"factorydesk/backend"
)

// Default write limits, used when a WriteLimits field is zero.
const (
	DefaultMaxFileBytes int64 = 1 << 20
	DefaultMaxFiles           = 200
)

// WriteTempPrefix starts the names of the temporary files WriteFiles creates
// next to their targets before renaming them; watchers should ignore them.
const WriteTempPrefix = ".factory-tmp-"

// maxSegmentBytes bounds one path segment; file systems refuse longer names.
const maxSegmentBytes = 200

// reservedDirs may never be written by a step, at any depth.
var reservedDirs = []string{".git", ".factory"}

// WriteFiles validates every file first (all-or-nothing: if any is refused,
// nothing is written) and then writes each atomically (a temporary file in
// the same folder, fsync, rename) under root, the absolute path of the output
// folder, which is created if missing. writes are the step's globs; a glob
// starting with "!" excludes. Every refused file is named, with its reason,
// in one *backend.Error with code EINVALID. Nothing is ever written outside
// root: writes go through an os.Root, which refuses to follow a symlink out.
func WriteFiles(root string, files []backend.File, writes []string, limits backend.WriteLimits) ([]backend.WrittenFile, error) {
	if !filepath.IsAbs(root) {
		return nil, backend.Errorf(backend.EINVALID, "output folder %q is not an absolute path", root)
	}
	top, reason := outputGuard(root)
	if reason != "" {
		return nil, backend.Errorf(backend.EINVALID, "%s; nothing was written", reason)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "create output folder %s", root)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "open output folder %s", root)
	}
	defer r.Close()

	if err := checkFiles(r, files, writes, limits, top); err != nil {
		return nil, err
	}
	written := make([]backend.WrittenFile, 0, len(files))
	for _, f := range files {
		if err := writeAtomic(r, f.Path, f.Content); err != nil {
			return written, backend.WrapError(backend.EINTERNAL, err,
				"write %s (%d of %d files written before it)", f.Path, len(written), len(files))
		}
		sum := sha256.Sum256(f.Content)
		written = append(written, backend.WrittenFile{
			Path:   f.Path,
			SHA256: hex.EncodeToString(sum[:]),
			Size:   int64(len(f.Content)),
		})
	}
	return written, nil
}

// CheckPath reports why rel may not be written under root given the writes
// globs: an *backend.Error with code EINVALID naming the path and the reason,
// or nil when rel is allowed. It does not look at any content.
func CheckPath(root, rel string, writes []string) error {
	if !filepath.IsAbs(root) {
		return backend.Errorf(backend.EINVALID, "output folder %q is not an absolute path", root)
	}
	top, reason := outputGuard(root)
	if reason == "" {
		reason = pathReason(rel, writes)
	}
	if reason == "" && top {
		reason = topReason(rel)
	}
	if reason == "" {
		r, err := os.OpenRoot(root)
		switch {
		case err == nil:
			reason = fsReason(r, rel)
			r.Close()
		case !errors.Is(err, fs.ErrNotExist):
			return backend.WrapError(backend.EINTERNAL, err, "open output folder %s", root)
		}
	}
	if reason != "" {
		return backend.Errorf(backend.EINVALID, "%q: %s", rel, reason)
	}
	return nil
}

// checkFiles validates a whole answer and returns one error listing every
// refused file, or nil.
// top says the output folder is a workspace's root.
func checkFiles(r *os.Root, files []backend.File, writes []string, limits backend.WriteLimits, top bool) error {
	maxBytes, maxFiles := limits.MaxFileBytes, limits.MaxFiles
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFileBytes
	}
	if maxFiles <= 0 {
		maxFiles = DefaultMaxFiles
	}
	if len(files) > maxFiles {
		return backend.Errorf(backend.EINVALID,
			"the answer has %d files, over the limit of %d files per attempt; nothing was written", len(files), maxFiles)
	}
	var refused []string
	seen := make(map[string]bool, len(files))
	keys := make(map[string]string, len(files))
	for _, f := range files {
		reason := pathReason(f.Path, writes)
		if reason == "" && top {
			reason = topReason(f.Path)
		}
		switch {
		case reason != "":
		case seen[f.Path]:
			reason = "duplicate path: the answer lists this file more than once"
		default:
			if reason = contentReason(f.Content, maxBytes); reason == "" {
				reason = fsReason(r, f.Path)
			}
			if reason == "" {
				reason = collisionReason(r, f.Path, keys)
			}
		}
		seen[f.Path] = true
		if reason != "" {
			refused = append(refused, fmt.Sprintf("%q: %s", f.Path, reason))
		}
	}
	if len(refused) == 0 {
		return nil
	}
	return backend.Errorf(backend.EINVALID, "refused %d of %d files, nothing was written:\n- %s",
		len(refused), len(files), strings.Join(refused, "\n- "))
}

// pathReason checks a path's name and the step's globs; "" means allowed.
func pathReason(rel string, writes []string) string {
	if reason := nameReason(rel); reason != "" {
		return reason
	}
	for _, seg := range strings.Split(rel, "/") {
		if reason := segmentReason(seg); reason != "" {
			return reason
		}
	}
	return globReason(rel, writes)
}

// nameReason checks a path as text: relative, slash-separated, clean, printable.
func nameReason(rel string) string {
	switch {
	case rel == "":
		return "empty path"
	case !utf8.ValidString(rel):
		return "the name is not valid UTF-8"
	}
	for _, c := range rel {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			return fmt.Sprintf("control character %U in the name", c)
		}
	}
	switch {
	case rel[0] == '/' || rel[0] == '\\':
		return "absolute path; paths are relative to the output folder"
	case len(rel) >= 2 && rel[1] == ':' && isASCIILetter(rel[0]):
		return "absolute path (Windows drive); paths are relative to the output folder"
	case strings.ContainsRune(rel, '\\'):
		return `backslash in the path; separate folders with "/"`
	}
	for _, seg := range strings.Split(rel, "/") {
		switch {
		case seg == "..":
			return `".." segment: paths may not leave the output folder`
		case seg == "" || seg == ".":
			return `empty or "." segment; write a clean path like "dir/file.go"`
		case len(seg) > maxSegmentBytes:
			return fmt.Sprintf("a name segment is longer than %d bytes", maxSegmentBytes)
		}
		for _, d := range reservedDirs {
			if strings.EqualFold(seg, d) {
				return fmt.Sprintf("%s/ is reserved; the factory never writes there", d)
			}
		}
	}
	return ""
}

func isASCIILetter(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }

// globReason checks rel against the writes globs: at least one positive glob
// must match and no "!" glob.
func globReason(rel string, writes []string) string {
	var positive []string
	matched := false
	for _, g := range writes {
		pattern, exclude := strings.CutPrefix(g, "!")
		ok, err := doublestar.Match(pattern, rel)
		if err != nil {
			return fmt.Sprintf("the step's writes glob %q is malformed", g)
		}
		if exclude {
			if ok {
				return fmt.Sprintf("excluded by the step's writes glob %q", g)
			}
			continue
		}
		positive = append(positive, g)
		matched = matched || ok
	}
	switch {
	case len(positive) == 0:
		return "the step declares no writes globs, so it may not write any file"
	case !matched:
		return fmt.Sprintf("outside the step's writes globs (%s)", strings.Join(positive, ", "))
	}
	return ""
}

// contentReason checks a file's content: size, UTF-8, no NUL bytes.
func contentReason(content []byte, maxBytes int64) string {
	switch {
	case int64(len(content)) > maxBytes:
		return fmt.Sprintf("content is %d bytes, over the limit of %d bytes per file", len(content), maxBytes)
	case !utf8.Valid(content):
		return "content is not valid UTF-8 text"
	case strings.IndexByte(string(content), 0) >= 0:
		return "content contains NUL bytes; only text files may be written"
	}
	return ""
}

// fsReason checks what already exists on disk along rel: no parent may be a
// symlink leading out of the output folder (or dangling), every parent must
// be a folder, and the target, if present, must be a regular file.
func fsReason(r *os.Root, rel string) string {
	segs := strings.Split(rel, "/")
	for i := 1; i < len(segs); i++ {
		p := strings.Join(segs[:i], "/")
		fi, err := r.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		if err != nil {
			return fmt.Sprintf("parent %q cannot be inspected: %v", p, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if fi, err = r.Stat(p); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Sprintf("parent %q is a dangling symlink", p)
				}
				return fmt.Sprintf("parent %q is a symlink that leads outside the output folder", p)
			}
		}
		if !fi.IsDir() {
			return fmt.Sprintf("parent %q exists and is not a folder", p)
		}
	}
	fi, err := r.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ""
	case err != nil:
		return fmt.Sprintf("cannot be inspected: %v", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return "the target is a symlink; the factory never writes through symlinks"
	case fi.IsDir():
		return "the target is an existing folder"
	case !fi.Mode().IsRegular():
		return "the target exists and is not a regular file"
	}
	return ""
}

// writeAtomic writes data to rel under r: a temporary file in the same
// folder, fsync, rename over the target, fsync of the folder. An existing
// file keeps its permission bits.
func writeAtomic(r *os.Root, rel string, data []byte) error {
	dir := path.Dir(rel)
	if dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	perm := fs.FileMode(0o644)
	if fi, err := r.Lstat(rel); err == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm()
	}
	tmp, f, err := createTemp(r, dir)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, rel)
	}
	if err != nil {
		_ = r.Remove(tmp)
		return err
	}
	return syncDir(r, dir)
}

// createTemp creates a new, uniquely named file in dir under r.
func createTemp(r *os.Root, dir string) (string, *os.File, error) {
	for range 10 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		name := path.Join(dir, WriteTempPrefix+hex.EncodeToString(b[:]))
		f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
	return "", nil, fmt.Errorf("could not create a temporary file in %s", dir)
}

// syncDir flushes a folder's entries (the rename) to disk. Windows cannot
// sync a folder handle; NTFS journals the rename itself.
func syncDir(r *os.Root, dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := r.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
