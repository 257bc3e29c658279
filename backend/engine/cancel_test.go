package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/sqlite"
)

// TestCancelAskedThroughTheStore: a cancel asked for by another connection
// to the workspace database (as the app does for a run a terminal started)
// stops the run, which ends canceled.
func TestCancelAskedThroughTheStore(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	id := NewRunID()
	other := sqlite.NewDB(filepath.Join(env.ws, ".factory", "factory.db"))
	if err := other.Open(); err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	asked := make(chan error, 1)
	env.server.Respond(func(req modeltest.Request) modeltest.Reply {
		_, err := other.RequestCancel(context.Background(), id)
		asked <- err
		return modeltest.Reply{Stall: true}
	})
	run := env.run(context.Background(), blueprint(step("a")), RunOptions{RunID: id, Parallel: 1, CancelPoll: 10 * time.Millisecond})
	if err := <-asked; err != nil {
		t.Fatalf("RequestCancel: %v", err)
	}
	if run.Status != backend.StatusCanceled {
		t.Fatalf("run %s (%s), want canceled", run.Status, run.Error)
	}
	if _, err := other.RequestCancel(context.Background(), id); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Errorf("cancel of a canceled run: %v, want a conflict", err)
	}
}
