package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

// TestOpenFileStaysInTheWorkspace: a recorded run (as an import from
// elsewhere could record it) whose output or file path leads out of the
// workspace, directly or through a symlink, is not opened.
func TestOpenFileStaysInTheWorkspace(t *testing.T) {
	a := newTestApp(t, nil)
	if err := os.MkdirAll(filepath.Join(a.cfg.Root, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(a.cfg.Root, "out", "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, id, output, path string }{
		{"output climbing out", strings.Repeat("1", 32), "../../../../../../../../etc", "passwd"},
		{"path climbing out", strings.Repeat("2", 32), "out/x", "../../../../../../../../../etc/passwd"},
		{"absolute output", strings.Repeat("3", 32), "/etc", "passwd"},
		{"output through a symlink", strings.Repeat("4", 32), "out/link", "passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storeRun(t, a, tt.id, tt.output, tt.path)
			got, err := a.OpenFile(tt.id, tt.path)
			if err == nil || backend.ErrorCode(err) != backend.EINVALID || got != "" {
				t.Fatalf("OpenFile = %q, %v; want EINVALID", got, err)
			}
		})
	}
}

// storeRun records a finished run that wrote path under output, bypassing
// the checks of a bundle.
func storeRun(t *testing.T, a *App, id, output, path string) {
	t.Helper()
	text := []byte("---\nblueprint: x\n---\n")
	sum := sha256.Sum256(text)
	file := []byte("x")
	fsum := sha256.Sum256(file)
	now := time.Now()
	b := &backend.RunBundle{
		Detail: backend.RunDetail{
			Run: backend.Run{ID: id, BlueprintID: "x", BlueprintVersion: hex.EncodeToString(sum[:]), Output: output,
				Status: backend.StatusSucceeded, StartedAt: now, EndedAt: now},
			Artifacts: []backend.Artifact{{StepID: "s", Attempt: 1, Path: path, SHA256: hex.EncodeToString(fsum[:]), Size: 1}},
		},
		BlueprintText: text,
		Blobs:         map[string][]byte{hex.EncodeToString(fsum[:]): file},
	}
	if _, err := a.cfg.Store.ImportRun(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}
