package engine

import (
	"context"
	"fmt"
	"sort"

	"factorydesk/backend"
	"factorydesk/backend/validate"
)

// Bounds of the lessons one attempt is given; the agent bounds their size.
const (
	maxLessons       = 10
	lessonCandidates = 50
)

// lessons returns the lessons of the step's role for its next attempt, most
// relevant first: those learned at the same step, then the newest. It
// counts their use.
func (r *stepRun) lessons(ctx context.Context) []backend.Lesson {
	s := r.s
	all, err := s.store.Lessons(context.WithoutCancel(ctx), backend.LessonFilter{Role: r.step.Role, Limit: lessonCandidates})
	if err != nil {
		s.log.WarnContext(ctx, "lessons unavailable", "role", r.step.Role, "err", err)
		return nil
	}
	sort.SliceStable(all, func(i, j int) bool { // newest first already
		return all[i].StepID == r.step.ID && all[j].StepID != r.step.ID
	})
	if len(all) > maxLessons {
		all = all[:maxLessons]
	}
	ids := make([]int64, len(all))
	for i, l := range all {
		ids[i] = l.ID
	}
	s.rec.do(func(ctx context.Context, st backend.Store) error { return st.UseLessons(ctx, ids) })
	return all
}

// noteFailure records a failed command gate's signature for the step's role;
// when the same failure has happened in another run of the role before, it
// becomes a lesson.
func (r *stepRun) noteFailure(feedback string) {
	s := r.s
	role, step, run := r.step.Role, r.step.ID, s.run.ID
	sig := validate.Signature(feedback)
	s.rec.do(func(ctx context.Context, st backend.Store) error {
		n, err := st.NoteFailure(ctx, role, sig, run, step)
		if err != nil || n < 2 {
			return err
		}
		text := fmt.Sprintf("This gate failure has happened in %d runs; avoid it:\n%s", n, truncate(feedback, 1200))
		_, err = st.AddLesson(ctx, &backend.Lesson{Role: role, Kind: backend.LessonGate, Signature: sig,
			Text: text, RunID: run, StepID: step})
		return err
	})
}

// truncate cuts s to at most n bytes, on a line end when it can.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[:n]
	for i := len(cut) - 1; i > n/2; i-- {
		if cut[i] == '\n' {
			return cut[:i] + "\n..."
		}
	}
	return cut + "..."
}
