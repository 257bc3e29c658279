package workspace

import (
	"sort"
	"time"
)

// debouncer holds the paths with pending changes and the time each one
// becomes due: wait after its last change. It is owned by one goroutine and
// takes the time as an argument, so its rules are pure.
type debouncer struct {
	wait time.Duration
	due  map[string]time.Time
}

// newDebouncer returns an empty debouncer waiting wait after a change.
func newDebouncer(wait time.Duration) *debouncer {
	return &debouncer{wait: wait, due: make(map[string]time.Time)}
}

// touch records a change of key at now, postponing it if already pending.
func (d *debouncer) touch(key string, now time.Time) {
	d.due[key] = now.Add(d.wait)
}

// ready removes and returns, sorted, the keys due at now.
func (d *debouncer) ready(now time.Time) []string {
	var keys []string
	for k, t := range d.due {
		if !t.After(now) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		delete(d.due, k)
	}
	sort.Strings(keys)
	return keys
}

// next returns when the earliest pending key is due; false when none is.
func (d *debouncer) next() (time.Time, bool) {
	var first time.Time
	for _, t := range d.due {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first, !first.IsZero()
}

// len returns the number of pending keys.
func (d *debouncer) len() int { return len(d.due) }
