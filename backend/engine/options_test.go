package engine

import (
	"context"
	"reflect"
	"testing"

	"factorydesk/backend"
)

// TestStepOptions checks a step's model options: the step's over the
// role's over the blueprint's, sent to the model, and part of the step's
// cache key.
func TestStepOptions(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	f := func(v float64) *float64 { return &v }
	n := func(v int) *int { return &v }
	bp := blueprint(step("design"), step("code", "design"))
	bp.Options = backend.ModelOptions{Temperature: f(0.1), MaxTokens: n(100), Stop: []string{"###"}}
	bp.Steps[1].Options = backend.ModelOptions{Temperature: f(0.7)}
	rs := roles()
	seed := int64(3)
	rs["dev"].Options = backend.ModelOptions{Seed: &seed, MaxTokens: n(200)}
	run := env.run(context.Background(), bp, RunOptions{Roles: rs})
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	want := map[string]map[string]any{
		"design": {"temperature": 0.1, "num_predict": 200.0, "seed": 3.0, "stop": []any{"###"}},
		"code":   {"temperature": 0.7, "num_predict": 200.0, "seed": 3.0, "stop": []any{"###"}},
	}
	reqs := env.server.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if got := r.Options; !reflect.DeepEqual(got, want[stepOf(r)]) {
			t.Errorf("step %s options %v, want %v", stepOf(r), got, want[stepOf(r)])
		}
	}

	// The same run again is taken from the cache; a changed role option
	// makes both steps run again.
	again := env.run(context.Background(), bp, RunOptions{Roles: rs})
	if got := len(env.server.Requests()); got != 2 || again.Status != backend.StatusSucceeded {
		t.Fatalf("unchanged run made %d requests in all (%s)", got, again.Status)
	}
	rs["dev"].Options.Seed = nil
	third := env.run(context.Background(), bp, RunOptions{Roles: rs})
	if got := len(env.server.Requests()); got != 4 || third.Status != backend.StatusSucceeded {
		t.Errorf("run after a role option changed made %d requests in all, want 4 (%s)", got, third.Status)
	}
}

// TestOptionAttrs checks the model-call span names the options by the
// GenAI conventions.
func TestOptionAttrs(t *testing.T) {
	opts := backend.ModelOptions{Temperature: ptrTo(0.2), TopP: ptrTo(0.9), MaxTokens: ptrTo(64), Stop: []string{"###"}}.Map()
	got := map[string]any{}
	for _, kv := range optionAttrs(opts) {
		got[string(kv.Key)] = kv.Value.AsInterface()
	}
	want := map[string]any{
		"gen_ai.request.temperature":    0.2,
		"gen_ai.request.top_p":          0.9,
		"gen_ai.request.max_tokens":     int64(64),
		"gen_ai.request.stop_sequences": []string{"###"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
}

func ptrTo[T any](v T) *T { return &v }
