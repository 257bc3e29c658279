package validate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
)

// systemDirs are the folders a sandboxed gate sees read-only, when they
// exist: the system's programs, libraries and configuration. The home
// folder, /tmp, /run, /var, /srv, /mnt and every other project are not among
// them.
var systemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"}

// CacheMount is where a sandboxed gate finds its Go build cache (GOCACHE):
// a fixed path, so the workspace folder that holds it stays unseen.
const CacheMount = "/run/factory-gate/go-build"

// Sandbox confines gate commands with bubblewrap (bwrap): no network, and
// a file system built of only what a build needs — the system folders and
// the Go toolchain and module cache read-only, the output folder and the
// build cache writable, a private /tmp as home. The workspace's .factory/,
// the operator's home folder and other projects do not exist inside. It
// probes once whether bwrap works here (it may be missing, or user
// namespaces disabled). A Sandbox is safe for concurrent use.
type Sandbox struct {
	// Path is the bwrap program; "" looks it up on PATH.
	Path string

	once  sync.Once
	bwrap string   // the program, when it works
	err   error    // why it does not
	ro    []string // read-only binds beyond systemDirs: the Go toolchain and module cache
	env   []string // what the sandbox's environment sets: GOMODCACHE
}

// NewSandbox returns a Sandbox that uses bwrap from PATH.
func NewSandbox() *Sandbox { return &Sandbox{} }

// Available reports whether gates can be sandboxed, and if not, why.
func (s *Sandbox) Available() error {
	s.once.Do(s.probe)
	return s.err
}

// probe finds the Go toolchain, then runs `true` in the sandbox once.
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
	s.ro, s.env = goToolchain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	c := exec.CommandContext(ctx, p, append(s.baseArgs(), "--remount-ro", "/", "true")...)
	c.Stdout, c.Stderr = &out, &out
	c.SysProcAttr = procAttr()
	if err := c.Run(); err != nil {
		s.err = backend.Errorf(backend.EUNAVAILABLE, "bubblewrap (%s) cannot create a sandbox here: %s",
			p, strings.TrimSpace(firstLineOf(out.String()+" "+err.Error())))
		return
	}
	s.bwrap = p
}

// goToolchain returns the folders of the Go toolchain a gate may read (the
// go command's folder, GOROOT, GOMODCACHE) and the variables that point a
// gate at them, as `go env` reports them in a gate's environment; none when
// Go is not installed.
func goToolchain() (ro, env []string) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, goBin, "env", "GOROOT", "GOMODCACHE")
	c.Env = gateEnv(nil)
	c.SysProcAttr = procAttr()
	out, err := c.Output()
	if err != nil {
		return nil, nil
	}
	if real, err := filepath.EvalSymlinks(goBin); err == nil {
		ro = append(ro, filepath.Dir(real))
	}
	ro = append(ro, filepath.Dir(goBin))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 2 {
		ro = append(ro, lines[0])
		if lines[1] != "" {
			ro = append(ro, lines[1])
			env = append(env, "GOMODCACHE="+lines[1])
		}
	}
	return ro, env
}

// baseArgs are the bwrap arguments common to every sandboxed command: new
// namespaces, the system folders and toolchain read-only, fresh /dev,
// /proc and /tmp.
func (s *Sandbox) baseArgs() []string {
	args := []string{"--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--new-session"}
	for _, d := range systemDirs {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			if target, err := os.Readlink(d); err == nil {
				args = append(args, "--symlink", target, d)
			}
		case fi.IsDir():
			args = append(args, "--ro-bind", d, d)
		}
	}
	for _, d := range s.ro {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !underAny(d, systemDirs) {
			args = append(args, "--ro-bind", d, d)
		}
	}
	return append(args, "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp")
}

// underAny reports whether dir is one of dirs or inside one.
func underAny(dir string, dirs []string) bool {
	for _, d := range dirs {
		if dir == d || strings.HasPrefix(dir, d+"/") {
			return true
		}
	}
	return false
}

// command returns the argv running `sh -c cmd` in dir inside the sandbox,
// with dir bound read-write and cache (when set) at CacheMount.
func (s *Sandbox) command(dir, cmd, cache string) []string {
	argv := append([]string{s.bwrap}, s.baseArgs()...)
	if cache != "" {
		argv = append(argv, "--bind", cache, CacheMount)
	}
	// The root holding the mount points is made read-only last.
	argv = append(argv, "--bind", dir, dir, "--remount-ro", "/", "--chdir", dir, "--", "sh", "-c", cmd)
	return argv
}

// sandboxEnv adjusts a gate's environment for the sandbox: /tmp as its
// home and temporary folder, the build cache at CacheMount, the module
// cache where the toolchain is, no module downloads (there is no network).
func (s *Sandbox) sandboxEnv(env []string, cache bool) []string {
	out := make([]string, 0, len(env)+6)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "TMPDIR", "HOME", "GOPATH", "GOCACHE", "GOMODCACHE", "GOPROXY", "GOTOOLCHAIN":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "TMPDIR=/tmp", "HOME=/tmp", "GOPROXY=off", "GOTOOLCHAIN=local")
	out = append(out, s.env...)
	if cache {
		out = append(out, "GOCACHE="+CacheMount)
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
	return o.Sandbox.command(dir, cmd, o.CacheDir), o.Sandbox.sandboxEnv(env, o.CacheDir != ""), true, ""
}

func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
