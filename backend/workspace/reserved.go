package workspace

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"factorydesk/backend"
)

// ReplayDir is the one place under .factory/ where steps write: the
// scratch output folders of replays, ReplayDir/<replay run id>.
const ReplayDir = ".factory/replay"

// outputGuard checks an output folder against the workspace that holds it
// (the nearest folder up from it with a .factory/ folder): no output may be,
// or be inside, one of its reserved folders (.factory, .git, blueprints),
// but for a replay's scratch folder. top reports whether the output is the
// workspace root itself, whose files must then stay out of those folders.
func outputGuard(root string) (top bool, reason string) {
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	ws, ok := workspaceOf(root)
	if !ok {
		return false, ""
	}
	rel, err := filepath.Rel(ws, root)
	if err != nil {
		return false, ""
	}
	rel = filepath.ToSlash(rel)
	if rel == "." {
		return true, ""
	}
	if under(rel, ReplayDir) && rel != ReplayDir && !strings.Contains(strings.TrimPrefix(rel, ReplayDir+"/"), "/") {
		return false, ""
	}
	if d := backend.ReservedDir(rel); d != "" {
		return false, fmt.Sprintf("the output folder %s is inside the workspace's %s/, which no step may write", rel, d)
	}
	return false, ""
}

// workspaceOf returns the nearest folder from dir up that holds a .factory
// folder: the workspace dir belongs to.
func workspaceOf(dir string) (string, bool) {
	for d := dir; ; {
		if fi, err := os.Stat(filepath.Join(d, ".factory")); err == nil && fi.IsDir() {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

// topReason refuses a file written at a workspace's root into one of its
// reserved folders.
func topReason(rel string) string {
	if d := backend.ReservedDir(rel); d != "" {
		return fmt.Sprintf("%s/ is reserved; the factory never writes there", d)
	}
	return ""
}
