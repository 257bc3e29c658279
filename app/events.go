package app

import (
	"sync"
	"time"
)

// Event is one thing that happened, as the UI receives it.
type Event struct {
	Time      time.Time     `json:"time"`
	Kind      string        `json:"kind"` // run, step, attempt, call, token, gate, pull, drift
	RunID     string        `json:"run_id,omitempty"`
	StepID    string        `json:"step,omitempty"`
	Attempt   int           `json:"attempt,omitempty"`
	Status    string        `json:"status,omitempty"`
	Message   string        `json:"message,omitempty"`
	Text      string        `json:"text,omitempty"`
	TokensIn  int           `json:"tokens_in,omitempty"`
	TokensOut int           `json:"tokens_out,omitempty"`
	Duration  time.Duration `json:"duration_ns,omitempty"`
	Name      string        `json:"name,omitempty"`
	Completed int64         `json:"completed,omitempty"`
	Total     int64         `json:"total,omitempty"`
	Hash      string        `json:"hash,omitempty"` // blueprint.changed: the file's new sha256
}

// Emitter receives batches of events. The desktop and browser adapters each
// implement it; it must not block for long.
type Emitter func(batch []Event)

// batcher collects events and hands them to its subscribers at most once per
// interval, merging consecutive tokens of one attempt, so that a fast run
// does not flood the UI.
type batcher struct {
	interval time.Duration

	mu      sync.Mutex
	pending []Event
	subs    map[int]Emitter
	nextID  int
	timer   *time.Timer
	stopped bool
}

func newBatcher(interval time.Duration) *batcher {
	return &batcher{interval: interval, subs: map[int]Emitter{}}
}

// add queues e, merging it into the previous event when both are tokens of
// the same attempt.
func (b *batcher) add(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped || len(b.subs) == 0 {
		return
	}
	if n := len(b.pending); n > 0 && e.Kind == "token" {
		last := &b.pending[n-1]
		if last.Kind == "token" && last.RunID == e.RunID && last.StepID == e.StepID && last.Attempt == e.Attempt {
			last.Text += e.Text
			return
		}
	}
	b.pending = append(b.pending, e)
	if b.timer == nil {
		b.timer = time.AfterFunc(b.interval, b.flush)
	}
}

// flush delivers what is pending.
func (b *batcher) flush() {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.timer = nil
	subs := make([]Emitter, 0, len(b.subs))
	for _, s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	for _, s := range subs {
		s(batch)
	}
}

// subscribe adds an emitter and returns the function that removes it.
func (b *batcher) subscribe(e Emitter) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextID
	b.nextID++
	b.subs[id] = e
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// stop flushes what is pending and drops later events.
func (b *batcher) stop() {
	b.flush()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	if b.timer != nil {
		b.timer.Stop()
	}
}
