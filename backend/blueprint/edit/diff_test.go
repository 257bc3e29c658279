package edit

import (
	"strings"
)

// diffLines returns the lines of b that differ from a, trimmed common prefix/suffix.
func diffLines(a, b string) string {
	al, bl := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	p := 0
	for p < len(al) && p < len(bl) && al[p] == bl[p] {
		p++
	}
	s := 0
	for s < len(al)-p && s < len(bl)-p && al[len(al)-1-s] == bl[len(bl)-1-s] {
		s++
	}
	var out strings.Builder
	for _, l := range al[p : len(al)-s] {
		out.WriteString("- " + l)
	}
	for _, l := range bl[p : len(bl)-s] {
		out.WriteString("+ " + l)
	}
	return out.String()
}
