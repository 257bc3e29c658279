package validate

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

// TestHelperProcess is not a test: hostile gates run the test binary with
// GATE_HELPER set to act as a small network client.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv("GATE_HELPER") {
	case "":
		return
	case "connect":
		c, err := net.DialTimeout("tcp", os.Getenv("GATE_ADDR"), 2*time.Second)
		if err != nil {
			fmt.Println("connect failed:", err)
			os.Exit(1)
		}
		fmt.Fprintln(c, "hello from the gate")
		c.Close()
		fmt.Println("connected")
		os.Exit(0)
	}
}

// needSandbox skips the test when bubblewrap cannot run here.
func needSandbox(t *testing.T) *Sandbox {
	t.Helper()
	sb := NewSandbox()
	if err := sb.Available(); err != nil {
		t.Skipf("no sandbox: %v", err)
	}
	return sb
}

// TestSandboxHostileGates runs gates that try to leave the output folder or
// reach the network, sandboxed (they must fail and leave no trace) and, as a
// control, unconfined (where they succeed).
func TestSandboxHostileGates(t *testing.T) {
	t.Parallel()
	sb := needSandbox(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			got <- string(buf[:n])
			c.Close()
		}
	}()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	connect := fmt.Sprintf("GATE_HELPER=connect GATE_ADDR=%s %s -test.run=TestHelperProcess", ln.Addr(), self)

	tests := []struct {
		name  string
		cmd   func(outside string) string
		trace func(t *testing.T, outside string) // checks that nothing escaped
	}{
		{name: "write outside the output folder", cmd: func(o string) string {
			return "echo evil > " + filepath.Join(o, "escaped.txt")
		}, trace: noFile("escaped.txt")},
		{name: "write through a symlink", cmd: func(o string) string {
			return "ln -s " + o + " link && echo evil > link/linked.txt"
		}, trace: noFile("linked.txt")},
		{name: "write into the home folder", cmd: func(o string) string {
			home, _ := os.UserHomeDir()
			return "echo evil > " + filepath.Join(home, ".factory-sandbox-escape")
		}, trace: func(t *testing.T, _ string) {
			home, _ := os.UserHomeDir()
			if _, err := os.Stat(filepath.Join(home, ".factory-sandbox-escape")); err == nil {
				os.Remove(filepath.Join(home, ".factory-sandbox-escape"))
				t.Error("the gate wrote into the home folder")
			}
		}},
		{name: "open a network connection", cmd: func(string) string { return connect },
			trace: func(t *testing.T, _ string) {
				select {
				case msg := <-got:
					t.Errorf("the listener got %q from a sandboxed gate", msg)
				case <-time.After(100 * time.Millisecond):
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not under /tmp, which the sandbox replaces with its own.
			base := sideDir(t)
			dir, outside := filepath.Join(base, "out"), filepath.Join(base, "elsewhere")
			for _, d := range []string{dir, outside} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			r := RunCommand(context.Background(), dir, tt.cmd(outside), Options{Mode: backend.SandboxRequired, Sandbox: sb, Timeout: time.Minute})
			if r.Passed || !r.Sandboxed {
				t.Fatalf("sandboxed hostile gate: passed=%v sandboxed=%v, want a sandboxed failure; output:\n%s", r.Passed, r.Sandboxed, r.Output)
			}
			tt.trace(t, outside)
			if _, err := os.Stat(filepath.Join(base, "parent.txt")); err == nil {
				t.Error("the gate wrote into the output folder's parent")
			}
		})
	}
	t.Run("control: unconfined gates succeed", func(t *testing.T) {
		base := t.TempDir()
		dir := filepath.Join(base, "out")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"echo ok > ../parent.txt", connect} {
			if r := RunCommand(context.Background(), dir, cmd, Options{Mode: backend.SandboxOff, Sandbox: sb}); !r.Passed || r.Sandboxed {
				t.Errorf("%s unconfined: passed=%v sandboxed=%v\n%s", cmd, r.Passed, r.Sandboxed, r.Output)
			}
		}
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Error("the unconfined gate's connection never arrived")
		}
	})
}

// sideDir returns a new folder next to the package's sources, removed at
// the end of the test.
func sideDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(wd, ".sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func noFile(name string) func(t *testing.T, outside string) {
	return func(t *testing.T, outside string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(outside, name)); err == nil {
			t.Errorf("the gate wrote %s outside the output folder", name)
		}
	}
}

// TestSandboxAllowsWork checks what a sandboxed gate may do: write the
// output folder, a private /tmp and its build cache; a Go build works.
func TestSandboxAllowsWork(t *testing.T) {
	t.Parallel()
	sb := needSandbox(t)
	dir, cache := sideDir(t), t.TempDir()
	cmd := `echo out > made.txt && echo tmp > "$TMPDIR/private.txt" && echo c > "$(go env GOCACHE)/probe" && go env GOCACHE GOPROXY`
	r := RunCommand(context.Background(), dir, cmd, Options{Sandbox: sb, CacheDir: cache, Timeout: time.Minute})
	if !r.Passed || !r.Sandboxed {
		t.Fatalf("passed=%v sandboxed=%v:\n%s", r.Passed, r.Sandboxed, r.Output)
	}
	if want := CacheMount + "\noff\n"; r.Output != want {
		t.Errorf("output %q, want %q (the private cache, no proxy)", r.Output, want)
	}
	if _, err := os.Stat(filepath.Join(cache, "probe")); err != nil {
		t.Errorf("the gate's cache is not the one given: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "made.txt")); err != nil {
		t.Errorf("the gate could not write its output folder: %v", err)
	}
}

// TestSandboxModes checks required and off with a sandbox that cannot work.
func TestSandboxModes(t *testing.T) {
	t.Parallel()
	broken := &Sandbox{Path: "no-such-bwrap-here"}
	tests := []struct {
		name      string
		mode      string
		passed    bool
		sandboxed bool
		output    string
	}{
		{name: "required fails clearly", mode: backend.SandboxRequired, output: "sandbox: required"},
		{name: "auto runs unconfined", mode: backend.SandboxAuto, passed: true, output: "ran"},
		{name: "off runs unconfined", mode: backend.SandboxOff, passed: true, output: "ran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := RunCommand(context.Background(), t.TempDir(), "echo ran", Options{Mode: tt.mode, Sandbox: broken})
			if r.Passed != tt.passed || r.Sandboxed != tt.sandboxed || !strings.Contains(r.Output, tt.output) {
				t.Errorf("passed=%v sandboxed=%v output %q; want %v %v %q", r.Passed, r.Sandboxed, r.Output, tt.passed, tt.sandboxed, tt.output)
			}
		})
	}
	if err := broken.Available(); err == nil || !strings.Contains(err.Error(), "apt-get install bubblewrap") {
		t.Errorf("Available() = %v, want advice to install bubblewrap", err)
	}
}

// TestSandboxTimeoutKillsAll: a sandboxed gate that outlives its timeout,
// with a background child holding its output open, is killed whole.
func TestSandboxTimeoutKillsAll(t *testing.T) {
	t.Parallel()
	sb := needSandbox(t)
	r := RunCommand(context.Background(), sideDir(t), "sleep 60 & sleep 60", Options{Sandbox: sb, Timeout: 300 * time.Millisecond})
	if !r.TimedOut || !r.Sandboxed || r.Passed {
		t.Fatalf("timedOut=%v sandboxed=%v passed=%v:\n%s", r.TimedOut, r.Sandboxed, r.Passed, r.Output)
	}
	if r.Duration > 30*time.Second {
		t.Errorf("the gate took %s to die", r.Duration) // the children would hold it 60s
	}
}
