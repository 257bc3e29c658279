package bundle

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"factorydesk/backend"
)

var (
	runIDPattern  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	spanIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)
	hashPattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	replayOutput  = regexp.MustCompile(`^\.factory/replay/[0-9a-f]{32}$`)
)

// MaxBlobBytes bounds one blob of a bundle: a prompt, an answer, a file.
const MaxBlobBytes = 16 << 20

// validate checks what a bundle says about its run before anything of it
// is kept: ids of the right form, an output folder and file paths that
// stay inside the workspace and out of its reserved folders, spans of this
// run only, and blobs the record names.
func validate(b *backend.RunBundle) error {
	r := b.Detail.Run
	if !runIDPattern.MatchString(r.ID) {
		return damaged(nil, "its run id %q is not 32 hex digits", r.ID)
	}
	if r.ParentID != "" && !runIDPattern.MatchString(r.ParentID) {
		return damaged(nil, "its parent run id %q is not 32 hex digits", r.ParentID)
	}
	if reason := outputReason(r.Output); reason != "" {
		return damaged(nil, "its output folder %q %s", r.Output, reason)
	}
	named := map[string]bool{}
	for _, a := range b.Detail.Artifacts {
		if reason := relReason(a.Path); reason != "" {
			return damaged(nil, "its file %q %s", a.Path, reason)
		}
		if !hashPattern.MatchString(a.SHA256) || int64(len(b.Blobs[a.SHA256])) != a.Size || b.Blobs[a.SHA256] == nil && a.Size > 0 {
			return damaged(nil, "its file %s does not match the blob it names", a.Path)
		}
		named[a.SHA256] = true
	}
	for _, c := range b.Detail.Calls {
		named[c.PromptHash], named[c.AnswerHash] = true, true
	}
	for _, h := range b.Roles {
		named[h] = true
	}
	for h, data := range b.Blobs {
		switch {
		case !named[h]:
			return damaged(nil, "it holds blob %s that its record never names", h)
		case len(data) > MaxBlobBytes:
			return damaged(nil, "blob %s is %d bytes, over the limit of %d", h, len(data), MaxBlobBytes)
		}
	}
	for _, s := range b.Spans {
		if s.TraceID != r.ID || !spanIDPattern.MatchString(s.SpanID) || (s.ParentID != "" && !spanIDPattern.MatchString(s.ParentID)) {
			return damaged(nil, "span %q belongs to trace %q, not to its run %s", s.SpanID, s.TraceID, r.ID)
		}
	}
	for _, k := range b.StepKeys {
		if k.SourceRun != "" && !runIDPattern.MatchString(k.SourceRun) {
			return damaged(nil, "the cache key of step %s names run %q", k.StepID, k.SourceRun)
		}
	}
	return nil
}

// outputReason says why a run's output folder may not be trusted: it must
// be a relative path inside the workspace and outside its reserved folders
// (but a replay's scratch folder); "" when it is fine.
func outputReason(out string) string {
	if out == "." {
		return ""
	}
	if reason := relReason(out); reason != "" {
		return reason
	}
	if d := backend.ReservedDir(out); d != "" && !replayOutput.MatchString(out) {
		return fmt.Sprintf("is inside the workspace's %s/", d)
	}
	return ""
}

// relReason says why p is not a clean relative slash path: absolute, a
// ".." or empty segment, a backslash, a control character; "" when clean.
func relReason(p string) string {
	switch {
	case p == "":
		return "is empty"
	case strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':'):
		return "is absolute"
	case strings.ContainsRune(p, '\\'):
		return "has a backslash"
	case strings.IndexFunc(p, unicode.IsControl) >= 0:
		return "has a control character"
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Sprintf("has a %q segment", seg)
		}
	}
	return ""
}
