package blueprint

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"factorydesk/backend"
)

func TestParseFull(t *testing.T) {
	roles := loadRoles(t, filepath.Join("testdata", "roles"))
	src, err := os.ReadFile(filepath.Join("testdata", "valid", "full.md"))
	if err != nil {
		t.Fatal(err)
	}
	bp, diags := Parse("full.md", src, roles)
	if len(diags) > 0 {
		t.Fatalf("diagnostics:\n%v", diags)
	}
	sum := sha256.Sum256(src)
	bp.Sections = nil
	want := &backend.Blueprint{
		Path:    "full.md",
		Version: hex.EncodeToString(sum[:]),
		Source:  src,
		ID:      "full",
		Title:   "Every key",
		Scope:   map[string]string{"tenant": "acme", "edition": "standard", "year": "2025"},
		Model:   "ollama:qwen2.5-coder:7b",
		Output:  "out/full",
		Secrets: []string{"DB_PASSWORD"},
		Budget:  backend.Budget{MaxTokens: 1000, MaxCalls: 20, MaxMinutes: 5},
		Steps: []backend.Step{
			{ID: "design", Role: "architect", Uses: []string{"overview", "DATA MODEL"}, Writes: []string{"docs/design.md"}, Line: 15},
			{ID: "code", Role: "developer", Model: "openai:gpt-4o-mini", Needs: []string{"design"},
				Writes: []string{"go.mod", "**/*.go", "!**/*_test.go"}, Validate: []string{"go build ./..."}, Retries: 2, Line: 19},
			{ID: "tests", Role: "tester", Needs: []string{"code"}, Review: "required", Line: 27,
				When: map[string][]string{"edition": {"standard"}, "year": {"2024", "2025"}}},
		},
		Checks:      []string{"go test ./...", "secrets"},
		GateTimeout: 90 * time.Second,
		Sandbox:     "required",
		Env:         []string{"GOFLAGS", "GOPROXY"},
	}
	if !reflect.DeepEqual(bp, want) {
		t.Errorf("got  %+v\nwant %+v", bp, want)
	}
	if !bp.Enabled(&bp.Steps[2]) {
		t.Errorf("step tests should be enabled by its when")
	}
}

func TestParseDefaults(t *testing.T) {
	src := []byte("---\nblueprint: tiny\nsteps:\n  - id: only\n    role: r\n---\n")
	bp, diags := Parse("tiny.md", src, nil)
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"output", bp.Output, "out/tiny"},
		{"sandbox", bp.Sandbox, "auto"},
		{"retries", bp.Steps[0].Retries, 0},
		{"review", bp.Steps[0].Review, ""},
		{"timeout", bp.GateTimeout, time.Duration(0)},
		{"sections", len(bp.Sections), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestParseResult(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		wantNil   bool
		wantDiags int
	}{
		{"no front matter", "# Title\n", true, 1},
		{"yaml error", "---\nsteps: [\n---\n", true, 1},
		{"front matter not a mapping", "---\n- a\n- b\n---\n", true, 1},
		{"readable with problems", "---\nblueprint: Bad\nsteps: []\n---\n# T\n", false, 2},
		{"byte order mark", "\ufeff---\nblueprint: a\nsteps: [{id: a, role: r}]\n---\n", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bp, diags := Parse("x.md", []byte(tc.src), nil)
			if (bp == nil) != tc.wantNil {
				t.Errorf("blueprint nil = %v, want %v", bp == nil, tc.wantNil)
			}
			if len(diags) != tc.wantDiags {
				t.Errorf("got %d diagnostics, want %d:\n%v", len(diags), tc.wantDiags, diags)
			}
			if err := diags.Err(); (err != nil) != (tc.wantDiags > 0) || (err != nil && backend.ErrorCode(err) != backend.EINVALID) {
				t.Errorf("Err() = %v", err)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	src := []byte("---\nrole: helper\ndescription: Helps.\nskills: [read_file, list_files]\nmodel: openai:gpt-4o-mini\n---\n\nYou help.\n\n")
	r, diags := ParseRole("roles/helper.md", src)
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	sum := sha256.Sum256(src)
	want := &backend.Role{Name: "helper", Description: "Helps.", Skills: []string{"read_file", "list_files"},
		Model: "openai:gpt-4o-mini", Prompt: "You help.", Path: "roles/helper.md", Version: hex.EncodeToString(sum[:])}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

func TestParseDiagnosticsSorted(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "lint", "many-problems.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, diags := Parse("m.md", src, map[string]*backend.Role{})
	if len(diags) < 10 {
		t.Fatalf("want every problem at once, got %d", len(diags))
	}
	for i := 1; i < len(diags); i++ {
		a, b := diags[i-1], diags[i]
		if a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
			t.Errorf("diagnostics out of order: %v before %v", a, b)
		}
	}
}
