package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/sqlite"
)

// bigRun shapes a synthetic run for the benchmarks.
type bigRun struct {
	ID       string
	Layers   int // steps are laid out in layers; each needs one or two of the layer before
	Width    int // steps per layer
	Attempts int // attempts per step, the last one succeeded
	Calls    int // model calls per attempt
	Spans    int // spans of the run in all
}

// seedRun records r in the workspace's database through the store, as a
// finished run would have left it.
func seedRun(t testing.TB, ws string, r bigRun) {
	t.Helper()
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(ws, ".factory", "factory.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-time.Hour).UTC()
	prompt, err := db.PutBlob(ctx, []byte(`{"messages":[{"role":"user","content":"# Step: s\n\nWrite the files."}]}`))
	must(err)
	answer, err := db.PutBlob(ctx, []byte(`{"files":[{"path":"a.go","content":"package a\n"}],"notes":"done"}`))
	must(err)
	file, err := db.PutBlob(ctx, []byte("package a\n"))
	must(err)

	steps := r.Layers * r.Width
	run := &backend.Run{ID: r.ID, BlueprintID: "big", BlueprintVersion: "v1", BlueprintPath: "blueprints/big.md",
		Model: "ollama:qwen2.5-coder:7b", Output: "out/big", Status: backend.StatusSucceeded, Parallel: 4,
		TokensIn: steps * r.Attempts * r.Calls * 1000, TokensOut: steps * r.Attempts * r.Calls * 200,
		Calls: steps * r.Attempts * r.Calls, StartedAt: start, EndedAt: start.Add(time.Duration(steps) * time.Second)}
	must(db.CreateRun(ctx, run))

	var spans []backend.Span
	span := func(name, parent string, at time.Time) string {
		id := fmt.Sprintf("%016x", len(spans)+1)
		spans = append(spans, backend.Span{TraceID: r.ID, SpanID: id, ParentID: parent, Name: name, Kind: "internal",
			Scope: "factorydesk", Start: at, End: at.Add(500 * time.Millisecond), StatusCode: backend.SpanOK,
			Attributes: map[string]any{"factory.run": r.ID}})
		return id
	}
	root := span("run big", "", start)
	for l := 0; l < r.Layers; l++ {
		for w := 0; w < r.Width; w++ {
			id := fmt.Sprintf("s%03d-%02d", l, w)
			at := start.Add(time.Duration(l*r.Width+w) * time.Second)
			var needs []string
			if l > 0 {
				needs = append(needs, fmt.Sprintf("s%03d-%02d", l-1, w))
				if w > 0 && w%3 == 0 {
					needs = append(needs, fmt.Sprintf("s%03d-%02d", l-1, w-1))
				}
			}
			must(db.SaveStep(ctx, &backend.StepRun{RunID: r.ID, StepID: id, Role: "backend-developer", Model: run.Model,
				Status: backend.StatusSucceeded, Attempts: r.Attempts, Sections: []string{"overview"}, Needs: needs,
				TokensIn: r.Attempts * r.Calls * 1000, TokensOut: r.Attempts * r.Calls * 200, StartedAt: at, EndedAt: at.Add(time.Second)}))
			stepSpan := span("step "+id, root, at)
			for n := 1; n <= r.Attempts; n++ {
				status, msg := backend.StatusSucceeded, ""
				if n < r.Attempts {
					status, msg = backend.StatusFailed, "gate go build ./... failed"
				}
				must(db.SaveAttempt(ctx, &backend.Attempt{RunID: r.ID, StepID: id, N: n, Status: status, Error: msg,
					StartedAt: at, EndedAt: at.Add(time.Second)}))
				attemptSpan := span(fmt.Sprintf("attempt %d", n), stepSpan, at)
				for c := 1; c <= r.Calls; c++ {
					call := &backend.ModelCall{RunID: r.ID, StepID: id, Attempt: n, Seq: c, Provider: "ollama", Model: "qwen2.5-coder:7b",
						PromptHash: prompt, AnswerHash: answer, TokensIn: 1000, TokensOut: 200, Duration: 800 * time.Millisecond,
						FirstToken: 100 * time.Millisecond, DoneReason: "stop", StartedAt: at}
					must(db.RecordCall(ctx, call))
					span("chat", attemptSpan, at)
				}
				must(db.RecordArtifact(ctx, &backend.Artifact{RunID: r.ID, StepID: id, Attempt: n, Path: id + "/a.go",
					SHA256: file, Size: 10, Sections: []string{"overview"}, CreatedAt: at}))
			}
		}
	}
	// The rest are the tool calls, gates and file writes of the attempts.
	for i := 0; len(spans) < r.Spans; i++ {
		span("write file", spans[1+i%(len(spans)-1)].SpanID, start.Add(time.Duration(i)*time.Millisecond))
	}
	for i := 0; i < len(spans); i += 2000 {
		must(db.SaveSpans(ctx, spans[i:min(i+2000, len(spans))]))
	}
}
