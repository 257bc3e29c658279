package engine

import (
	"context"
	"time"
)

// DefaultCancelPoll is how often a running run looks for a cancel asked
// for by another process (the app, for a run started in a terminal).
const DefaultCancelPoll = 250 * time.Millisecond

// watchCancel returns ctx canceled when a cancel of the run is asked for
// through the store (by any process), and the func that stops watching.
func (s *scheduler) watchCancel(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	poll := s.opts.CancelPoll
	if poll <= 0 {
		poll = DefaultCancelPoll
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			asked, err := s.e.cfg.Store.CancelRequested(ctx, s.run.ID)
			if err == nil && asked {
				s.log.Info("canceled at the request of another process")
				cancel()
				return
			}
		}
	}()
	return ctx, func() {
		cancel()
		<-done
	}
}
