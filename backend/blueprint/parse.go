// Package blueprint parses and lints blueprint files (format v1) and role
// files, and loads a workspace's library of both.
//
// A blueprint is Markdown with YAML front matter: the front matter says how
// to build (scope, model, steps, checks, secrets, budget), the body says what
// to build, in sections. Every problem is reported as a diagnostic at the
// file position of the offending key or value, all of them at once.
package blueprint

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path"
	"strings"
	"time"

	"factorydesk/backend"

	"github.com/goccy/go-yaml/ast"
)

// blueprintKeys are the keys of a blueprint's front matter.
var blueprintKeys = []string{
	"blueprint", "title", "scope", "model", "options", "output", "secrets", "budget",
	"timeout", "sandbox", "env", "max_turns", "steps", "checks",
}

// budgetKeys are the keys of a blueprint's budget.
var budgetKeys = []string{"max_tokens", "max_calls", "max_minutes"}

// Sandbox modes of the gates.
var sandboxModes = []string{"auto", "required", "off"}

// Parse parses and lints one blueprint file. roles maps role name to role
// (nil: skip role checks). It returns the blueprint, non-nil whenever the
// front matter could be read even with diagnostics, and all diagnostics at
// once, sorted by line and column.
func Parse(path string, src []byte, roles map[string]*backend.Role) (*backend.Blueprint, backend.Diagnostics) {
	bp, diags, _ := parse(path, src, roles)
	return bp, diags
}

// ParseParsed is Parse for a file whose front matter the caller has already
// lexed (with CRLF line breaks read as LF), checked with CheckLimits and
// parsed into f, so that it is not parsed twice.
func ParseParsed(path string, src []byte, f *ast.File, roles map[string]*backend.Role) (*backend.Blueprint, backend.Diagnostics) {
	bp, diags, _ := parseWith(path, src, f, roles)
	return bp, diags
}

// parse is Parse that also returns the position of the blueprint's id.
func parse(path string, src []byte, roles map[string]*backend.Role) (*backend.Blueprint, backend.Diagnostics, pos) {
	return parseWith(path, src, nil, roles)
}

// parseWith is parse of a front matter parsed already into f, when not nil.
func parseWith(path string, src []byte, f *ast.File, roles map[string]*backend.Role) (*backend.Blueprint, backend.Diagnostics, pos) {
	sum := sha256.Sum256(src)
	l := &linter{path: path, parsed: f}
	doc, err := splitDocument(src)
	if err != nil {
		l.add(pos{1, 1}, "%s", err.Error())
		return nil, l.sorted(), pos{}
	}
	l.offset = doc.yamlLine - 1
	entries, ok := l.parseYAML(doc.yaml)
	if !ok {
		return nil, l.sorted(), pos{}
	}
	if line, col, err := CheckBody(doc.body); err != nil {
		l.add(pos{doc.bodyLine + line, col}, "%s", err.Error())
		return nil, l.sorted(), pos{}
	}
	bp := &backend.Blueprint{Path: path, Version: hex.EncodeToString(sum[:]), Source: src}
	bp.Sections = sections(doc.body, doc.bodyLine)
	c := &checker{linter: l, bp: bp, roles: roles}
	c.decode(entries)
	c.crossCheck()
	if bp.Output == "" && bp.ID != "" {
		bp.Output = "out/" + bp.ID
	}
	if bp.Sandbox == "" {
		bp.Sandbox = "auto"
	}
	return bp, l.sorted(), c.idPos
}

// checker decodes one blueprint's front matter and checks its references.
type checker struct {
	*linter
	bp        *backend.Blueprint
	roles     map[string]*backend.Role
	steps     []stepPos // positions of each decoded step, parallel to bp.Steps
	idPos     pos
	outputPos pos
}

// decode fills the blueprint from the top-level front matter entries.
func (c *checker) decode(entries []*ast.MappingValueNode) {
	var haveID, haveSteps bool
	for _, mv := range entries {
		key := keyName(mv)
		switch key {
		case "blueprint":
			haveID = true
			c.decodeID(mv)
		case "steps":
			haveSteps = true
			c.decodeSteps(mv)
		case "checks":
			c.decodeChecks(mv)
		default:
			if !c.decodeSetting(key, mv) {
				c.unknownKey(mv, "the front matter", blueprintKeys)
			}
		}
	}
	if !haveID {
		c.add(pos{1, 1}, "missing blueprint: add blueprint: <id> to the front matter")
	}
	if !haveSteps {
		c.add(pos{1, 1}, "missing steps: add a steps list to the front matter")
	}
}

