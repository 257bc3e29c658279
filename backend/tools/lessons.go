package tools

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"factorydesk/backend"
)

// maxLessonHits is how many lessons search_lessons answers.
const maxLessonHits = 10

type searchLessonsArgs struct {
	Query string `json:"query"`
}

// searchLessons answers the role's lessons that share the most words with
// the query, ties in the order given (most relevant first); an empty query
// answers the first ones.
func searchLessons(_ context.Context, env *Env, a searchLessonsArgs) (string, error) {
	if len(env.Lessons) == 0 {
		return "this role has no lessons yet\n", nil
	}
	terms := words(a.Query)
	type scored struct {
		l     backend.Lesson
		score int
		order int
	}
	var found []scored
	for i, l := range env.Lessons {
		text := strings.ToLower(l.Text)
		n := 0
		for _, t := range terms {
			if strings.Contains(text, t) {
				n++
			}
		}
		if n > 0 || len(terms) == 0 {
			found = append(found, scored{l, n, i})
		}
	}
	if len(found) == 0 {
		return fmt.Sprintf("no lesson of this role mentions %q (%d lessons searched)\n", a.Query, len(env.Lessons)), nil
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score > found[j].score })
	found = found[:min(len(found), maxLessonHits)]
	var b strings.Builder
	fmt.Fprintf(&b, "%d lessons of this role, most relevant first:\n", len(found))
	for _, f := range found {
		from := "a review of step " + f.l.StepID
		if f.l.Kind == backend.LessonGate {
			from = "a gate failure that repeated at step " + f.l.StepID
		}
		fmt.Fprintf(&b, "- (%s) %s\n", from, strings.ReplaceAll(strings.TrimSpace(f.l.Text), "\n", "\n  "))
	}
	return b.String(), nil
}

// words splits a query into distinct lowercase words of two letters or more.
func words(q string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	}) {
		if len(w) >= 2 && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
