package app_test

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// DesktopTags are the build tags of the desktop window.
const desktopTags = "desktop,production,webkit2_41"

// screen is the size of the virtual screen; the window asks for 1280x820.
const screenW, screenH = 1400, 900

// A drawn runs view has the navigation bar's and the view's text, hence many
// colours (antialiasing); a blank window has one or two.
const (
	minColours = 40
	minShare   = 0.01
)

// requireDesktop skips unless FACTORY_DESKTOP_TESTS=1 on Linux, and fails
// naming the remedy when that is set but Xvfb or xwd are missing.
func requireDesktop(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Getenv("FACTORY_DESKTOP_TESTS") != "1" {
		t.Skip("the desktop smoke test runs on Linux with FACTORY_DESKTOP_TESTS=1 (make test sets it); it needs Xvfb, xwd and libwebkit2gtk-4.1-dev")
	}
	for _, tool := range []struct{ name, pkg string }{{"Xvfb", "xvfb"}, {"xwd", "x11-apps"}, {"pkg-config", "pkg-config"}} {
		if _, err := exec.LookPath(tool.name); err != nil {
			t.Fatalf("FACTORY_DESKTOP_TESTS=1 but %s is missing: install Debian's %s (make apt-test)", tool.name, tool.pkg)
		}
	}
	if err := exec.Command("pkg-config", "--exists", "webkit2gtk-4.1").Run(); err != nil {
		t.Fatal("FACTORY_DESKTOP_TESTS=1 but webkit2gtk-4.1 is missing: install Debian's libwebkit2gtk-4.1-dev (make apt-desktop)")
	}
}

// startXvfb starts a virtual screen on a free display and returns its name
// (":N"). It stops at the end of the test.
func startXvfb(t testing.TB) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", screenW, screenH), "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() { stop(cmd, done) })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatalf("Xvfb named no display: %s", stderr.String())
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb did not start: %s", stderr.String())
	}
	return ""
}

// grab takes a screenshot of display.
func grab(ctx context.Context, display string) (*image.RGBA, error) {
	out, err := exec.CommandContext(ctx, "xwd", "-root", "-silent", "-display", display).Output()
	if err != nil {
		return nil, fmt.Errorf("xwd: %w", err)
	}
	return decodeXWD(out)
}

// desktopStart is one start of the desktop window until its runs view is drawn.
type desktopStart struct {
	FirstPaint time.Duration // from the process start to the first drawn screenshot
	Shot       *image.RGBA
	Paint      paint
	RSS        int64 // the process's resident memory then, in bytes (0 if unknown)
	Log        string
}

// startDesktop starts the desktop binary on ws under display and waits for a
// screenshot where the runs view is drawn; the start fails after limit. The
// window closes when closeWindow is called, or at the end of the test.
func startDesktop(t testing.TB, bin, display, ws string, limit time.Duration) (s desktopStart, closeWindow func()) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, "-w", ws)
	cmd.Env = append(baseEnv(home), "DISPLAY="+display, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR="+home, "NO_AT_BRIDGE=1",
		// WebKitGTK in a container, as root, with no GPU: no sandbox, no compositing.
		"WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1", "WEBKIT_DISABLE_COMPOSITING_MODE=1", "LIBGL_ALWAYS_SOFTWARE=1")
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	var once sync.Once
	closeWindow = func() { once.Do(func() { stop(cmd, done) }) }
	t.Cleanup(closeWindow)

	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var last *image.RGBA
	var lastPaint paint
	for {
		select {
		case <-done:
			t.Fatalf("the desktop window ended at once; its log:\n%s", log.String())
		default:
		}
		img, err := grab(ctx, display)
		if err == nil {
			last, lastPaint = img, measurePaint(img, img.Bounds())
			if lastPaint.Colours >= minColours && lastPaint.Share >= minShare {
				return desktopStart{FirstPaint: time.Since(started), Shot: img, Paint: lastPaint, RSS: rss(cmd.Process.Pid), Log: log.String()}, closeWindow
			}
		}
		select {
		case <-ctx.Done():
			if last != nil {
				savePNG(t, "desktop-failure.png", last)
			}
			t.Fatalf("the runs view was not drawn within %s (last screenshot: %d colours, %.1f%% drawn; %v); the window's log:\n%s",
				limit, lastPaint.Colours, 100*lastPaint.Share, err, log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// rss returns the resident memory of pid and its children, in bytes.
func rss(pid int) int64 {
	var total int64
	var walk func(int)
	walk = func(p int) {
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p)); err == nil {
			var size, res int64
			if _, err := fmt.Sscan(string(data), &size, &res); err == nil {
				total += res * int64(os.Getpagesize())
			}
		}
		children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p, p))
		for _, c := range strings.Fields(string(children)) {
			var cp int
			if _, err := fmt.Sscan(c, &cp); err == nil {
				walk(cp)
			}
		}
	}
	walk(pid)
	return total
}

func savePNG(t testing.TB, name string, img image.Image) string {
	t.Helper()
	p := filepath.Join(outDir(t), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDesktopSmoke builds the desktop binary, opens its window on a fresh
// workspace under Xvfb and checks from a screenshot that the runs view is
// drawn, not a blank window.
func TestDesktopSmoke(t *testing.T) {
	requireDesktop(t)
	bin := buildFactory(t, desktopTags)
	ws := newWorkspace(t, buildFactory(t, ""))
	display := startXvfb(t)
	s, _ := startDesktop(t, bin, display, ws, 90*time.Second)
	p := savePNG(t, "desktop-runs.png", s.Shot)
	t.Logf("runs view drawn %s after start: %d colours, %.1f%% of the screen drawn, RSS %d MiB; screenshot %s",
		s.FirstPaint.Round(time.Millisecond), s.Paint.Colours, 100*s.Paint.Share, s.RSS>>20, p)

	// The window is where the screen is not the root's colour; its
	// navigation bar, at the top, is drawn.
	win := windowBounds(s.Shot)
	if win.Dx() < 900 || win.Dy() < 560 {
		t.Fatalf("the window is %v, smaller than its minimum size 900x560", win)
	}
	nav := measurePaint(s.Shot, image.Rect(win.Min.X, win.Min.Y, win.Max.X, win.Min.Y+36))
	if nav.Colours < 10 || nav.Share < minShare {
		t.Errorf("the navigation bar looks blank: %d colours, %.1f%% drawn", nav.Colours, 100*nav.Share)
	}
}

// windowBounds returns the bounding box of the pixels unlike the screen's
// top-left corner, which Xvfb's root window fills.
func windowBounds(img *image.RGBA) image.Rectangle {
	root := img.RGBAAt(0, 0)
	b := img.Bounds()
	out := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.RGBAAt(x, y) != root {
				out.Min.X, out.Min.Y = min(out.Min.X, x), min(out.Min.Y, y)
				out.Max.X, out.Max.Y = max(out.Max.X, x+1), max(out.Max.Y, y+1)
			}
		}
	}
	return out.Canon()
}
