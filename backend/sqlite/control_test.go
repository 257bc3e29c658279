package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"factorydesk/backend"
)

func TestRequestCancel(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	tests := []struct {
		name       string
		status     string
		pid        int
		wantStatus string // the run's status after the request
		asked      bool   // the running process is asked
		code       string
	}{
		{name: "a run of a live process is asked", status: backend.StatusRunning, pid: os.Getpid(),
			wantStatus: backend.StatusRunning, asked: true},
		{name: "a run no process holds is canceled at once", status: backend.StatusAwaitingReview, pid: deadPID(t),
			wantStatus: backend.StatusCanceled},
		{name: "an interrupted run is canceled at once", status: backend.StatusInterrupted, pid: deadPID(t),
			wantStatus: backend.StatusCanceled},
		{name: "a finished run has nothing to cancel", status: backend.StatusSucceeded, pid: os.Getpid(),
			wantStatus: backend.StatusSucceeded, code: backend.ECONFLICT},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRun(sha(tt.name)[:32])
			r.Status, r.PID, r.EndedAt = tt.status, tt.pid, time.Time{}
			mustCreate(t, d, r)
			_, err := d.RequestCancel(ctx, r.ID[:12+i])
			if tt.code != "" {
				wantCode(t, err, tt.code)
			} else if err != nil {
				t.Fatal(err)
			}
			if got := mustRun(t, d, r.ID).Run.Status; got != tt.wantStatus {
				t.Errorf("status %s, want %s", got, tt.wantStatus)
			}
			asked, err := d.CancelRequested(ctx, r.ID)
			if err != nil || asked != tt.asked {
				t.Errorf("CancelRequested = %v, %v; want %v", asked, err, tt.asked)
			}
		})
	}
}

// TestClaimClearsTheCancelRequest: a resumed run does not stop at once for
// a cancel asked for before.
func TestClaimClearsTheCancelRequest(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	r := fullRun(sha("claim")[:32])
	r.Status, r.PID = backend.StatusRunning, os.Getpid()
	mustCreate(t, d, r)
	if _, err := d.RequestCancel(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	r.Status = backend.StatusCanceled
	if err := d.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ClaimRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if asked, err := d.CancelRequested(ctx, r.ID); err != nil || asked {
		t.Errorf("after the claim CancelRequested = %v, %v; want false", asked, err)
	}
}

// TestWatchChanges: each commit by another connection to the same file (as
// another process makes) is reported through fsnotify: the poll interval
// is far longer than the test's deadline.
func TestWatchChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".factory", "factory.db")
	a := openDB(t, path)
	w, err := a.WatchChanges(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b := openDB(t, path)
	for i := range 3 {
		mustCreate(t, b, fullRun(sha(string(rune('a' + i)))[:32]))
		select {
		case <-w.C():
		case <-time.After(time.Minute):
			t.Fatalf("commit %d by another connection not reported", i+1)
		}
	}
}
