package blueprint

import (
	"path"
	"strings"

	"factorydesk/backend"

	"github.com/bmatcuk/doublestar/v4"
)

// checkReserved reports an output folder inside a reserved workspace folder
// (.factory, .git, blueprints), and, when the output is the workspace root,
// each writes glob that could reach into one.
func (c *checker) checkReserved() {
	out := path.Clean(strings.ReplaceAll(c.bp.Output, `\`, "/"))
	if c.bp.Output == "" || path.IsAbs(out) || hasDotDot(out) {
		return
	}
	for _, seg := range strings.Split(out, "/") {
		if d := backend.ReservedDir(seg); d == ".factory" || d == ".git" {
			c.add(c.outputPos, "output: %q is inside %s/, which no step may write: use a folder like out/%s", c.bp.Output, d, c.bp.ID)
			return
		}
	}
	if d := backend.ReservedDir(out); d != "" {
		c.add(c.outputPos, "output: %q is inside %s/, which no step may write: use a folder like out/%s", c.bp.Output, d, c.bp.ID)
		return
	}
	for i, s := range c.bp.Steps {
		for k, g := range s.Writes {
			if strings.HasPrefix(g, "!") || k >= len(c.steps[i].writes) {
				continue
			}
			if d := namesHidden(g); d != "" {
				c.add(c.steps[i].writes[k], "writes: %q names %s/, which no step may write", g, d)
			} else if d := reachesReserved(g); out == "." && d != "" {
				c.add(c.steps[i].writes[k], "writes: %q could write into %s/ (the output is the workspace root), which no step may write: narrow it, e.g. src/%s, or set output to a folder", g, d, g)
			}
		}
	}
}

// namesHidden returns .factory or .git when a glob names one as a folder
// at any depth (the writer refuses them anywhere), or "".
func namesHidden(glob string) string {
	segs := strings.Split(glob, "/")
	for _, seg := range segs[:len(segs)-1] {
		if d := backend.ReservedDir(seg); d == ".factory" || d == ".git" {
			return d
		}
	}
	return ""
}

// reachesReserved returns a reserved folder that a writes glob, relative to
// the workspace root, could write into, or "".
func reachesReserved(glob string) string {
	first, _, _ := strings.Cut(glob, "/")
	for _, d := range backend.ReservedDirs() {
		if first == "**" {
			return d
		}
		if ok, _ := doublestar.Match(strings.ToLower(first), d); ok {
			return d
		}
	}
	return ""
}
