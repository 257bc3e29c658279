package workspace

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"factorydesk/backend"
)

// CheckName reports why rel, a path a model named relative to the output
// folder, may not be read or written, by its name alone and by the same
// rules as writes: an *backend.Error with code EINVALID, or nil. It refuses
// absolute paths, "..", backslashes, control characters, and anything under
// .git/ or .factory/.
func CheckName(rel string) error {
	if reason := nameReason(rel); reason != "" {
		return backend.Errorf(backend.EINVALID, "%q: %s", rel, reason)
	}
	return nil
}

// CheckGlob reports why a glob a model gave, relative to the output folder,
// may not be used to find files: the rules of CheckName for its text, and a
// well-formed doublestar pattern.
func CheckGlob(glob string) error {
	if reason := nameReason(glob); reason != "" {
		return backend.Errorf(backend.EINVALID, "glob %q: %s", glob, reason)
	}
	if !doublestar.ValidatePattern(glob) {
		return backend.Errorf(backend.EINVALID, "glob %q is malformed (unclosed [ or {?)", glob)
	}
	return nil
}

// Hidden reports whether a path relative to the output folder is one no
// tool shows: under .git/ or .factory/ (at any depth, any case), or a
// temporary file of an atomic write or an editor.
func Hidden(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		for _, d := range reservedDirs {
			if strings.EqualFold(seg, d) {
				return true
			}
		}
	}
	i := strings.LastIndexByte(rel, '/')
	return TempName(rel[i+1:])
}

// Escapes reports whether err, from an os.Root, means the path led out of
// the root (through a symlink or otherwise).
func Escapes(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes")
}

// Writable reports whether rel matches a step's writes globs: at least
// one glob and no "!" glob.
func Writable(rel string, writes []string) bool {
	return globReason(rel, writes) == ""
}
