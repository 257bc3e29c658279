package workspace

import (
	"path"
	"strings"
)

// BlueprintsDir is the workspace folder holding blueprints and, under
// roles/, the role library.
const BlueprintsDir = "blueprints"

// ignoredDirs are folder names never watched, at any depth.
var ignoredDirs = map[string]bool{
	".factory":     true,
	".git":         true,
	"node_modules": true,
}

// Ignored reports whether rel, a slash-separated path relative to the
// workspace root, is outside what the watcher looks at: the factory's own
// folder, version control and dependency folders, and the temporary files of
// atomic writes and editors.
func Ignored(rel string) bool {
	rel = path.Clean(rel)
	if rel == "." || rel == "" {
		return false
	}
	for _, seg := range strings.Split(rel, "/") {
		if ignoredDirs[seg] {
			return true
		}
	}
	return TempName(path.Base(rel))
}

// TempName reports whether a file name is a temporary file: one the factory's
// atomic writes create before renaming it over its target, or one an editor
// keeps next to the file it edits (vim swap and backup files, emacs locks and
// auto-saves, JetBrains safe-write files).
func TempName(name string) bool {
	switch {
	case name == "4913": // vim's check that the folder is writable
		return true
	case strings.HasSuffix(name, "~"):
		return true
	case strings.HasPrefix(name, ".#"):
		return true
	case len(name) > 2 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"):
		return true
	case strings.HasSuffix(name, "___jb_tmp___"), strings.HasSuffix(name, "___jb_old___"):
		return true
	case isAtomicWriteTemp(name):
		return true
	}
	switch path.Ext(name) {
	case ".swp", ".swo", ".swx", ".kate-swp":
		return true
	}
	return false
}

// IsBlueprint reports whether rel, a slash-separated path relative to the
// workspace root, is a blueprint or a role file: a Markdown file under
// blueprints/.
func IsBlueprint(rel string) bool {
	rel = path.Clean(rel)
	return strings.HasPrefix(rel, BlueprintsDir+"/") &&
		strings.EqualFold(path.Ext(rel), ".md") &&
		!Ignored(rel)
}

// inBlueprints reports whether rel is the blueprints folder or inside it.
func inBlueprints(rel string) bool {
	rel = path.Clean(rel)
	return rel == BlueprintsDir || strings.HasPrefix(rel, BlueprintsDir+"/")
}

// under reports whether rel is dir itself or inside it (both slash-separated
// and relative to the workspace root; "." is the root).
func under(rel, dir string) bool {
	if dir == "." || dir == "" {
		return true
	}
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// isAtomicWriteTemp reports whether name is a temporary file of the
// factory's atomic writes (see WriteFiles), renamed over its target once
// written.
func isAtomicWriteTemp(name string) bool {
	return strings.HasPrefix(name, WriteTempPrefix)
}
