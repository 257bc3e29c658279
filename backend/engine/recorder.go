package engine

import (
	"context"
	"sync"

	"factorydesk/backend"
)

// recorderQueue bounds the records waiting to be written; a full queue
// makes the steps wait for the store.
const recorderQueue = 1024

// recorderBatch is how many waiting records at most are written in one
// transaction, when the store can batch.
const recorderBatch = 64

// recordOp is one write to the store.
type recordOp func(ctx context.Context, st backend.Store) error

// recorder writes a run's records to the store behind the steps, in the
// order they were made, from one goroutine: steps do not wait for the store
// (SQLite serializes writes) unless the queue is full. A state save (a
// step's, an attempt's, the run's) still waiting in the queue is replaced in
// place by a newer save of the same state, so a store that falls behind
// writes the latest state once, in the position of the first. close waits
// until every record is written. The first failed write is kept.
type recorder struct {
	ctx   context.Context // not canceled with the run: its end must be recorded
	store backend.Store
	done  chan struct{}

	mu     sync.Mutex
	cond   *sync.Cond     // signals a queue change
	queue  []queued       // waiting writes, oldest first
	base   int            // sequence number of queue[0]
	keyed  map[string]int // state key -> sequence number of its queued save
	closed bool

	errMu sync.Mutex
	err   error
}

// queued is one waiting write; key is "" for writes that are never replaced.
type queued struct {
	key string
	op  recordOp
}

func newRecorder(ctx context.Context, store backend.Store) *recorder {
	r := &recorder{ctx: context.WithoutCancel(ctx), store: store, done: make(chan struct{}), keyed: map[string]int{}}
	r.cond = sync.NewCond(&r.mu)
	go r.loop()
	return r
}

func (r *recorder) loop() {
	defer close(r.done)
	for {
		r.mu.Lock()
		for len(r.queue) == 0 && !r.closed {
			r.cond.Wait()
		}
		if len(r.queue) == 0 {
			r.mu.Unlock()
			return
		}
		n := min(len(r.queue), recorderBatch)
		ops := make([]recordOp, n)
		for i := range n {
			q := r.queue[i]
			ops[i] = q.op
			if q.key != "" && r.keyed[q.key] == r.base+i {
				delete(r.keyed, q.key)
			}
			r.queue[i] = queued{}
		}
		r.queue = r.queue[n:]
		r.base += n
		r.cond.Broadcast()
		r.mu.Unlock()
		r.applyAll(ops)
	}
}

// applyAll writes ops in one transaction when the store can batch. When
// the batch fails it is rolled back whole and each op is written on its
// own, so that one bad record neither takes the others with it nor hides
// which one failed.
func (r *recorder) applyAll(ops []recordOp) {
	b, ok := r.store.(backend.Batcher)
	if ok && len(ops) > 1 {
		err := b.Batch(r.ctx, func(ctx context.Context) error {
			for _, op := range ops {
				if err := op(ctx, r.store); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return
		}
	}
	for _, op := range ops {
		r.apply(op)
	}
}

// apply runs one write and keeps its error.
func (r *recorder) apply(op recordOp) {
	if err := op(r.ctx, r.store); err != nil {
		r.fail(err)
	}
}

// do queues a write that is never replaced.
func (r *recorder) do(op recordOp) { r.save("", op) }

// save queues a write of the state named by key, replacing a queued write
// of the same state. After close (a step outliving its canceled run) the
// write is made at once.
func (r *recorder) save(key string, op recordOp) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.apply(op)
		return
	}
	if seq, ok := r.keyed[key]; ok && key != "" {
		r.queue[seq-r.base].op = op
		r.mu.Unlock()
		return
	}
	for len(r.queue) >= recorderQueue && !r.closed {
		r.cond.Wait()
	}
	if key != "" {
		r.keyed[key] = r.base + len(r.queue)
	}
	r.queue = append(r.queue, queued{key: key, op: op})
	r.cond.Broadcast()
	r.mu.Unlock()
}

// fail keeps the first error.
func (r *recorder) fail(err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// firstErr returns the first failed write so far.
func (r *recorder) firstErr() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

// close waits until every queued write is made and returns the first error.
func (r *recorder) close() error {
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	<-r.done
	return r.firstErr()
}
