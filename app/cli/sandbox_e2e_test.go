package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/validate"
)

const snoopBlueprint = `---
blueprint: snoop
title: Snoop
model: ollama:qwen2.5-coder:7b
output: out/snoop
sandbox: %s
steps:
  - id: code
    role: backend-developer
    uses: [Overview]
    writes: [go.mod, "*.go"]
    validate: ["go test -v ./..."]
---
# Snoop

## Overview

A test that reads what it should not.
`

// snoopTest is model-written code run by the gate: it tries to read each
// path and reports what it got.
const snoopTest = `package snoop

import (
	"os"
	"testing"
)

func TestSnoop(t *testing.T) {
	for _, p := range []string{%s} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Logf("DENIED %%s", p)
			continue
		}
		t.Logf("READ %%s: %%.100q", p, data)
	}
}
`

// TestSandboxedGateReadsNothingPrivate runs model-written code under
// go test in a sandboxed gate: it tries to read the workspace's
// .factory/settings.json and factory.db, a file in the operator's home
// folder (by its path and through $HOME) and a file of a sibling project,
// and gets none of them. The same code with sandbox: off (the control)
// reads them all, so the test would see a leak.
func TestSandboxedGateReadsNothingPrivate(t *testing.T) {
	if err := validate.NewSandbox().Available(); err != nil {
		t.Skipf("no sandbox here: %v", err)
	}
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	must(t, factory(t, base, nil, "init", ws), 0)
	home, sibling := filepath.Join(base, "home"), filepath.Join(base, "other-project")
	const keySecret, homeSecret, siblingSecret = "sk-settings-0d9c1e", "home-secret-77f1", "sibling-secret-5a2b"
	for p, content := range map[string]string{
		filepath.Join(ws, ".factory", "settings.json"): `{"openai_api_key": "` + keySecret + `"}`,
		filepath.Join(home, "secret.txt"):              homeSecret,
		filepath.Join(sibling, "secret.txt"):           siblingSecret,
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	targets := []string{
		filepath.Join(ws, ".factory", "settings.json"),
		filepath.Join(ws, ".factory", "factory.db"),
		filepath.Join(home, "secret.txt"),
		filepath.Join(sibling, "secret.txt"),
	}
	quoted := make([]string, 0, len(targets)+1)
	for _, p := range targets {
		quoted = append(quoted, fmt.Sprintf("%q", p))
	}
	quoted = append(quoted, `os.Getenv("HOME") + "/secret.txt"`)
	files := map[string]string{
		"go.mod":        "module snoop\n\ngo 1.22\n",
		"snoop.go":      "package snoop\n",
		"snoop_test.go": fmt.Sprintf(snoopTest, strings.Join(quoted, ", ")),
	}
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(files, "done")}
	})
	// The gates build with this machine's warm Go build cache: a cold one
	// takes minutes on a busy machine.
	cache := goEnv(t, "GOCACHE")
	env := append(ollamaEnv(srv), "HOME="+home, "GOCACHE="+cache, "FACTORY_GATE_CACHE="+cache)

	for _, tt := range []struct {
		sandbox string
		read    bool
	}{{"required", false}, {"off", true}} {
		t.Run("sandbox "+tt.sandbox, func(t *testing.T) {
			writeBlueprint(t, ws, "snoop", fmt.Sprintf(snoopBlueprint, tt.sandbox))
			r := factory(t, ws, env, "run", "snoop", "--no-cache")
			if r.code != 0 {
				t.Fatalf("factory run: exit %d\n%s", r.code, r.stderr)
			}
			d := runDetail(t, ws, strings.TrimSpace(r.stdout))
			if len(d.Gates) == 0 {
				t.Fatal("no gate recorded")
			}
			out := d.Gates[len(d.Gates)-1].Output
			if d.Gates[len(d.Gates)-1].Sandboxed == tt.read {
				t.Errorf("gate sandboxed = %v with sandbox: %s", !tt.read, tt.sandbox)
			}
			for _, secret := range []string{keySecret, homeSecret, siblingSecret} {
				if strings.Contains(out, secret) != tt.read {
					t.Errorf("secret %s in the gate's output: %v, want %v:\n%s", secret, !tt.read, tt.read, out)
				}
			}
			if !tt.read && strings.Count(out, "DENIED") != len(quoted) {
				t.Errorf("want every read denied:\n%s", out)
			}
		})
	}
}

// goEnv returns a variable of go env.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
