// Package callwatch bounds one model call: a whole-call timeout, and a stall
// timeout that fires when the server sends no bytes for too long. It also
// counts the bytes received and turns the ways a call can be interrupted into
// errors an operator can act on.
package callwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"factorydesk/backend"
)

// Default limits, used when a provider's configuration leaves them zero.
const (
	DefaultStall = 2 * time.Minute
	DefaultCall  = 30 * time.Minute
)

var (
	errStall   = errors.New("stalled")
	errTimeout = errors.New("call timed out")
)

type ctxKey struct{}

// Call watches one call. Use its Ctx for the request; call End when done.
type Call struct {
	// Ctx is canceled when the parent is, when the call runs past its
	// timeout, or when no data arrives for the stall timeout.
	Ctx context.Context

	parent        context.Context
	stall, total  time.Duration
	timer         *time.Timer
	cancel        context.CancelCauseFunc
	cancelTimeout context.CancelFunc
	bytes         atomic.Int64
}

// Begin starts watching a call made under parent. A zero stall or total
// means no such limit.
func Begin(parent context.Context, stall, total time.Duration) *Call {
	c := &Call{parent: parent, stall: stall, total: total, cancelTimeout: func() {}}
	ctx := parent
	if total > 0 {
		ctx, c.cancelTimeout = context.WithTimeoutCause(ctx, total, errTimeout)
	}
	ctx, c.cancel = context.WithCancelCause(ctx)
	if stall > 0 {
		c.timer = time.AfterFunc(stall, func() { c.cancel(errStall) })
	}
	c.Ctx = context.WithValue(ctx, ctxKey{}, c)
	return c
}

// End stops the timers and releases the call's context.
func (c *Call) End() {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.cancel(nil)
	c.cancelTimeout()
}

// Touch records n bytes received and restarts the stall timer.
func (c *Call) Touch(n int) {
	if n <= 0 {
		return
	}
	c.bytes.Add(int64(n))
	c.alive()
}

// alive restarts the stall timer.
func (c *Call) alive() {
	if c.timer != nil {
		c.timer.Reset(c.stall)
	}
}

// Bytes returns the number of bytes received so far.
func (c *Call) Bytes() int64 { return c.bytes.Load() }

// Body wraps a response body so that every read touches the call.
func (c *Call) Body(rc io.ReadCloser) io.ReadCloser { return &body{rc: rc, call: c} }

// Interrupted returns the error for a call that was canceled by its parent,
// ran past its timeout or stalled, and nil when none of these happened.
// server names the server for the message, e.g. "ollama at http://...".
func (c *Call) Interrupted(server string) error {
	if err := c.parent.Err(); err != nil {
		code := backend.ECANCELED
		if errors.Is(err, context.DeadlineExceeded) {
			code = backend.EUNAVAILABLE
		}
		return backend.WrapError(code, err, "model call to %s stopped", server)
	}
	switch context.Cause(c.Ctx) {
	case errStall:
		return backend.Errorf(backend.EUNAVAILABLE,
			"no data from the model server for %s (%s; raise FACTORY_MODEL_STALL_TIMEOUT for a model that loads slowly)",
			c.stall, server)
	case errTimeout:
		return backend.Errorf(backend.EUNAVAILABLE,
			"the model call to %s took longer than %s (raise FACTORY_MODEL_TIMEOUT to allow more)", server, c.total)
	}
	return nil
}

// Cut is the error for a stream that ended before its final message.
// received is the number of answer bytes that did arrive.
func Cut(server string, received int, err error) *backend.Error {
	msg := fmt.Sprintf("stream ended before the answer was complete (%d bytes received) from %s", received, server)
	return &backend.Error{Code: backend.EINTERNAL, Message: msg, Err: err}
}

type body struct {
	rc   io.ReadCloser
	call *Call
}

// Read implements io.Reader, touching the call.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.call.Touch(n)
	return n, err
}

// Close implements io.Closer.
func (b *body) Close() error { return b.rc.Close() }

// Transport wraps base (http.DefaultTransport when nil) so that the bodies of
// responses to requests made under a Call's context touch that call.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return transport{base: base}
}

type transport struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if c, ok := req.Context().Value(ctxKey{}).(*Call); ok && resp.Body != nil {
		c.alive() // the headers arrived
		resp.Body = c.Body(resp.Body)
	}
	return resp, nil
}

// Client returns a copy of hc (a new client when nil) whose transport is
// wrapped by Transport.
func Client(hc *http.Client) *http.Client {
	out := &http.Client{}
	if hc != nil {
		*out = *hc
	}
	out.Transport = Transport(out.Transport)
	return out
}

// AnswerLimit counts the bytes of one answer (its text and tool calls)
// against its limit, so a provider stops reading an answer that passes it
// rather than hold it whole.
type AnswerLimit struct {
	max, n int
}

// NewAnswerLimit returns the limit of a request's answer: max bytes, or
// backend.DefaultMaxAnswerBytes when max is 0.
func NewAnswerLimit(max int) *AnswerLimit {
	if max <= 0 {
		max = backend.DefaultMaxAnswerBytes
	}
	return &AnswerLimit{max: max}
}

// Max is the limit in bytes.
func (l *AnswerLimit) Max() int { return l.max }

// Add counts n more bytes from server; past the limit it returns the
// EINVALID error that fails the attempt, and the provider stops reading.
func (l *AnswerLimit) Add(n int, server string) error {
	if l.n+n <= l.max {
		l.n += n
		return nil
	}
	return backend.Errorf(backend.EINVALID,
		"the answer from %s passed its limit of %d bytes; it was not read further: ask for less, or raise the step's max_answer_kb",
		server, l.max)
}
