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
// once; one no process waits for any more is resumed in this App. A
// rejection's comment becomes a lesson of the step's role.
func (a *App) Review(runID, stepID string, d ReviewDecision) (*backend.Review, error) {
	eng := engine.New(engine.Config{Store: a.cfg.Store, Logger: a.cfg.Logger, Now: a.cfg.Now, Getenv: a.cfg.Getenv})
	rv, err := eng.Review(a.ctx, runID, stepID, d.Approve, d.Comment)
	if err != nil {
		return nil, err
	}
	a.continueReviewed(rv.RunID)
	return rv, nil
}

// continueReviewed makes a decided run go on the same way whoever hosts it:
// a run waiting in this App or in a live process (a factory run in a
// terminal) sees the decision itself; one whose process stopped waiting
// (factory run --no-wait, a closed window) is resumed here.
func (a *App) continueReviewed(runID string) {
	a.mu.Lock()
	_, here := a.runs[runID]
	a.mu.Unlock()
	if here {
		return
	}
	d, err := a.cfg.Store.Run(a.ctx, runID)
	if err != nil || d.Run.Status != backend.StatusAwaitingReview {
		return
	}
	if _, err := a.Resume(runID); err != nil && backend.ErrorCode(err) != backend.ECONFLICT {
		a.cfg.Logger.Warn("the reviewed run did not go on", "run", runID, "err", err)
	}
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
