package sqlite

import (
	"context"
	"os"
	"testing"

	"factorydesk/backend"
)

// newRun records a run for the validation tests.
func newRun(t *testing.T, d *DB, id, status string, pid int) {
	t.Helper()
	if err := d.CreateRun(context.Background(), &backend.Run{ID: id, BlueprintID: "bp", Status: status, PID: pid}); err != nil {
		t.Fatal(err)
	}
}

func TestGatesAndReviews(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	newRun(t, d, "r1", backend.StatusRunning, 0)
	for i, g := range []backend.GateResult{{Name: "scope", Passed: true}, {Name: "go build ./...", ExitCode: 1, Output: "x.go:1: bad", Sandboxed: true}} {
		if err := d.RecordGate(ctx, &backend.GateRecord{RunID: "r1", StepID: "code", Attempt: 1, Seq: i + 1, GateResult: g}); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, d.RecordGate(ctx, &backend.GateRecord{RunID: "nope", Seq: 1}), backend.ENOTFOUND)

	_, err := d.DecideReview(ctx, "r1", "code", true, "")
	wantCode(t, err, backend.ENOTFOUND)
	if err := d.RequestReview(ctx, &backend.Review{RunID: "r1", StepID: "code", Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	rv, err := d.DecideReview(ctx, "r1", "code", false, "too vague")
	if err != nil || rv.Status != backend.ReviewRejected || rv.Comment != "too vague" || rv.DecidedAt.IsZero() {
		t.Fatalf("DecideReview = %+v, %v", rv, err)
	}
	_, err = d.DecideReview(ctx, "r1", "code", true, "")
	wantCode(t, err, backend.ECONFLICT)
	if err := d.RequestReview(ctx, &backend.Review{RunID: "r1", StepID: "code", Attempt: 2}); err != nil {
		t.Fatal(err)
	}
	if rv, err := d.Review(ctx, "r1", "code"); err != nil || rv.Attempt != 2 || rv.Status != backend.ReviewPending {
		t.Fatalf("Review = %+v, %v; want attempt 2 pending", rv, err)
	}
	rd, err := d.Run(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.Gates) != 2 || rd.Gates[1].Name != "go build ./..." || !rd.Gates[1].Sandboxed || rd.Gates[1].Output != "x.go:1: bad" {
		t.Errorf("gates %+v", rd.Gates)
	}
	if len(rd.Reviews) != 2 || rd.Reviews[0].Status != backend.ReviewRejected {
		t.Errorf("reviews %+v", rd.Reviews)
	}
}

func TestLessons(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	for i, run := range []string{"r1", "r1", "r2"} {
		n, err := d.NoteFailure(ctx, "dev", "sig", run, "code")
		if want := []int{1, 1, 2}[i]; err != nil || n != want {
			t.Fatalf("NoteFailure #%d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	gate := &backend.Lesson{Role: "dev", Kind: backend.LessonGate, Signature: "sig", Text: "avoid x", RunID: "r2", StepID: "code"}
	if added, err := d.AddLesson(ctx, gate); err != nil || !added {
		t.Fatalf("AddLesson = %v, %v", added, err)
	}
	again := *gate
	if added, err := d.AddLesson(ctx, &again); err != nil || added || again.ID != gate.ID {
		t.Fatalf("AddLesson of the same signature = %v, %v (id %d)", added, err, again.ID)
	}
	review := &backend.Lesson{Role: "dev", Kind: backend.LessonReview, Text: "name things", RunID: "r3", StepID: "api"}
	if _, err := d.AddLesson(ctx, review); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddLesson(ctx, &backend.Lesson{Role: "qa", Kind: backend.LessonReview, Text: "test more"}); err != nil {
		t.Fatal(err)
	}
	_, err := d.AddLesson(ctx, &backend.Lesson{Role: "qa"})
	wantCode(t, err, backend.EINVALID)
	if err := d.UseLessons(ctx, []int64{gate.ID, gate.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := d.Lessons(ctx, backend.LessonFilter{Role: "dev"})
	if err != nil || len(got) != 2 || got[0].ID != review.ID || got[1].Hits != 2 {
		t.Fatalf("Lessons(dev) = %+v, %v; want newest first, the gate lesson used twice", got, err)
	}
	if all, _ := d.Lessons(ctx, backend.LessonFilter{Limit: 1}); len(all) != 1 {
		t.Errorf("Limit 1 gave %d", len(all))
	}
	if err := d.DeleteLesson(ctx, gate.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, d.DeleteLesson(ctx, gate.ID), backend.ENOTFOUND)
}

func TestClaimRun(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		status string
		pid    int
		code   string
	}{
		{name: "interrupted", status: backend.StatusInterrupted, pid: 1 << 22},
		{name: "awaiting review, process gone", status: backend.StatusAwaitingReview, pid: 1 << 22},
		{name: "awaiting review, process alive", status: backend.StatusAwaitingReview, pid: os.Getppid(), code: backend.ECONFLICT},
		{name: "succeeded", status: backend.StatusSucceeded, code: backend.ECONFLICT},
		{name: "running", status: backend.StatusRunning, code: backend.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			newRun(t, d, "run1", tt.status, tt.pid)
			rd, err := d.ClaimRun(ctx, "run")
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rd.Run.Status != backend.StatusRunning || rd.Run.PID != os.Getpid() {
				t.Errorf("claimed run %s pid %d", rd.Run.Status, rd.Run.PID)
			}
			_, err = d.ClaimRun(ctx, "run1")
			wantCode(t, err, backend.ECONFLICT)
		})
	}
}
