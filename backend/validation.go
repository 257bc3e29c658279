package backend

import (
	"context"
	"time"
)

// Review states.
const (
	ReviewPending  = "pending"
	ReviewApproved = "approved"
	ReviewRejected = "rejected"
)

// Sandbox modes of a blueprint's gates.
const (
	SandboxAuto     = "auto"     // sandboxed when bubblewrap works, else a warning
	SandboxRequired = "required" // a gate fails when it cannot be sandboxed
	SandboxOff      = "off"      // gates run unconfined
)

// GateRecord is the recorded outcome of one gate: a step attempt's gate
// (StepID and Attempt set) or a blueprint check (StepID "" and Attempt 0).
type GateRecord struct {
	RunID   string `json:"run_id"`
	StepID  string `json:"step,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	Seq     int    `json:"seq"` // 1-based order within the attempt (or the checks)
	GateResult
	CreatedAt time.Time `json:"created_at"`
}

// Review is a person's approval a step waits for.
type Review struct {
	RunID       string    `json:"run_id"`
	StepID      string    `json:"step"`
	Attempt     int       `json:"attempt"` // the attempt under review
	Status      string    `json:"status"`  // pending, approved, rejected
	Comment     string    `json:"comment,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
	DecidedAt   time.Time `json:"decided_at,omitempty"`
}

// Lesson is knowledge kept for a role from a rejected review or a gate
// failure that repeated across runs; later attempts of the role get it in
// their context package.
type Lesson struct {
	ID        int64     `json:"id"`
	Role      string    `json:"role"`
	Kind      string    `json:"kind"`                // "review" or "gate"
	Signature string    `json:"signature,omitempty"` // the normalized failure a gate lesson stands for
	Text      string    `json:"text"`
	RunID     string    `json:"run_id"` // where it was learned
	StepID    string    `json:"step"`
	CreatedAt time.Time `json:"created_at"`
	Hits      int       `json:"hits"` // how many attempts were given it
}

// Lesson kinds.
const (
	LessonReview = "review"
	LessonGate   = "gate"
)

// LessonFilter selects lessons. Zero values match everything.
type LessonFilter struct {
	Role  string
	Limit int // 0: no limit
}

// ValidationStore keeps what validation decides: gate results, reviews,
// failure signatures and lessons. Every method is one transaction.
type ValidationStore interface {
	// RecordGate records one gate's outcome.
	RecordGate(ctx context.Context, g *GateRecord) error

	// RequestReview records that a step attempt waits for a review (pending),
	// replacing an earlier request of the same step.
	RequestReview(ctx context.Context, r *Review) error
	// DecideReview approves or rejects the pending review of a step and
	// returns it; ECONFLICT when the step has no pending review.
	DecideReview(ctx context.Context, runID, stepID string, approve bool, comment string) (*Review, error)
	// Review returns the latest review of a step (ENOTFOUND when none).
	Review(ctx context.Context, runID, stepID string) (*Review, error)

	// NoteFailure records a gate failure's signature for a role in a run and
	// returns in how many distinct runs the role has failed with it.
	NoteFailure(ctx context.Context, role, signature, runID, stepID string) (int, error)
	// AddLesson records a lesson and sets its ID; a lesson with the same role
	// and non-empty signature is kept once (AddLesson then returns false).
	AddLesson(ctx context.Context, l *Lesson) (bool, error)
	// Lessons returns the lessons f selects, newest first.
	Lessons(ctx context.Context, f LessonFilter) ([]Lesson, error)
	// DeleteLesson deletes a lesson (ENOTFOUND when absent).
	DeleteLesson(ctx context.Context, id int64) error
	// UseLessons counts one more use of each lesson.
	UseLessons(ctx context.Context, ids []int64) error

	// ClaimRun makes the calling process the owner of a run to resume it:
	// the run must be interrupted, awaiting review, failed or canceled, and
	// its process gone (or the caller). It sets the run running, owned by
	// the caller, and returns it with its record (ECONFLICT otherwise).
	ClaimRun(ctx context.Context, id string) (*RunDetail, error)
}
