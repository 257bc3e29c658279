package app_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests of this package drive the real binaries: factory serve for the
// browser tests, the desktop build under Xvfb for the smoke test.

// binaries builds each binary once per test process.
var binaries = struct {
	sync.Mutex
	dir   string
	built map[string]string // build tags → path
}{built: map[string]string{}}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// buildFactory builds the factory binary with tags ("" for the CLI and
// browser mode) once, and returns its path.
func buildFactory(t testing.TB, tags string) string {
	t.Helper()
	binaries.Lock()
	defer binaries.Unlock()
	if p, ok := binaries.built[tags]; ok {
		return p
	}
	if binaries.dir == "" {
		dir, err := os.MkdirTemp("", "factory-app-")
		if err != nil {
			t.Fatal(err)
		}
		binaries.dir = dir
	}
	name := "factory"
	args := []string{"build"}
	if tags != "" {
		name = "factory-desk"
		args = append(args, "-tags", tags)
	}
	p := filepath.Join(binaries.dir, name)
	cmd := exec.Command("go", append(args, "-o", p, "factorydesk")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s (tags %q): %v\n%s", name, tags, err, out)
	}
	binaries.built[tags] = p
	return p
}

// frontendDir is the frontend's folder, absolute.
func frontendDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "frontend"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// baseEnv is a minimal environment for a child process, with its own HOME.
func baseEnv(home string) []string {
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir(), "LANG=C.UTF-8"}
	for _, k := range []string{"GOCACHE", "GOPATH", "GOMODCACHE", "GOFLAGS", "GOPROXY"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// newWorkspace makes a workspace with factory init and adds the testdata
// blueprints.
func newWorkspace(t testing.TB, bin string) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	cmd := exec.Command(bin, "init", ws)
	cmd.Env = baseEnv(t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("factory init: %v\n%s", err, out)
	}
	for _, name := range []string{"pipeline.md", "reviewed.md"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, "blueprints", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stop interrupts cmd, as Ctrl-C would, and kills it if it has not ended
// after a while.
func stop(cmd *exec.Cmd, done <-chan struct{}) {
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// serve starts factory serve on a free loopback port over ws and returns the
// URL it printed and its process id. It stops at the end of the test.
func serve(t testing.TB, bin, ws string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-w", ws, "serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(baseEnv(t.TempDir()), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		stop(cmd, done)
		if t.Failed() {
			t.Logf("factory serve's log:\n%s", stderr.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- strings.TrimSpace(sc.Text())
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u, ok := <-line:
		if !ok || !strings.HasPrefix(u, "http://") {
			t.Fatalf("factory serve printed %q, not a URL; its log:\n%s", u, stderr.String())
		}
		return u, cmd.Process.Pid
	case <-done:
		t.Fatalf("factory serve ended at once; its log:\n%s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("factory serve printed no URL; its log:\n%s", stderr.String())
	}
	return "", 0
}

// requireBrowser skips unless FACTORY_BROWSER_TESTS=1, and fails naming the
// remedy when that is set but chromium, node or the frontend are missing.
func requireBrowser(t testing.TB) {
	t.Helper()
	if os.Getenv("FACTORY_BROWSER_TESTS") != "1" {
		t.Skip("browser tests run with FACTORY_BROWSER_TESTS=1 (make test sets it); they need chromium, node and frontend/node_modules")
	}
	chromium := os.Getenv("FACTORY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	fe := frontendDir(t)
	for _, need := range []struct{ path, remedy string }{
		{chromium, "install Debian's chromium: make apt-test (or set FACTORY_CHROMIUM)"},
		{filepath.Join(fe, "node_modules", "playwright-core", "package.json"), "install the frontend's packages: cd frontend && npm ci"},
		{filepath.Join(fe, "dist", "index.html"), "build the frontend: cd frontend && npm run build"},
	} {
		if _, err := os.Stat(need.path); err != nil {
			t.Fatalf("FACTORY_BROWSER_TESTS=1 but %s is missing: %s", need.path, need.remedy)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("FACTORY_BROWSER_TESTS=1 but node is not on PATH: install Node.js 20 or later")
	}
}

// outDir is where the browser and desktop tests keep their screenshots:
// $FACTORY_E2E_OUT, or frontend/e2e/out.
func outDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FACTORY_E2E_OUT")
	if dir == "" {
		dir = filepath.Join(frontendDir(t), "e2e", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runNode runs a script of frontend/e2e with args and returns its output;
// the test fails when it exits non-zero.
func runNode(t testing.TB, env []string, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("e2e", script)}, args...)...)
	cmd.Dir = frontendDir(t)
	cmd.Env = append(baseEnv(t.TempDir()), append([]string{"FACTORY_E2E_OUT=" + outDir(t)}, env...)...)
	if c := os.Getenv("FACTORY_CHROMIUM"); c != "" {
		cmd.Env = append(cmd.Env, "FACTORY_CHROMIUM="+c)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil || testing.Verbose() {
		for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
			t.Log(l)
		}
	}
	if err != nil {
		t.Fatalf("node e2e/%s: %v", script, fmt.Sprint(err))
	}
	return out.String()
}
