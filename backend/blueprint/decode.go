package blueprint

import (
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// idPattern is the form of blueprint, step and role ids.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// envPattern is the form of an environment variable name.
var envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// article returns "a" or "an" for a type name.
func article(typ string) string {
	if strings.IndexByte("aeiou", typ[0]) >= 0 {
		return "an " + typ
	}
	return "a " + typ
}

// str decodes a scalar value as a string. A null value is absent.
func (l *linter) str(key string, mv *ast.MappingValueNode) (string, bool) {
	if isNull(mv.Value) {
		return "", false
	}
	s, ok := scalar(mv.Value)
	if !ok {
		l.add(l.valuePos(mv), "%s: want a string, got %s", key, kind(mv.Value))
	}
	return s, ok
}

// integer decodes a value as an integer of 0 or more. A null value is absent.
func (l *linter) integer(key string, mv *ast.MappingValueNode) (int, bool) {
	if isNull(mv.Value) {
		return 0, false
	}
	v, isInt := unwrap(mv.Value).(*ast.IntegerNode)
	if !isInt {
		l.add(l.valuePos(mv), "%s: want an integer, got %s", key, kind(mv.Value))
		return 0, false
	}
	var n int
	switch x := v.Value.(type) {
	case int64:
		n = int(x)
	case uint64:
		if x > math.MaxInt32 {
			l.add(l.valuePos(mv), "%s: %s is too large", key, v.GetToken().Value)
			return 0, false
		}
		n = int(x)
	}
	if n < 0 {
		l.add(l.valuePos(mv), "%s: want 0 or more, got %d", key, n)
		return 0, false
	}
	return n, true
}

// strList decodes a list of scalars; it returns the items and their
// positions. A null value is absent; items of other types are reported.
func (l *linter) strList(key string, mv *ast.MappingValueNode) ([]string, []pos, bool) {
	if isNull(mv.Value) {
		return nil, nil, false
	}
	seq, ok := unwrap(mv.Value).(*ast.SequenceNode)
	if !ok {
		if s, isScalar := scalar(mv.Value); isScalar {
			l.add(l.valuePos(mv), "%s: want a list, got %s: write [%s]", key, kind(mv.Value), s)
		} else {
			l.add(l.valuePos(mv), "%s: want a list of strings, got %s", key, kind(mv.Value))
		}
		return nil, nil, false
	}
	items := make([]string, 0, len(seq.Values))
	where := make([]pos, 0, len(seq.Values))
	for i, n := range seq.Values {
		s, ok := scalar(n)
		if !ok {
			l.add(l.pos(n), "%s: item %d: want a string, got %s", key, i+1, kind(n))
			continue
		}
		items = append(items, s)
		where = append(where, l.pos(n))
	}
	return items, where, true
}

// strMap decodes a mapping of scalar keys to scalar values. It returns the
// map and the position of each key. A null value is absent.
func (l *linter) strMap(key string, mv *ast.MappingValueNode) (map[string]string, map[string]pos) {
	if isNull(mv.Value) {
		return nil, nil
	}
	entries, ok := mapping(mv.Value)
	if !ok {
		l.add(l.valuePos(mv), "%s: want a mapping like {name: value}, got %s", key, kind(mv.Value))
		return nil, nil
	}
	m := make(map[string]string, len(entries))
	where := make(map[string]pos, len(entries))
	for _, e := range entries {
		k := keyName(e)
		v, ok := scalar(e.Value)
		if !ok {
			l.add(l.valuePos(e), "%s.%s: want a string, got %s", key, k, kind(e.Value))
			continue
		}
		m[k] = v
		where[k] = l.pos(e.Key)
	}
	return m, where
}

// unknownKey reports a key that is not one of known, suggesting the closest.
func (l *linter) unknownKey(mv *ast.MappingValueNode, where string, known []string) {
	k := keyName(mv)
	if where != "options" && knownKey("options", k) {
		l.add(l.pos(mv.Key), "unknown key %q in %s: model settings go under options, e.g. options: {%s: ...}", k, where, k)
		return
	}
	if s := closest(k, known); s != "" {
		l.add(l.pos(mv.Key), "unknown key %q (did you mean %q?)", k, s)
		return
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	l.add(l.pos(mv.Key), "unknown key %q in %s: remove it (known: %s)", k, where, strings.Join(sorted, ", "))
}

// closest returns the word of known nearest to s when it is close enough to
// be a likely typo, else "".
func closest(s string, known []string) string {
	best, bestDist := "", 0
	for _, k := range known {
		d := distance(strings.ToLower(s), k)
		if best == "" || d < bestDist {
			best, bestDist = k, d
		}
	}
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// distance is the optimal string alignment distance between a and b: edits,
// with a swap of two neighbours counting as one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
