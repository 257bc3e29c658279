package rerun

import (
	"context"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/replay"
)

// TestCompareStepsVerdict: a step is identical only when its status, its
// files and every request match the record; a request that differed makes
// it diverge even when the files are the same (it was called identical).
func TestCompareStepsVerdict(t *testing.T) {
	t.Parallel()
	run := func(status string, files ...string) *backend.RunDetail {
		d := &backend.RunDetail{Steps: []backend.StepRun{{StepID: "code", Status: status}}}
		for _, f := range files {
			d.Artifacts = append(d.Artifacts, backend.Artifact{StepID: "code", Attempt: 1, Path: f, SHA256: "h-" + f})
		}
		return d
	}
	differed := []replay.Divergence{{StepID: "code", Attempt: 1, Seq: 1, Reason: "no call 1 of attempt 1 of step code was recorded"}}
	tests := []struct {
		name      string
		a, b      *backend.RunDetail
		divs      []replay.Divergence
		identical bool
	}{
		{name: "same status and files", a: run("succeeded", "main.go"), b: run("succeeded", "main.go"), identical: true},
		{name: "a request differed", a: run("succeeded", "main.go"), b: run("succeeded", "main.go"), divs: differed},
		{name: "a request of another step differed", a: run("succeeded", "main.go"), b: run("succeeded", "main.go"),
			divs: []replay.Divergence{{StepID: "docs", Reason: "x"}}, identical: true},
		{name: "status differs", a: run("succeeded", "main.go"), b: run("failed", "main.go")},
		{name: "a file is missing", a: run("succeeded", "main.go"), b: run("succeeded")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := compareSteps(context.Background(), nil, tt.a, tt.b, tt.divs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Identical != tt.identical {
				t.Errorf("compareSteps = %+v, want identical=%v", got, tt.identical)
			}
		})
	}
}
