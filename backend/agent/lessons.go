package agent

import (
	"fmt"
	"strings"

	"factorydesk/backend"
)

// Bounds of the lessons in one context package.
const (
	MaxLessons      = 10
	MaxLessonTokens = 1500
)

// lessonsBlock renders the role's lessons, in the order given (most
// relevant first), at most MaxLessons of them within MaxLessonTokens; a
// lesson that does not fit is left out. "" when there are none.
func lessonsBlock(lessons []backend.Lesson) string {
	if len(lessons) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("# Lessons from earlier runs of this role\n\n" +
		"Operators and gates taught these; follow them unless this step says otherwise.\n\n")
	n := 0
	for _, l := range lessons {
		if n == MaxLessons {
			break
		}
		text := strings.TrimSpace(l.Text)
		if text == "" {
			continue
		}
		item := fmt.Sprintf("- (%s) %s\n", lessonSource(l), strings.ReplaceAll(text, "\n", "\n  "))
		if EstimateTokens(b.String()+item) > MaxLessonTokens {
			continue
		}
		b.WriteString(item)
		n++
	}
	if n == 0 {
		return ""
	}
	return b.String()
}

// lessonSource says where a lesson comes from.
func lessonSource(l backend.Lesson) string {
	if l.Kind == backend.LessonGate {
		return "a gate failure that repeated"
	}
	return "a review of step " + l.StepID
}
