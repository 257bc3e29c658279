package edit

import (
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"factorydesk/backend/blueprint"

	"github.com/goccy/go-yaml"
)

// style is how a file writes what an edit adds, learned from the file.
type style struct {
	eol       string
	unit      int  // indentation step of nested block collections
	seqIndent int  // columns a block sequence's dashes sit right of its key
	itemKey   int  // columns a mapping in a block item sits right of its dash
	flowLists bool // lists of scalars as [a, b]
	flowMaps  bool // mappings of scalars as {k: v}
	quote     byte // '"' or '\''
	// quoteLines writes multi-line strings quoted, not as block scalars:
	// set where a comment line follows the text written, which a block
	// scalar would swallow.
	quoteLines bool
}

// learnStyle looks at the document's nodes to learn its style.
func (d *Document) learnStyle() *style {
	st := &style{eol: d.eol, unit: 2, seqIndent: 2, itemKey: 2, flowLists: true, flowMaps: true, quote: '"'}
	var units, seqInd, itemKey map[int]int = map[int]int{}, map[int]int{}, map[int]int{}
	var flowL, blockL, flowM, blockM, single, double int
	var walk func(n *node, col int)
	walk = func(n *node, col int) {
		switch n.kind {
		case kindScalar:
			switch n.style {
			case styleSingle:
				single++
			case styleDouble:
				double++
			}
		case kindMap:
			for _, e := range n.entries {
				kc := d.column(e.key.start)
				v := e.value
				if v.kind == kindMap && flat(v) && len(v.entries) > 0 {
					if v.flow {
						flowM++
					} else {
						blockM++
					}
				}
				if !n.flow && !v.flow && v.kind == kindMap && len(v.entries) > 0 {
					units[d.column(v.entries[0].key.start)-kc]++
				}
				if !n.flow && !v.flow && v.kind == kindSeq && len(v.items) > 0 {
					seqInd[d.column(v.items[0].dash.start)-kc]++
				}
				walk(e.key, kc)
				walk(v, kc)
			}
		case kindSeq:
			if scalars(n) && len(n.items) > 0 {
				if n.flow {
					flowL++
				} else {
					blockL++
				}
			}
			for _, it := range n.items {
				if !n.flow && it.value.kind == kindMap && !it.value.flow && len(it.value.entries) > 0 {
					itemKey[d.column(it.value.entries[0].key.start)-d.column(it.dash.start)]++
				}
				walk(it.value, col)
			}
		}
	}
	if d.root != nil {
		walk(d.root, 0)
	}
	if u := mostCommon(units, 1); u > 0 {
		st.unit, st.seqIndent = u, u
	}
	if len(seqInd) > 0 {
		st.seqIndent = mostCommon(seqInd, 0)
	}
	if k := mostCommon(itemKey, 1); k > 0 {
		st.itemKey = k
	}
	st.flowLists = flowL >= blockL
	st.flowMaps = flowM >= blockM
	if single > double {
		st.quote = '\''
	}
	return st
}

// mostCommon returns the most frequent key of counts that is at least min,
// the smallest on a tie; 0 when there is none.
func mostCommon(counts map[int]int, min int) int {
	best, n := 0, 0
	keys := make([]int, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		if k >= min && counts[k] > n {
			best, n = k, counts[k]
		}
	}
	return best
}

// flat reports a mapping whose values are scalars or lists of scalars.
func flat(n *node) bool {
	for _, e := range n.entries {
		if e.value.kind == kindMap || (e.value.kind == kindSeq && !scalars(e.value)) {
			return false
		}
	}
	return true
}

// scalars reports a sequence of scalars only.
func scalars(n *node) bool {
	for _, it := range n.items {
		if it.value.kind != kindScalar {
			return false
		}
	}
	return true
}

// isScalar reports a plain value that is not a collection.
func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// flatValue reports a value that may go on one line in a flow style the
// file uses: a list of scalars, or a mapping of scalars and such lists.
func (st *style) flatValue(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if !isScalar(e) {
				return false
			}
		}
		return st.flowLists || len(x) == 0
	case map[string]any:
		for _, e := range x {
			if l, ok := e.([]any); ok {
				for _, s := range l {
					if !isScalar(s) {
						return false
					}
				}
				continue
			}
			if !isScalar(e) {
				return false
			}
		}
		return st.flowMaps || len(x) == 0
	}
	return true
}

// wantsBlock reports whether v is written in block style where block style
// may be used.
func (st *style) wantsBlock(v any) bool {
	if s, ok := v.(string); ok {
		return strings.Contains(s, "\n") && literalSafe(s) && !st.quoteLines
	}
	return !st.flatValue(v)
}

