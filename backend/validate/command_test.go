package validate

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cmd      string
		opts     Options
		passed   bool
		exit     int
		timedOut bool
		output   string // substring of the output
	}{
		{name: "pass", cmd: "echo hello", passed: true, exit: 0, output: "hello\n"},
		{name: "fail with exit code", cmd: "echo broken >&2; exit 3", exit: 3, output: "broken"},
		{name: "runs in dir", cmd: "cat marker.txt", passed: true, output: "in the folder"},
		{name: "extra env", cmd: `echo "v=$GATE_EXTRA"`, opts: Options{Env: []string{"GATE_EXTRA=42"}}, passed: true, output: "v=42"},
		{name: "timeout", cmd: "echo started; sleep 30", opts: Options{Timeout: 200 * time.Millisecond}, exit: -1, timedOut: true, output: "timed out"},
		{name: "missing command", cmd: "no-such-command-xyz", exit: 127, output: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "marker.txt"), "in the folder")
			r := RunCommand(context.Background(), dir, tt.cmd, tt.opts)
			if r.Passed != tt.passed || r.ExitCode != tt.exit || r.TimedOut != tt.timedOut {
				t.Errorf("passed=%v exit=%d timedOut=%v, want %v %d %v; output:\n%s",
					r.Passed, r.ExitCode, r.TimedOut, tt.passed, tt.exit, tt.timedOut, r.Output)
			}
			if !strings.Contains(r.Output, tt.output) {
				t.Errorf("output %q does not contain %q", r.Output, tt.output)
			}
			if r.Name != tt.cmd {
				t.Errorf("name = %q, want %q", r.Name, tt.cmd)
			}
		})
	}
}

// TestRunCommandKillsGroup checks that a gate's background children die with
// it, on timeout and on cancel.
func TestRunCommandKillsGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		cancel  bool
	}{
		{name: "timeout", timeout: 300 * time.Millisecond},
		{name: "cancel", timeout: time.Minute, cancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The gate starts two children, records their pids, then waits.
			cmd := `sleep 30 & echo $! > pids; sleep 30 & echo $! >> pids; touch ready; wait`
			if tt.cancel {
				go func() {
					waitForFile(t, filepath.Join(dir, "ready"))
					cancel()
				}()
			}
			r := RunCommand(ctx, dir, cmd, Options{Timeout: tt.timeout})
			if r.Passed {
				t.Fatalf("gate passed, want killed")
			}
			if r.TimedOut != !tt.cancel {
				t.Errorf("timedOut = %v", r.TimedOut)
			}
			pids := readPids(t, filepath.Join(dir, "pids"))
			if len(pids) != 2 {
				t.Fatalf("pids = %v, want 2", pids)
			}
			for _, pid := range pids {
				if aliveAfterKill(pid) {
					t.Errorf("child %d still alive after the gate returned", pid)
				}
			}
		})
	}
}

func TestRunCommandBackgroundChildAfterExit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The shell exits at once, leaving a child that closed its output.
	r := RunCommand(context.Background(), dir, `sleep 30 >/dev/null 2>&1 & echo $! > pids`, Options{})
	if !r.Passed {
		t.Fatalf("gate failed: %s", r.Output)
	}
	for _, pid := range readPids(t, filepath.Join(dir, "pids")) {
		if aliveAfterKill(pid) {
			t.Errorf("child %d outlived its gate", pid)
		}
	}
}

func TestRunCommandKeepsTail(t *testing.T) {
	t.Parallel()
	r := RunCommand(context.Background(), t.TempDir(), "seq 1 200000", Options{TailBytes: 1000})
	if !r.Passed {
		t.Fatalf("gate failed: %s", r.Output)
	}
	if len(r.Output) != 1000 {
		t.Errorf("output is %d bytes, want 1000", len(r.Output))
	}
	if !strings.HasSuffix(r.Output, "199999\n200000\n") {
		t.Errorf("output does not end with the last lines: %q", r.Output[len(r.Output)-40:])
	}
}

func TestRunCommandScrubsEnv(t *testing.T) {
	t.Setenv("GATE_TEST_SECRET", "hunter2")
	t.Setenv("PATH", os.Getenv("PATH"))
	r := RunCommand(context.Background(), t.TempDir(), `echo "secret=${GATE_TEST_SECRET:-unset}"; echo "path=$PATH"; env | wc -l`, Options{})
	if !r.Passed {
		t.Fatalf("gate failed: %s", r.Output)
	}
	if !strings.Contains(r.Output, "secret=unset") {
		t.Errorf("the gate saw a variable of the test process: %s", r.Output)
	}
	if !strings.Contains(r.Output, "path="+os.Getenv("PATH")) {
		t.Errorf("PATH not passed: %s", r.Output)
	}
}

func TestRunCommandBadDir(t *testing.T) {
	t.Parallel()
	r := RunCommand(context.Background(), filepath.Join(t.TempDir(), "missing"), "true", Options{})
	if r.Passed || r.ExitCode != -1 || !strings.Contains(r.Output, "cannot start") {
		t.Errorf("got %+v", r)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readPids(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pid %q: %v", f, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// aliveAfterKill reports whether a process is still alive once a SIGKILL
// sent to it has had a chance to be delivered (it is asynchronous).
func aliveAfterKill(pid int) bool {
	for range 500 {
		if !alive(pid) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// TestRunCommandDuration checks that a gate's result carries how long it
// ran, passed, failed or timed out (it was recorded as 0 before).
func TestRunCommandDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cmd  string
		opts Options
		min  time.Duration
	}{
		{name: "passed", cmd: "sleep 0.3", min: 300 * time.Millisecond},
		{name: "failed", cmd: "sleep 0.3; exit 2", min: 300 * time.Millisecond},
		{name: "timed out", cmd: "sleep 30", opts: Options{Timeout: 300 * time.Millisecond}, min: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := RunCommand(context.Background(), t.TempDir(), tt.cmd, tt.opts)
			if r.Duration < tt.min {
				t.Errorf("duration %s, want at least %s (output %q)", r.Duration, tt.min, r.Output)
			}
		})
	}
}
