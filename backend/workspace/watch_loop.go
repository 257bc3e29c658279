package workspace

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/fsnotify/fsnotify"
)

// loop is the one goroutine that owns the watcher's state: it takes file
// system events, debounces them, checks the paths that are due, runs the
// fallback scan and hands events to the consumer without blocking on it.
func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	defer close(w.events)
	defer w.stopTicker()
	if w.fsw != nil {
		defer w.fsw.Close()
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	var fsEvents <-chan fsnotify.Event
	var fsErrors <-chan error
	if w.fsw != nil {
		fsEvents, fsErrors = w.fsw.Events, w.fsw.Errors
	}
	for {
		var out chan<- Event
		var next Event
		if len(w.queue) > 0 {
			out, next = w.events, w.queue[0]
		}
		var tick <-chan time.Time
		if w.ticker != nil {
			tick = w.ticker.C
		}
		select {
		case <-ctx.Done():
			return
		case out <- next:
			w.queue[0] = Event{}
			w.queue = w.queue[1:]
		case e, ok := <-fsEvents:
			if !ok {
				fsEvents = nil
				continue
			}
			w.handle(e)
		case err, ok := <-fsErrors:
			if !ok {
				fsErrors = nil
				continue
			}
			w.handleError(ctx, err)
		case <-timer.C:
			armed = false
			w.flush(ctx)
		case <-tick:
			w.poll(ctx)
		}
		if !armed && w.pending.len() > 0 {
			wait := w.cfg.Debounce
			if at, ok := w.pending.next(); ok {
				wait = max(time.Until(at), time.Millisecond)
			}
			timer.Reset(wait)
			armed = true
		}
	}
}

// handle takes one file system event: a new folder gets its watches at once
// (and the files already in it are checked); every path is debounced.
func (w *Watcher) handle(e fsnotify.Event) {
	rel := w.rel(e.Name)
	if rel == "" || Ignored(rel) {
		return
	}
	now := time.Now()
	if e.Has(fsnotify.Create) {
		if fi, err := os.Lstat(e.Name); err == nil && fi.IsDir() {
			for _, f := range w.addTree(e.Name, true) {
				w.pending.touch(f, now)
			}
		}
	}
	if e.Has(fsnotify.Remove) || e.Has(fsnotify.Rename) {
		if w.dropWatches(e.Name) {
			w.goneDirs[rel] = true
		}
	}
	w.pending.touch(rel, now)
}

// handleError reports a watcher error. A lost event (the kernel queue
// overflowed) means anything may have changed: every file is checked again.
func (w *Watcher) handleError(ctx context.Context, err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Warn("file events were lost; checking every generated file again")
		clear(w.stats)
		w.poll(ctx)
		return
	}
	w.warn("", "the file watcher reported an error: "+err.Error())
}

// flush checks every path whose quiet time is over.
func (w *Watcher) flush(ctx context.Context) {
	for _, rel := range w.pending.ready(time.Now()) {
		if ctx.Err() != nil {
			return
		}
		w.checkPath(ctx, rel)
	}
}

// warn queues a warning event and logs it.
func (w *Watcher) warn(rel, msg string) {
	w.log.Warn(msg, "path", rel)
	w.emit(Event{Kind: EventWarning, Path: rel, Message: msg})
}
