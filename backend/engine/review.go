package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"factorydesk/backend"
)

// DefaultReviewPoll is how often a run waiting for a review looks for the
// decision, which may come from another process.
const DefaultReviewPoll = 250 * time.Millisecond

// Review decides the pending review of a step: approve, or reject with a
// comment that becomes the feedback of the step's next attempt and a lesson
// of the step's role. The run (id or unique prefix) continues in the process
// waiting for the decision, or with Resume. It returns the decided review.
func (e *Engine) Review(ctx context.Context, runID, stepID string, approve bool, comment string) (*backend.Review, error) {
	comment = strings.TrimSpace(comment)
	if !approve && comment == "" {
		return nil, backend.Errorf(backend.EINVALID, "a rejection needs a comment: it is the feedback of the next attempt")
	}
	d, err := e.cfg.Store.Run(ctx, runID)
	if err != nil {
		return nil, err
	}
	var step *backend.StepRun
	for i := range d.Steps {
		if d.Steps[i].StepID == stepID {
			step = &d.Steps[i]
		}
	}
	if step == nil {
		return nil, backend.Errorf(backend.ENOTFOUND, "run %s has no step %q", d.Run.ID, stepID)
	}
	rv, err := e.cfg.Store.DecideReview(ctx, d.Run.ID, stepID, approve, comment)
	if err != nil {
		return nil, err
	}
	if !approve {
		l := &backend.Lesson{Role: step.Role, Kind: backend.LessonReview, Text: comment, RunID: d.Run.ID, StepID: stepID}
		if _, err := e.cfg.Store.AddLesson(ctx, l); err != nil {
			return rv, err
		}
	}
	e.cfg.Logger.InfoContext(ctx, "review decided", "run", d.Run.ID, "step", stepID, "status", rv.Status)
	return rv, nil
}

// reviewFeedback is the feedback of the attempt after a rejection.
func reviewFeedback(rv *backend.Review) string {
	return fmt.Sprintf("An operator reviewed attempt %d and rejected it:\n\n%s", rv.Attempt, rv.Comment)
}

// review makes step attempt n wait for its review. Without WaitReview it
// records the request and returns at once with ReviewPending; otherwise it
// polls the store until the review is decided (by this or another process)
// or ctx is canceled ("" then).
func (r *stepRun) review(ctx context.Context, n int) (*backend.Review, error) {
	s := r.s
	rec := context.WithoutCancel(ctx)
	if err := s.store.RequestReview(rec, &backend.Review{RunID: s.run.ID, StepID: r.step.ID, Attempt: n}); err != nil {
		return nil, err
	}
	r.rec.Status, r.rec.Error = backend.StatusAwaitingReview, ""
	s.saveStep(r.rec)
	s.e.emit(Event{Kind: KindStep, RunID: s.run.ID, StepID: r.step.ID, Attempt: n, Status: backend.StatusAwaitingReview,
		Message: fmt.Sprintf("decide with: factory review %s %s --approve | --reject \"why\"", s.run.ID, r.step.ID)})
	if !s.opts.WaitReview {
		return &backend.Review{RunID: s.run.ID, StepID: r.step.ID, Attempt: n, Status: backend.ReviewPending}, nil
	}
	s.setWaiting(+1)
	defer s.setWaiting(-1)
	poll := s.opts.ReviewPoll
	if poll <= 0 {
		poll = DefaultReviewPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		rv, err := s.store.Review(rec, s.run.ID, r.step.ID)
		if err != nil {
			return nil, err
		}
		if rv.Attempt == n && rv.Status != backend.ReviewPending {
			return rv, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
