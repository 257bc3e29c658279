package edit

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"factorydesk/backend"
)

// checkAnchors refuses splices that touch a node whose anchor an alias
// names: the alias would change too, which the edit does not mean.
func (d *Document) checkAnchors(ss []splice) error {
	used := map[string]bool{}
	d.walk(func(n *node) {
		if n.kind == kindAlias {
			used[n.alias] = true
		}
	})
	if len(used) == 0 {
		return nil
	}
	var err error
	d.walk(func(n *node) {
		if n.anchor == "" || !used[n.anchor] || err != nil {
			return
		}
		for _, s := range ss {
			if s.start < n.end && s.end > n.start || s.start == s.end && s.start > n.start && s.start < n.end {
				err = backend.Errorf(backend.EINVALID, "the edit changes the value anchored as &%s at line %d, which an alias repeats elsewhere: edit the text by hand so both places change as you mean", n.anchor, d.lineOf(n.start)+1)
				return
			}
		}
	})
	return err
}

// verify opens the edited bytes and checks they hold the intended model
// and body, and that the part before the front matter is untouched.
func (d *Document) verify(out []byte, model map[string]any, body []byte) (*Document, error) {
	nd, err := Open(d.kind, out)
	if err != nil && strings.Contains(err.Error(), "alias") {
		return nil, backend.Errorf(backend.EINVALID, "the edit would move a YAML alias away from its anchor (%v): edit the text by hand", err)
	}
	if err != nil {
		return nil, backend.Errorf(backend.EINTERNAL, "the edit would break the file (%v); nothing was changed", err)
	}
	if !bytes.Equal(out[:nd.bounds.YAMLStart], d.src[:d.bounds.YAMLStart]) {
		return nil, backend.Errorf(backend.EINTERNAL, "the edit would change the front matter's opening line; nothing was changed")
	}
	if !bytes.Equal(out[nd.bounds.BodyStart:], body) {
		return nil, backend.Errorf(backend.EINTERNAL, "the edit would change the body unasked; nothing was changed")
	}
	if !equal(nd.plainModel(), model) {
		return nil, backend.Errorf(backend.EINTERNAL, "the edited text would not read back as intended (%s); nothing was changed", firstDifference("", model, nd.plainModel()))
	}
	return nd, nil
}

// firstDifference names the first place where want and got differ.
func firstDifference(at string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !equal(w[k], g[k]) {
				return firstDifference(strings.TrimPrefix(at+"."+k, "."), w[k], g[k])
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			break
		}
		for i := range w {
			if !equal(w[i], g[i]) {
				return firstDifference(fmt.Sprintf("%s[%d]", at, i), w[i], g[i])
			}
		}
	}
	return fmt.Sprintf("%s: want %#v, got %#v", at, want, got)
}

// lineRef matches line numbers inside diagnostic messages.
var lineRef = regexp.MustCompile(`line \d+`)

// newProblems returns the diagnostics of after that before did not have
// (compared by step, field and message), as an EINVALID error.
func newProblems(before, after *Document, opt Options) error {
	key := func(dg backend.Diagnostic) string {
		return dg.Step + "\x00" + dg.Field + "\x00" + lineRef.ReplaceAllString(dg.Message, "line")
	}
	had := map[string]int{}
	for _, dg := range before.Validate(opt.Path, opt.Roles).Diagnostics {
		had[key(dg)]++
	}
	var fresh backend.Diagnostics
	for _, dg := range after.Validate(opt.Path, opt.Roles).Diagnostics {
		k := key(dg)
		if had[k] > 0 {
			had[k]--
			continue
		}
		fresh = append(fresh, dg)
	}
	if len(fresh) == 0 {
		return nil
	}
	return &backend.Error{Code: backend.EINVALID, Err: fresh}
}
