package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"factorydesk/backend/model/modeltest"
	wsp "factorydesk/backend/workspace"
)

const readmeV1 = "# Hello\n\nA greeting service.\n\n## Run\n\n    go run .\n\n## Test\n\n    go test ./...\n\n## License\n\nMIT\n"

// generateHello runs the hello blueprint once with readme as its README.md.
func generateHello(t *testing.T, ws string, srv *modeltest.Ollama, readme string) result {
	t.Helper()
	files := map[string]string{"README.md": readme}
	for k, v := range helloFiles {
		if k != "README.md" {
			files[k] = v
		}
	}
	srv.Enqueue(modeltest.Reply{Content: modeltest.FilesAnswer(files, "done")})
	return factory(t, ws, ollamaEnv(srv), "run", "hello", "--model", "ollama:"+modeltest.DefaultModel)
}

// drifts runs factory drift --json.
func drifts(t *testing.T, ws string) []wsp.Drift {
	t.Helper()
	var ds []wsp.Drift
	decode(t, must(t, factory(t, ws, nil, "drift", "--json"), 0).stdout, &ds)
	return ds
}

// factoryIn runs the binary with stdin.
func factoryIn(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	return factoryWith(t, dir, nil, strings.NewReader(stdin), args...)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDriftAcceptRevert(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	must(t, generateHello(t, ws, srv, readmeV1), 0)
	readme := filepath.Join(ws, "out", "hello", "README.md")
	if ds := drifts(t, ws); len(ds) != 0 {
		t.Fatalf("drift right after a run: %+v", ds)
	}

	// An edit made while nothing watches is found by the scan.
	edited := strings.Replace(readmeV1, "MIT\n", "Apache-2.0\n", 1)
	writeFile(t, readme, edited)
	ds := drifts(t, ws)
	if len(ds) != 1 || ds[0].Path != "out/hello/README.md" || ds[0].Deleted {
		t.Fatalf("drift = %+v", ds)
	}
	for _, want := range []string{"-MIT", "+Apache-2.0", "a/out/hello/README.md (generated)"} {
		contains(t, "diff", ds[0].Diff, want)
	}
	text := must(t, factory(t, ws, nil, "drift"), 0).stdout
	contains(t, "factory drift", text, "edited  out/hello/README.md")

	t.Run("revert not confirmed changes nothing", func(t *testing.T) {
		r := must(t, factoryIn(t, ws, "n\n", "drift", "revert", "out/hello/README.md"), 1)
		contains(t, "stderr", r.stderr, "[y/N]")
		if got := mustRead(t, readme); got != edited {
			t.Errorf("README.md = %q after a refused revert", got)
		}
	})
	t.Run("accept makes the edit the base", func(t *testing.T) {
		r := must(t, factory(t, ws, nil, "drift", "accept", "out/hello/README.md"), 0)
		contains(t, "stdout", r.stdout, "accepted out/hello/README.md")
		if ds := drifts(t, ws); len(ds) != 0 {
			t.Fatalf("drift after accept: %+v", ds)
		}
	})
	t.Run("revert restores the base and keeps the edit", func(t *testing.T) {
		writeFile(t, readme, "scribbled over\n")
		r := must(t, factoryIn(t, ws, "yes\n", "drift", "revert", "out/hello/README.md"), 0)
		contains(t, "stdout", r.stdout, "reverted out/hello/README.md")
		if got := mustRead(t, readme); got != edited {
			t.Errorf("README.md = %q after revert, want the accepted version", got)
		}
		kept := strings.TrimSpace(r.stdout[strings.Index(r.stdout, ".factory/reverted/"):])
		if got := mustRead(t, filepath.Join(ws, filepath.FromSlash(kept))); got != "scribbled over\n" {
			t.Errorf("kept version = %q", got)
		}
		if ds := drifts(t, ws); len(ds) != 0 {
			t.Fatalf("drift after revert: %+v", ds)
		}
	})
	t.Run("a deleted file is reverted with --yes", func(t *testing.T) {
		if err := os.Remove(readme); err != nil {
			t.Fatal(err)
		}
		if ds := drifts(t, ws); len(ds) != 1 || !ds[0].Deleted {
			t.Fatalf("drift of a deleted file = %+v", ds)
		}
		must(t, factory(t, ws, nil, "drift", "revert", "--yes", "out/hello/README.md"), 0)
		if got := mustRead(t, readme); got != edited {
			t.Errorf("README.md = %q", got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		r := must(t, factory(t, ws, nil, "drift", "accept", "out/hello/nope.go"), 1)
		contains(t, "stderr", r.stderr, "not a generated file")
		must(t, factory(t, ws, nil, "drift", "accept"), 2)
		must(t, factory(t, ws, nil, "drift", "revert", "../outside"), 2)
	})
}

func TestRegenerationMergesHandEdits(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	must(t, generateHello(t, ws, srv, readmeV1), 0)
	readme := filepath.Join(ws, "out", "hello", "README.md")
	handEdit := strings.Replace(readmeV1, "A greeting service.\n", "A greeting service, by hand.\n", 1)
	writeFile(t, readme, handEdit)

	// The new answer changes the license: both changes are kept.
	must(t, generateHello(t, ws, srv, strings.Replace(readmeV1, "MIT\n", "BSD-3-Clause\n", 1)), 0)
	want := strings.Replace(handEdit, "MIT\n", "BSD-3-Clause\n", 1)
	if got := mustRead(t, readme); got != want {
		t.Fatalf("merged README.md = %q, want %q", got, want)
	}
	if ds := drifts(t, ws); len(ds) != 0 {
		t.Fatalf("drift after a clean merge: %+v", ds)
	}

	// An edit of the same line conflicts: the step waits for the operator,
	// naming the conflict (exit 3: awaiting review, nobody at a terminal).
	conflicting := strings.Replace(want, "BSD-3-Clause\n", "GPL by hand\n", 1)
	writeFile(t, readme, conflicting)
	r := must(t, generateHello(t, ws, srv, strings.Replace(readmeV1, "MIT\n", "ISC\n", 1)), 3)
	contains(t, "stderr", r.stderr, "merge conflict in README.md")
	contains(t, "stderr", r.stderr, ".factory/conflicts/")
	if got := mustRead(t, readme); got != conflicting {
		t.Fatalf("README.md was changed by a conflicting regeneration: %q", got)
	}
	matches, _ := filepath.Glob(filepath.Join(ws, ".factory", "conflicts", "*", "out", "hello", "README.md"))
	if len(matches) != 1 {
		t.Fatalf("conflict files: %v", matches)
	}
	contains(t, "conflict file", mustRead(t, matches[0]), "<<<<<<< yours")
}

func TestWatchPrintsDrift(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	must(t, generateHello(t, ws, srv, readmeV1), 0)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, factoryBin, "watch", "--json")
	cmd.Dir, cmd.Env = ws, baseEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lineWaiter{want: "watching", seen: make(chan struct{})}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stderr.seen:
	case <-ctx.Done():
		t.Fatalf("watch never started:\n%s", stderr.String())
	}
	events := make(chan wsp.Event)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e wsp.Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				events <- e
			}
		}
	}()
	writeFile(t, filepath.Join(ws, "out", "hello", "README.md"), "edited while watched\n")
	writeFile(t, filepath.Join(ws, "blueprints", "hello.md"), mustRead(t, filepath.Join(ws, "blueprints", "hello.md"))+"\nMore prose.\n")
	seen := map[string]bool{}
	for e := range events {
		seen[e.Kind+" "+e.Path] = true
		if seen["drift out/hello/README.md"] && seen["blueprint blueprints/hello.md"] {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range events { // drain until the process closes stdout
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after Ctrl-C: %v, want exit 0\nstderr:\n%s\nseen: %v", err, stderr.String(), seen)
	}
	if ds := drifts(t, ws); len(ds) != 1 || ds[0].Path != "out/hello/README.md" {
		t.Errorf("drift recorded by watch = %+v", ds)
	}
}

func contains(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s does not contain %q:\n%s", what, sub, s)
	}
}
