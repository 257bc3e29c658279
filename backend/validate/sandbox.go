package validate

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
)

// Sandbox confines gate commands with bubblewrap (bwrap): no network, the
// whole file system read-only except the output folder, a private /tmp and a
// Go build cache. It probes once whether bwrap works here (it may be missing,
// or user namespaces disabled). A Sandbox is safe for concurrent use.
type Sandbox struct {
	// Path is the bwrap program; "" looks it up on PATH.
	Path string

	once  sync.Once
	bwrap string // the program, when it works
	err   error  // why it does not
}

// NewSandbox returns a Sandbox that uses bwrap from PATH.
func NewSandbox() *Sandbox { return &Sandbox{} }

// Available reports whether gates can be sandboxed, and if not, why.
func (s *Sandbox) Available() error {
	s.once.Do(s.probe)
	return s.err
}

// probe runs `true` in the sandbox once.
func (s *Sandbox) probe() {
	prog := s.Path
	if prog == "" {
		prog = "bwrap"
	}
	p, err := exec.LookPath(prog)
	if err != nil {
		s.err = backend.Errorf(backend.EUNAVAILABLE, "bubblewrap (bwrap) is not installed; install it (Debian: apt-get install bubblewrap) to sandbox gates")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	c := exec.CommandContext(ctx, p, append(baseArgs(), "true")...)
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		s.err = backend.Errorf(backend.EUNAVAILABLE, "bubblewrap (%s) cannot create a sandbox here: %s",
			p, strings.TrimSpace(firstLineOf(out.String()+" "+err.Error())))
		return
	}
	s.bwrap = p
}

// baseArgs are the bwrap arguments common to every sandboxed command.
func baseArgs() []string {
	return []string{
		"--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
		"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
	}
}

// command returns the argv running `sh -c cmd` in dir inside the sandbox,
// with dir and the writable folders (cache and such) bound read-write.
func (s *Sandbox) command(dir, cmd string, writable []string) []string {
	argv := append([]string{s.bwrap}, baseArgs()...)
	for _, w := range writable {
		argv = append(argv, "--bind", w, w)
	}
	argv = append(argv, "--bind", dir, dir, "--chdir", dir, "--", "sh", "-c", cmd)
	return argv
}

// sandboxEnv adjusts a gate's environment for the sandbox: its own /tmp, a
// writable build cache, no module downloads (there is no network).
func sandboxEnv(env []string, cacheDir string) []string {
	out := make([]string, 0, len(env)+4)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "TMPDIR", "GOCACHE", "GOPROXY", "GOTOOLCHAIN":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "TMPDIR=/tmp", "GOPROXY=off", "GOTOOLCHAIN=local")
	if cacheDir != "" {
		out = append(out, "GOCACHE="+cacheDir)
	}
	return out
}

// prepare decides how a gate runs under opts: the argv and environment, and
// whether it is sandboxed; a non-empty refusal fails the gate instead.
func (o Options) prepare(dir, cmd string, env []string) (argv, outEnv []string, sandboxed bool, refusal string) {
	mode := o.Mode
	if mode == "" {
		mode = backend.SandboxAuto
	}
	plain := []string{"sh", "-c", cmd}
	if mode == backend.SandboxOff || (o.Sandbox == nil && mode == backend.SandboxAuto) {
		return plain, env, false, ""
	}
	var err error
	if o.Sandbox == nil {
		err = backend.Errorf(backend.EUNAVAILABLE, "no sandbox configured")
	} else {
		err = o.Sandbox.Available()
	}
	if err != nil {
		if mode == backend.SandboxRequired {
			return nil, nil, false, fmt.Sprintf("the blueprint requires sandboxed gates (sandbox: required) but %v", err)
		}
		return plain, env, false, ""
	}
	var writable []string
	if o.CacheDir != "" {
		writable = append(writable, o.CacheDir)
	}
	return o.Sandbox.command(dir, cmd, writable), sandboxEnv(env, o.CacheDir), true, ""
}

func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