// inline returns v on one line: a scalar, [a, b] or {k: v}; what names
// the documented key order of a mapping.
func (st *style) inline(v any, prefer scalarStyle, inFlow bool, what ...string) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = st.inline(e, stylePlain, true, itemKind(first(what)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(x, first(what))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = st.key(k, true) + ": " + st.inline(x[k], stylePlain, true, childKind(first(what), k))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return st.scalar(v, prefer, inFlow)
}

// first returns the first of an optional argument, or "".
func first(what []string) string {
	if len(what) == 0 {
		return ""
	}
	return what[0]
}

// sortedKeys returns the keys of m in the documented order of what, the
// others after them in alphabetical order.
func sortedKeys(m map[string]any, what string) []string {
	order := blueprint.KeyOrder(what)
	rank := func(k string) int {
		for i, o := range order {
			if o == k {
				return i
			}
		}
		return len(order)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// key returns a mapping key's text.
func (st *style) key(k string, inFlow bool) string { return st.scalar(k, stylePlain, inFlow) }

// scalar returns a scalar's text, in the style prefer when it can hold the
// value, else plain when that reads back the same, else quoted the way the
// file quotes.
func (st *style) scalar(v any, prefer scalarStyle, inFlow bool) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatFloat(x)
	case string:
		return st.str(x, prefer, inFlow)
	}
	return st.str(reflect.ValueOf(v).String(), prefer, inFlow)
}

// formatFloat writes a float so that YAML reads a float back.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// str returns a string scalar's text.
func (st *style) str(s string, prefer scalarStyle, inFlow bool) string {
	if prefer != styleSingle && prefer != styleDouble && plainSafe(s, inFlow) {
		return s
	}
	if (prefer == styleSingle || (prefer != styleDouble && st.quote == '\'')) && singleSafe(s) {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return doubleQuote(s)
}

// plainSafe reports whether s written plain reads back as the same string.
func plainSafe(s string, inFlow bool) bool {
	if s == "" || s != strings.TrimSpace(s) || strings.ContainsAny(s, "\n\r\t\ufeff") ||
		strings.Contains(s, " #") || strings.Contains(s, ": ") || strings.HasSuffix(s, ":") {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	if inFlow && strings.ContainsAny(s, ",[]{}") {
		return false
	}
	doc := "k: " + s
	if inFlow {
		doc = "k: [" + s + "]"
	}
	var out map[string]any
	if err := yaml.Unmarshal([]byte(doc), &out); err != nil {
		return false
	}
	got := out["k"]
	if inFlow {
		l, ok := got.([]any)
		if !ok || len(l) != 1 {
			return false
		}
		got = l[0]
	}
	g, ok := got.(string)
	return ok && g == s
}

// singleSafe reports whether s can be single-quoted on one line.
func singleSafe(s string) bool {
	if strings.ContainsAny(s, "\n\r\t\ufeff") || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// doubleQuote returns s double-quoted with YAML's escapes.
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			switch {
			case r == utf8.RuneError || r == '\ufeff' || !unicode.IsPrint(r) && r != ' ':
				if r > 0xffff {
					b.WriteString(`\U` + pad(strconv.FormatInt(int64(r), 16), 8))
				} else {
					b.WriteString(`\u` + pad(strconv.FormatInt(int64(r), 16), 4))
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pad left-pads a hex number with zeros.
func pad(s string, n int) string { return strings.Repeat("0", max(0, n-len(s))) + s }

// literalSafe reports whether s can be written as a literal block scalar.
func literalSafe(s string) bool {
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\ufeff") {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			return false
		}
	}
	lines := strings.Split(s, "\n")
	first := ""
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			first = l
			break
		}
	}
	if first == "" || first[0] == ' ' || first[0] == '\t' {
		return false
	}
	for _, l := range lines {
		if l != "" && strings.TrimSpace(l) == "" {
			return false // a line of only spaces would be read as indentation
		}
	}
	return true
}

// literal returns a multi-line string as a literal block scalar whose
// content is indented to indent, without a final line break.
func (st *style) literal(s string, indent int) string {
	body := strings.TrimSuffix(s, "\n")
	header := "|"
	switch {
	case !strings.HasSuffix(s, "\n"):
		header = "|-"
	case strings.HasSuffix(s, "\n\n"):
		header = "|+"
	}
	pre := strings.Repeat(" ", indent)
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return header + st.eol + strings.Join(lines, st.eol)
}

// block returns a collection in block style, one line per entry or item
// at indent, without a final line break; what names the documented key
// order of a mapping.
func (st *style) block(v any, indent int, what string) string {
	pre := strings.Repeat(" ", indent)
	var lines []string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x, what) {
			lines = append(lines, pre+st.key(k, false)+":"+st.after(x[k], indent, childKind(what, k)))
		}
	case []any:
		for _, e := range x {
			lines = append(lines, pre+"-"+st.itemText(e, indent, itemKind(what)))
		}
	}
	return strings.Join(lines, st.eol)
}

// after returns the text of a value after its key's colon, for a key at
// column indent: " value", or a line break and a block.
func (st *style) after(v any, indent int, what string) string {
	if s, ok := v.(string); ok && st.wantsBlock(v) {
		return " " + st.literal(s, indent+st.unit)
	}
	if !st.wantsBlock(v) {
		return " " + st.inline(v, stylePlain, false, what)
	}
	if _, isSeq := v.([]any); isSeq {
		return st.eol + st.block(v, indent+st.seqIndent, what)
	}
	return st.eol + st.block(v, indent+st.unit, what)
}

// itemText returns the text of a block sequence item after its dash, for a
// dash at column indent.
func (st *style) itemText(v any, indent int, what string) string {
	if s, ok := v.(string); ok && st.wantsBlock(v) {
		return " " + st.literal(s, indent+st.itemKey)
	}
	m, isMap := v.(map[string]any)
	if !isMap || len(m) == 0 || !st.wantsBlock(v) && what != "step" {
		return " " + st.inline(v, stylePlain, false, what)
	}
	text := st.block(m, indent+st.itemKey, what)
	return strings.Repeat(" ", st.itemKey-1) + strings.TrimLeft(text, " ")
}

// childKind names the documented key order of the value of key k in a
// mapping of kind what.
func childKind(what, k string) string {
	switch {
	case k == "options":
		return "options"
	case what == "blueprint" && k == "budget":
		return "budget"
	case what == "blueprint" && k == "steps":
		return "steps"
	}
	return ""
}

// itemKind names the documented key order of the items of a list of kind
// what.
func itemKind(what string) string {
	if what == "steps" {
		return "step"
	}
	return ""
}
