package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"factorydesk/backend"
)

// TestConcurrentWriters has ten DBs on one file, as ten factory processes
// would be, open a fresh database at once and write to it: no write may fail.
func TestConcurrentWriters(t *testing.T) {
	const writers, runsEach, callsEach = 10, 5, 20
	path := filepath.Join(t.TempDir(), ".factory", "factory.db")
	ctx := context.Background()

	dbs := make([]*DB, writers)
	errs := make(chan error, writers*runsEach*(callsEach*2+3))
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := NewDB(path)
			if err := d.Open(); err != nil {
				errs <- fmt.Errorf("writer %d: Open: %w", w, err)
				return
			}
			dbs[w] = d
			for i := range runsEach {
				writeRun(ctx, d, fmt.Sprintf("w%02d-r%02d", w, i), callsEach, errs)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for _, d := range dbs {
		if d != nil {
			t.Cleanup(func() {
				if err := d.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
	n := 0
	for err := range errs {
		n++
		if n <= 5 {
			t.Errorf("%v", err)
		}
	}
	if n > 0 {
		t.Fatalf("%d failed operations", n)
	}

	d := dbs[0]
	runs, err := d.Runs(ctx, backend.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != writers*runsEach {
		t.Fatalf("%d runs, want %d", len(runs), writers*runsEach)
	}
	rd := mustRun(t, d, "w09-r04")
	if len(rd.Calls) != callsEach || len(rd.Steps) != 1 {
		t.Fatalf("run w09-r04 has %d calls and %d steps, want %d and 1", len(rd.Calls), len(rd.Steps), callsEach)
	}
}

// writeRun creates a run and records a step and calls with their blobs,
// sending every error to errs.
func writeRun(ctx context.Context, d *DB, id string, calls int, errs chan<- error) {
	report := func(err error) {
		if err != nil {
			errs <- fmt.Errorf("run %s: %w", id, err)
		}
	}
	report(d.CreateRun(ctx, &backend.Run{ID: id, BlueprintID: "orders", Status: backend.StatusRunning}))
	for i := range calls {
		prompt, err := d.PutBlob(ctx, []byte(fmt.Sprintf("prompt %s %d", id, i)))
		report(err)
		report(d.RecordCall(ctx, &backend.ModelCall{RunID: id, StepID: "code", Attempt: 1, Seq: i + 1, PromptHash: prompt}))
		if _, err := d.Run(ctx, id); err != nil {
			report(err)
		}
	}
	report(d.SaveStep(ctx, &backend.StepRun{RunID: id, StepID: "code", Status: backend.StatusSucceeded}))
	report(d.UpdateRun(ctx, &backend.Run{ID: id, Status: backend.StatusSucceeded}))
}
