package blueprint

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"

	"factorydesk/backend"

	"github.com/goccy/go-yaml/ast"
)

// roleKeys are the keys of a role's front matter.
var roleKeys = []string{"role", "description", "skills", "model", "options", "max_turns"}

// ParseRole parses a role file, blueprints/roles/NAME.md: front matter with
// role, description, skills and an optional model; the body is the system
// prompt. It returns the role, non-nil whenever the front matter could be
// read, and all diagnostics sorted by line and column.
func ParseRole(path string, src []byte) (*backend.Role, backend.Diagnostics) {
	return ParseRoleParsed(path, src, nil)
}

// ParseRoleParsed is ParseRole for a file whose front matter the caller has
// already lexed (with CRLF line breaks read as LF), checked with
// CheckLimits and parsed into f (nil: ParseRole parses it).
func ParseRoleParsed(path string, src []byte, f *ast.File) (*backend.Role, backend.Diagnostics) {
	sum := sha256.Sum256(src)
	l := &linter{path: path, parsed: f}
	doc, err := splitDocument(src)
	if err != nil {
		l.add(pos{1, 1}, "%s", err.Error())
		return nil, l.sorted()
	}
	l.offset = doc.yamlLine - 1
	entries, ok := l.parseYAML(doc.yaml)
	if !ok {
		return nil, l.sorted()
	}
	r := &backend.Role{Path: path, Version: hex.EncodeToString(sum[:]), Prompt: strings.TrimSpace(string(doc.body))}
	namePos := decodeRole(l, r, entries)
	checkRoleName(l, r.Name, namePos, path)
	if strings.TrimSpace(r.Description) == "" {
		l.add(pos{1, 1}, "missing description: add description: <what this role produces>")
	}
	if r.Prompt == "" {
		l.add(pos{doc.bodyLine, 1}, "empty prompt: write the role's system prompt below the front matter")
	}
	return r, l.sorted()
}

// decodeRole fills r from the front matter entries and returns the position
// of the role's name.
func decodeRole(l *linter, r *backend.Role, entries []*ast.MappingValueNode) pos {
	var namePos pos
	for _, mv := range entries {
		switch key := keyName(mv); key {
		case "role":
			r.Name, _ = l.str(key, mv)
			namePos = l.valuePos(mv)
		case "description":
			r.Description, _ = l.str(key, mv)
		case "skills":
			skills, where, _ := l.strList(key, mv)
			for i, s := range skills {
				if strings.TrimSpace(s) == "" {
					l.add(where[i], "skills: empty skill: remove it or name a tool like read_file")
					continue
				}
				if !slices.Contains(backend.ToolNames, s) {
					l.add(where[i], "skills: unknown tool %q (%stools: %s)",
						s, didYouMean(s, backend.ToolNames), strings.Join(backend.ToolNames, ", "))
					continue
				}
				r.Skills = append(r.Skills, s)
			}
		case "model":
			if m, ok := l.str(key, mv); ok {
				r.Model = m
				checkModel(l, l.valuePos(mv), m)
			}
		case "options":
			r.Options = l.decodeOptions(mv)
		case "max_turns":
			r.MaxTurns = maxTurns(l, mv)
		default:
			l.unknownKey(mv, "a role", roleKeys)
		}
	}
	return namePos
}

// maxTurns decodes a max_turns value: 1 to backend.MaxMaxTurns.
func maxTurns(l *linter, mv *ast.MappingValueNode) int {
	n, ok := l.integer("max_turns", mv)
	if ok && (n < 1 || n > backend.MaxMaxTurns) {
		l.add(l.valuePos(mv), "max_turns: want 1 to %d turns of tool calls, got %d", backend.MaxMaxTurns, n)
		return 0
	}
	return n
}

// checkRoleName reports a missing or malformed role name, or one that does
// not match the file name.
func checkRoleName(l *linter, name string, at pos, path string) {
	switch {
	case name == "" && at == (pos{}):
		l.add(pos{1, 1}, "missing role: add role: <name> (the file name without .md)")
		return
	case !idPattern.MatchString(name):
		l.add(at, "role: bad name %q: use lowercase letters, digits and dashes, e.g. backend-developer", name)
		return
	}
	base := filepath.Base(path)
	if want, isMD := strings.CutSuffix(base, ".md"); isMD && want != name {
		l.add(at, "role %q does not match its file name %s: rename the file or the role", name, base)
	}
}
