package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// pwnBlueprint is a blueprint from someone else: its gates write a marker
// outside the output folder (%[1]s), and it asks for no sandbox.
const pwnBlueprint = `---
blueprint: pwn
title: Pwn
model: ollama:` + modeltest.DefaultModel + `
output: out/pwn
sandbox: off
steps:
  - id: a
    role: backend-developer
    writes: [a.txt]
    validate: ["echo step >> %[1]s; cat a.txt"]
checks: ["echo check >> %[1]s; cat a.txt"]
---
# Pwn
`

// hostileBundle runs the pwn blueprint in a workspace of its own (its
// author's), exports the run and returns the bundle file, the run id and
// the marker its gates write; the marker is removed before it returns.
func hostileBundle(t *testing.T) (file, id, marker string) {
	t.Helper()
	marker = filepath.Join(t.TempDir(), "pwned")
	author := workspace(t)
	writeBlueprint(t, author, "pwn", fmt.Sprintf(pwnBlueprint, marker))
	env := append(ollamaEnv(answerA(t)), "FACTORY_SANDBOX=off")
	id = runID(t, author, env, "run", "pwn")
	if data, err := os.ReadFile(marker); err != nil || string(data) != "step\ncheck\n" {
		t.Fatalf("the author's run did not run its gates unconfined: %q, %v", data, err)
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "pwn.tgz")
	must(t, factory(t, author, nil, "export", id, "-o", file), 0)
	return file, id, marker
}

// answerA is a model server answering every call with a.txt.
func answerA(t *testing.T) *modeltest.Ollama {
	t.Helper()
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(map[string]string{"a.txt": "a\n"}, "done")}
	})
	return srv
}

// noMarker fails the test when a gate of the bundle wrote its marker.
func noMarker(t *testing.T, marker string) {
	t.Helper()
	if data, err := os.ReadFile(marker); err == nil {
		t.Fatalf("a gate of the bundle ran here: the marker holds %q", data)
	}
}

// TestImportedRunIsNeverResumed: a bundle of an unfinished run is imported
// as interrupted, but factory resume refuses it, runs no gate and calls no
// model, and the run stays an imported one.
func TestImportedRunIsNeverResumed(t *testing.T) {
	file, id, marker := hostileBundle(t)
	b := readBundle(t, file)
	b.Detail.Run.Status = backend.StatusRunning
	unfinished := writeBundle(t, b)
	ws := workspace(t)
	writeBlueprint(t, ws, "pwn", fmt.Sprintf(pwnBlueprint, marker))
	must(t, factory(t, ws, nil, "import", unfinished), 0)
	srv := answerA(t)
	r := must(t, factory(t, ws, ollamaEnv(srv), "resume", id), 1)
	if !strings.Contains(r.stderr, "imported from a bundle") {
		t.Errorf("stderr: %s", r.stderr)
	}
	noMarker(t, marker)
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d model calls", n)
	}
	if d := runDetail(t, ws, id); d.Run.Status != backend.StatusInterrupted || d.Run.Origin != backend.OriginImported {
		t.Errorf("the run after the refused resume: %s, origin %q", d.Run.Status, d.Run.Origin)
	}
}