// decodeID decodes and checks the blueprint's id.
func (c *checker) decodeID(mv *ast.MappingValueNode) {
	if isNull(mv.Value) {
		c.add(c.pos(mv.Key), "blueprint: empty id: write an id like orders-service")
		return
	}
	c.idPos = c.valuePos(mv)
	id, ok := c.str("blueprint", mv)
	if !ok {
		return
	}
	c.bp.ID = id
	if !idPattern.MatchString(id) {
		c.add(c.valuePos(mv), "blueprint: bad id %q: use lowercase letters, digits and dashes, e.g. orders-service", id)
	}
}

// decodeSetting decodes the keys that have no references to check; it
// reports false for an unknown key.
func (c *checker) decodeSetting(key string, mv *ast.MappingValueNode) bool {
	bp := c.bp
	switch key {
	case "title":
		bp.Title, _ = c.str(key, mv)
	case "scope":
		bp.Scope, _ = c.strMap(key, mv)
	case "model":
		if m, ok := c.str(key, mv); ok {
			bp.Model = m
			checkModel(c.linter, c.valuePos(mv), m)
		}
	case "output":
		if o, ok := c.str(key, mv); ok {
			bp.Output = o
			c.outputPos = c.valuePos(mv)
			c.checkRelative(c.outputPos, key, o)
		}
	case "secrets", "env":
		names, where, _ := c.strList(key, mv)
		for i, n := range names {
			if !envPattern.MatchString(n) {
				c.add(where[i], "%s: %q is not an environment variable name: use letters, digits and _", key, n)
			}
		}
		if key == "env" {
			bp.Env = names
		} else {
			bp.Secrets = names
		}
	case "options":
		bp.Options = c.decodeOptions(mv)
	case "budget":
		c.decodeBudget(mv)
	case "timeout":
		c.decodeTimeout(mv)
	case "max_turns":
		bp.MaxTurns = maxTurns(c.linter, mv)
	case "sandbox":
		if s, ok := c.str(key, mv); ok {
			bp.Sandbox = s
			if !contains(sandboxModes, s) {
				c.add(c.valuePos(mv), "sandbox: want auto, required or off, got %q", s)
			}
		}
	default:
		return false
	}
	return true
}

// decodeBudget decodes the budget mapping.
func (c *checker) decodeBudget(mv *ast.MappingValueNode) {
	if isNull(mv.Value) {
		return
	}
	entries, ok := mapping(mv.Value)
	if !ok {
		c.add(c.valuePos(mv), "budget: want a mapping like {max_tokens: 100000}, got %s", kind(mv.Value))
		return
	}
	for _, e := range entries {
		key := keyName(e)
		var dst *int
		switch key {
		case "max_tokens":
			dst = &c.bp.Budget.MaxTokens
		case "max_calls":
			dst = &c.bp.Budget.MaxCalls
		case "max_minutes":
			dst = &c.bp.Budget.MaxMinutes
		default:
			c.unknownKey(e, "budget", budgetKeys)
			continue
		}
		*dst, _ = c.integer("budget."+key, e)
	}
}

// decodeTimeout decodes the gate timeout, a Go duration.
func (c *checker) decodeTimeout(mv *ast.MappingValueNode) {
	s, ok := c.str("timeout", mv)
	if !ok {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		c.add(c.valuePos(mv), "timeout: want a positive duration like \"5m\" or \"90s\", got %q", s)
		return
	}
	c.bp.GateTimeout = d
}

// decodeChecks decodes the gates run on the whole output.
func (c *checker) decodeChecks(mv *ast.MappingValueNode) {
	checks, where, _ := c.strList("checks", mv)
	for i, s := range checks {
		if strings.TrimSpace(s) == "" {
			c.add(where[i], "checks: empty check: remove it or write a command")
			continue
		}
		c.bp.Checks = append(c.bp.Checks, s)
	}
}

// checkModel reports a model reference that is malformed or names an
// unknown provider.
func checkModel(l *linter, p pos, ref string) {
	if _, err := backend.ParseModelRef(ref); err != nil {
		var e *backend.Error
		if errors.As(err, &e) && e.Message != "" {
			l.add(p, "%s", e.Message)
			return
		}
		l.add(p, "model %q: %v", ref, err)
	}
}

// checkRelative reports a path that is absolute or leaves its folder.
func (c *checker) checkRelative(p pos, key, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		c.add(p, "%s: empty path", key)
	case path.IsAbs(s) || strings.HasPrefix(s, `\`) || (len(s) > 1 && s[1] == ':'):
		c.add(p, "%s: %q is absolute: use a path relative to the workspace", key, s)
	case hasDotDot(s):
		c.add(p, "%s: %q leaves its folder: remove the .. parts", key, s)
	}
}

// hasDotDot reports whether a slash path has a ".." element.
func hasDotDot(s string) bool {
	for _, part := range strings.Split(strings.ReplaceAll(s, `\`, "/"), "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
