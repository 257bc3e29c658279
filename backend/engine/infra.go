package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"factorydesk/backend"
)

// DefaultServerRetries are the pauses before each new try of a model call
// that the server failed on its side: a model server out of GPU memory or
// restarting its runner often recovers within seconds.
var DefaultServerRetries = []time.Duration{2 * time.Second, 8 * time.Second, 30 * time.Second}

// EnvServerRetries names the variable that sets the pauses between tries of
// a model call the server failed: durations separated by commas ("2s,8s"),
// or "0" for no retry.
const EnvServerRetries = "FACTORY_MODEL_RETRIES"

// serverRetries parses the value of EnvServerRetries; "" or a bad value
// (logged) gives DefaultServerRetries.
func serverRetries(v string, log *slog.Logger) []time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultServerRetries
	}
	if v == "0" || v == "none" {
		return []time.Duration{}
	}
	var out []time.Duration
	for _, f := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 0 {
			log.Warn(fmt.Sprintf("%s=%q is not a list of durations like 2s,8s; using the default", EnvServerRetries, v))
			return DefaultServerRetries
		}
		out = append(out, d)
	}
	return out
}

// serverRetrying wraps a step's provider so that a call the server failed
// on its side (HTTP 5xx) is tried again after a pause, as an
// infrastructure failure: it is not the model's answer, so it never becomes
// the feedback of another attempt. When the tries run out the call fails
// with EUNAVAILABLE, which ends the step saying the server is at fault.
func (s *scheduler) serverRetrying(p backend.Provider, stepID string) backend.Provider {
	pauses := s.e.cfg.ServerRetries
	if pauses == nil {
		pauses = serverRetries(s.e.cfg.Getenv(EnvServerRetries), s.log)
	}
	if len(pauses) == 0 {
		return p
	}
	return &retryingProvider{Provider: p, pauses: pauses, onRetry: func(err error, n int, pause time.Duration) {
		msg := fmt.Sprintf("the model server failed (%v); trying the call again in %s (%d/%d)", err, pause, n, len(pauses))
		s.log.Warn(msg, "step", stepID)
		s.e.emit(Event{Kind: KindStep, RunID: s.run.ID, StepID: stepID, Status: backend.StatusRunning, Message: msg})
	}}
}

// retryingProvider tries a failed Chat again while the server's failures
// are its own (backend.ErrServerFailure) and pauses remain.
type retryingProvider struct {
	backend.Provider
	pauses  []time.Duration
	onRetry func(err error, n int, pause time.Duration)
}

// Chat calls the provider, trying again after each pause while the server
// fails on its side. A failure after a piece of the answer streamed is
// not tried again (the tokens already reached the UI).
func (p *retryingProvider) Chat(ctx context.Context, req backend.ChatRequest, onToken func(string)) (backend.ChatResponse, error) {
	for n := 0; ; n++ {
		streamed := false
		tok := onToken
		if onToken != nil {
			tok = func(s string) { streamed = true; onToken(s) }
		}
		resp, err := p.Provider.Chat(ctx, req, tok)
		if err == nil || streamed || !errors.Is(err, backend.ErrServerFailure) || ctx.Err() != nil {
			return resp, err
		}
		if n == len(p.pauses) {
			return resp, backend.WrapError(backend.EUNAVAILABLE, err,
				"the model server failed %d times, a failure of the server, not of the model's answer; fix the server (see its log), then resume the run", n+1)
		}
		p.onRetry(err, n+1, p.pauses[n])
		t := time.NewTimer(p.pauses[n])
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, err
		case <-t.C:
		}
	}
}
