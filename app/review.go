package app

import (
	"factorydesk/backend"
	"factorydesk/backend/engine"
)

// ReviewDecision is an operator's decision on a step waiting for a review.
type ReviewDecision struct {
	Approve bool   `json:"approve"`
	Comment string `json:"comment,omitempty"` // required to reject: the next attempt's feedback
}

// Review approves or rejects the step of a run that waits for a review. A
// run waiting in this App (or in a factory run in a terminal) goes on at
// once; otherwise it continues with factory resume. A rejection's comment
// becomes a lesson of the step's role.
func (a *App) Review(runID, stepID string, d ReviewDecision) (*backend.Review, error) {
	eng := engine.New(engine.Config{Store: a.cfg.Store, Logger: a.cfg.Logger, Now: a.cfg.Now, Getenv: a.cfg.Getenv})
	return eng.Review(a.ctx, runID, stepID, d.Approve, d.Comment)
}

// Lessons returns the lessons kept for a role ("" for every role), newest
// first.
func (a *App) Lessons(role string) ([]backend.Lesson, error) {
	return a.cfg.Store.Lessons(a.ctx, backend.LessonFilter{Role: role})
}

// DeleteLesson removes a lesson.
func (a *App) DeleteLesson(id int64) error {
	return a.cfg.Store.DeleteLesson(a.ctx, id)
}
