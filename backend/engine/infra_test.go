package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// TestServerFailuresAreRetriedNotFedBack: an HTTP 500 from the model server
// ("CUDA out of memory") is tried again after a pause within the same
// attempt, never handed to the model as the failure of its answer; when
// the server keeps failing the step fails saying the server is at fault.
// (Before, the 500 became the next attempt's "fix these problems".)
func TestServerFailuresAreRetriedNotFedBack(t *testing.T) {
	t.Parallel()
	oom := modeltest.Reply{Status: 500, Error: "CUDA out of memory"}
	ok := filesReply(map[string]string{"code.txt": "fine\n"})
	tests := []struct {
		name     string
		replies  []modeltest.Reply
		status   string
		requests int
	}{
		{name: "recovers", replies: []modeltest.Reply{oom, oom, ok}, status: backend.StatusSucceeded, requests: 3},
		{name: "keeps failing", replies: []modeltest.Reply{oom}, status: backend.StatusFailed, requests: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, func(c *Config) { c.ServerRetries = []time.Duration{time.Millisecond, time.Millisecond} })
			env.script("code", tt.replies...)
			st := step("code")
			st.Retries = 2
			run := env.run(context.Background(), blueprint(st), RunOptions{NoCache: true})
			d := env.detail(run.ID)
			if run.Status != tt.status {
				t.Fatalf("run %s, want %s: %s", run.Status, tt.status, run.Error)
			}
			if len(d.Attempts) != 1 {
				t.Errorf("%d attempts, want 1: a server failure is not the model's", len(d.Attempts))
			}
			reqs := env.server.Requests()
			if len(reqs) != tt.requests {
				t.Errorf("%d requests, want %d", len(reqs), tt.requests)
			}
			for i, r := range reqs {
				for _, m := range r.Messages {
					if strings.Contains(m.Content, "CUDA") {
						t.Errorf("request %d hands the server's failure to the model: %q", i+1, m.Content)
					}
				}
			}
			if tt.status == backend.StatusFailed {
				contains(t, "step error", d.Steps[0].Error, "not of the model's answer")
				contains(t, "step error", d.Steps[0].Error, "CUDA out of memory")
			}
		})
	}
}

func TestServerRetriesFromTheEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    string
		want []time.Duration
	}{
		{name: "unset", v: "", want: DefaultServerRetries},
		{name: "none", v: "0", want: []time.Duration{}},
		{name: "list", v: "10ms, 2s", want: []time.Duration{10 * time.Millisecond, 2 * time.Second}},
		{name: "bad", v: "soon", want: DefaultServerRetries},
		{name: "negative", v: "-1s", want: DefaultServerRetries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := serverRetries(tt.v, slog.New(slog.DiscardHandler))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
				t.Errorf("serverRetries(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}
