// Package validate runs the gates a step's output must pass: shell commands
// (builds, tests, linters) run in the output folder, and built-in policies such
// as the secrets scan.
package validate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"factorydesk/backend"
)

// Defaults for Options.
const (
	DefaultTimeout   = 5 * time.Minute
	DefaultTailBytes = 64 << 10
)

// passedEnv names the variables a gate inherits from the current environment.
// Everything else is dropped so that a gate cannot see the operator's secrets.
var passedEnv = []string{
	"PATH", "HOME", "TMPDIR", "LANG", "GOPATH", "GOCACHE", "GOMODCACHE",
	"GOFLAGS", "GOPROXY", "CGO_ENABLED",
}

// Options tunes RunCommand.
type Options struct {
	Timeout   time.Duration // default 5m
	Env       []string      // extra KEY=VALUE pairs passed to the command
	TailBytes int           // bytes of combined output kept (the tail); default 64 KiB
	// Mode is the blueprint's sandbox mode: auto ("" too), required or off.
	Mode string
	// Sandbox confines the command when Mode allows; nil runs it unconfined
	// (and fails it when Mode is required).
	Sandbox *Sandbox
	// CacheDir is a folder the sandboxed command may write besides dir: its
	// Go build cache (GOCACHE). It must exist.
	CacheDir string
	// Redact, when set, is applied to the captured output.
	Redact func(string) string
}

// RunCommand runs `sh -c cmd` in dir, in its own process group, with a scrubbed
// environment (a few toolchain variables from the current environment plus
// opts.Env). On timeout or when ctx is canceled the whole process group is
// killed. The combined output is captured, keeping only its tail.
func RunCommand(ctx context.Context, dir, cmd string, opts Options) (res backend.GateResult) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.TailBytes <= 0 {
		opts.TailBytes = DefaultTailBytes
	}
	res = backend.GateResult{Name: cmd, ExitCode: -1}
	start := time.Now()
	// res is named so that the deferred duration reaches the caller.
	defer func() { res.Duration = time.Since(start) }()

	argv, env, sandboxed, refusal := opts.prepare(dir, cmd, gateEnv(opts.Env))
	res.Sandboxed = sandboxed
	if refusal != "" {
		res.Output = refusal
		return res
	}
	out := &tailBuffer{max: opts.TailBytes}
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = dir
	c.Env = env
	c.Stdout, c.Stderr = out, out
	c.SysProcAttr = procAttr()
	// A child that leaves the group but keeps the output pipe open must not
	// hold Wait forever.
	c.WaitDelay = 2 * time.Second
	if err := c.Start(); err != nil {
		res.Output = fmt.Sprintf("cannot start %q in %s: %v", cmd, dir, err)
		return res
	}
	pgid := c.Process.Pid

	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	timer := time.NewTimer(opts.Timeout)
	defer timer.Stop()

	var waitErr error
	var reason string
	select {
	case waitErr = <-done:
	case <-timer.C:
		res.TimedOut = true
		reason = fmt.Sprintf("killed: timed out after %s", opts.Timeout)
		waitErr = killGroup(pgid, done)
	case <-ctx.Done():
		reason = "killed: canceled"
		waitErr = killGroup(pgid, done)
	}
	// Background children that closed their output outlive the shell: the
	// group goes with the command.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)

	res.Output = out.String()
	if opts.Redact != nil {
		res.Output = opts.Redact(res.Output)
	}
	if reason != "" {
		res.Output += "\n[" + reason + "]\n"
		return res
	}
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		res.ExitCode, res.Passed = 0, true
	case errors.As(waitErr, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		res.Output += "\n[" + waitErr.Error() + "]\n"
	}
	return res
}

// killGroup sends SIGKILL to the process group and waits for the command.
func killGroup(pgid int, done <-chan error) error {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return <-done
}

// gateEnv returns the scrubbed environment of a gate.
func gateEnv(extra []string) []string {
	env := make([]string, 0, len(passedEnv)+len(extra))
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// tailBuffer is an io.Writer keeping (at least) the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write implements io.Writer; it never fails. The buffer grows to twice max
// before it drops its head, so each byte is copied a bounded number of times.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
		t.buf = t.buf[:0]
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return n, nil
}

// String returns the last max bytes written.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) > t.max {
		return string(t.buf[len(t.buf)-t.max:])
	}
	return string(t.buf)
}
