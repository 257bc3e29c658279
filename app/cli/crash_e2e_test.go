package cli_test

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	fsws "factorydesk/backend/workspace"
)

const crashBlueprint = `---
blueprint: crashy
title: Crashy
model: ollama:qwen2.5-coder:7b
output: out/crashy
steps:
  - id: a
    role: backend-developer
    uses: [Overview]
    writes: [a.txt]
    validate: ["test -s a.txt"]
  - id: b
    role: backend-developer
    needs: [a]
    writes: [b.txt]
    validate: ["test -s b.txt && sleep 0.2"]
  - id: c
    role: backend-developer
    needs: [a]
    writes: [c.txt]
---
# Crashy

## Overview

Three files, written slowly.
`

// crashFiles is what each step writes: big enough that a torn write shows.
var crashFiles = map[string]string{
	"a": strings.Repeat("alpha line\n", 4000),
	"b": strings.Repeat("bravo line\n", 4000),
	"c": strings.Repeat("charlie line\n", 4000),
}

// crashIterations is how many times the crash test kills a run:
// FACTORY_CRASH_ITERATIONS, default 20 (make soak sets more).
func crashIterations(t *testing.T) int {
	t.Helper()
	if s := os.Getenv("FACTORY_CRASH_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("FACTORY_CRASH_ITERATIONS=%q: want a positive number", s)
		}
		return n
	}
	return 20
}

// TestCrashResume kills factory run with SIGKILL at random moments (a fixed
// seed) while a slow model answers. After each kill the database passes
// PRAGMA integrity_check, no gate process (sandbox or not) outlives the
// run, the run is interrupted, no output file is torn, and factory resume
// finishes the run with every file whole.
func TestCrashResume(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	writeBlueprint(t, ws, "crashy", crashBlueprint)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(req modeltest.Request) modeltest.Reply {
		step := "a"
		for _, m := range req.Messages {
			for _, s := range []string{"b", "c"} {
				if strings.Contains(m.Content, "# Step: "+s+"\n") {
					step = s
				}
			}
		}
		return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{step + ".txt": crashFiles[step]}, "done"),
			Chunks: 30, Delay: 4 * time.Millisecond}
	})
	env := append(baseEnv(), ollamaEnv(srv)...)
	rng := rand.New(rand.NewPCG(20250301, 4))
	out := filepath.Join(ws, "out", "crashy")
	n := crashIterations(t)
	survived, resumed, before, inGate := 0, 0, 0, 0
	for i := range n {
		cmd := exec.Command(factoryBin, "run", "crashy", "--no-cache")
		cmd.Dir, cmd.Env = ws, env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		if len(gateProcs(ws)) > 0 {
			inGate++
		}
		_ = cmd.Process.Kill() // SIGKILL
		_ = cmd.Wait()
		checkNoGateOutlives(t, ws)

		checkIntegrity(t, ws)
		checkNoTornFiles(t, out)
		// Any command marks the dead process's run interrupted.
		var runs []backend.Run
		decode(t, must(t, factory(t, ws, nil, "runs", "--json"), 0).stdout, &runs)
		if len(runs) == before {
			survived++ // killed before the run was recorded
			continue
		}
		before = len(runs)
		last := runs[0]
		switch last.Status {
		case backend.StatusSucceeded:
		case backend.StatusInterrupted:
			// Exit 0 only when the resumed run succeeded.
			if r := factory(t, ws, ollamaEnv(srv), "resume", last.ID); r.code != 0 {
				t.Fatalf("iteration %d: resume of %s: exit %d\n%s", i, last.ID, r.code, r.stderr)
			}
			resumed++
		default:
			t.Fatalf("iteration %d: run %s is %s after SIGKILL, want interrupted", i, last.ID, last.Status)
		}
		checkWhole(t, out)
		survived++
	}
	t.Logf("crash iterations survived: %d of %d (%d resumed after SIGKILL, %d killed during a gate; no gate process held on)", survived, n, resumed, inGate)
	if resumed == 0 {
		t.Error("no kill landed inside a run: the test did not exercise resume")
	}
}

// checkNoTornFiles checks that every file under out (but the temporary
// files of interrupted atomic writes) is one step's whole output.
func checkNoTornFiles(t *testing.T, out string) {
	t.Helper()
	_ = filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), fsws.WriteTempPrefix) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		step := strings.TrimSuffix(e.Name(), ".txt")
		if string(data) != crashFiles[step] {
			t.Fatalf("%s is torn (%d bytes)", p, len(data))
		}
		return nil
	})
}

// checkWhole checks that out holds exactly the three whole files.
func checkWhole(t *testing.T, out string) {
	t.Helper()
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(crashFiles) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("output holds %v, want exactly a.txt, b.txt, c.txt", names)
	}
	checkNoTornFiles(t, out)
}

// gateProcs returns the processes of gates running for workspace ws: a
// bwrap sandbox naming it, or any process working in it (a gate's shell and
// its children, sandboxed or not).
func gateProcs(ws string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := strconv.Itoa(os.Getpid())
	var out []string
	for _, e := range entries {
		pid := e.Name()
		if pid == self || pid[0] < '0' || pid[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
		if err != nil {
			continue
		}
		argv := strings.Split(string(cmdline), "\x00")
		cwd, _ := os.Readlink("/proc/" + pid + "/cwd")
		bwrap := filepath.Base(argv[0]) == "bwrap" && strings.Contains(string(cmdline), ws)
		if bwrap || strings.HasPrefix(cwd, filepath.Join(ws, "out")) {
			out = append(out, pid+" "+strings.Join(argv, " "))
		}
	}
	return out
}

// checkNoGateOutlives fails unless every gate process of ws is gone soon
// after the run's process was killed: the kernel's parent-death signal and
// bwrap's --die-with-parent take them down, which takes a moment.
func checkNoGateOutlives(t *testing.T, ws string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		procs := gateProcs(ws)
		if len(procs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gate processes outlived their run by 10s:\n%s", strings.Join(procs, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
