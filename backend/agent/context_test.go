package agent

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testBlueprint is a small blueprint with three sections.
func testBlueprint() *backend.Blueprint {
	return &backend.Blueprint{
		ID:    "orders-service",
		Title: "Orders service",
		Scope: map[string]string{"tenant": "acme", "edition": "standard", "domain": "commerce"},
		Model: "ollama:qwen2.5-coder:7b",
		Sections: []backend.Section{
			{ID: "orders-service", Title: "Orders service", Level: 1, Text: "# Orders service\n"},
			{ID: "overview", Title: "Overview", Level: 2, Text: "## Overview\n\nA service that takes orders.\n"},
			{ID: "entities", Title: "Entities", Level: 2, Text: "## Entities\n\n- Order: id, customer, lines\n- Line: sku, qty\n"},
		},
	}
}

func testRequest() backend.AttemptRequest {
	bp := testBlueprint()
	return backend.AttemptRequest{
		RunID:     "run1",
		Blueprint: bp,
		Step: &backend.Step{
			ID: "code", Role: "backend-developer",
			Uses:   []string{"Overview", "entities"},
			Writes: []string{"go.mod", "**/*.go", "!**/*_test.go"},
		},
		Role:    &backend.Role{Name: "backend-developer", Prompt: "You are a careful Go developer.\n\nWrite idiomatic, tested code.\n"},
		Attempt: 1,
		Model:   backend.ModelRef{Provider: "ollama", Model: "qwen2.5-coder:7b"},
		Upstream: []backend.File{
			{Path: "docs/design.md", Content: []byte("# Design\n\nOne package, `orders`.\n\n```go\ntype Order struct{}\n```\n")},
			{Path: "docs/api.md", Content: []byte("GET /orders")},
		},
	}
}

func renderMessages(msgs []backend.Message, tokens int) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "=== %s ===\n%s", m.Role, m.Content)
	}
	fmt.Fprintf(&b, "=== estimated tokens: %d ===\n", tokens)
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got ---\n%s", path, got)
	}
}

func TestBuildMessages(t *testing.T) {
	big := strings.Repeat("// generated line of code\n", 400) // ~10 KB, ~2600 tokens
	tests := []struct {
		name   string
		edit   func(r *backend.AttemptRequest)
		budget int
	}{
		{name: "first_attempt"},
		{name: "feedback", edit: func(r *backend.AttemptRequest) {
			r.Attempt = 2
			r.Feedback = "gate \"go build ./...\" failed:\n./main.go:3:1: syntax error: non-declaration statement outside function body\n"
		}},
		{name: "budget_overflow", budget: 2000, edit: func(r *backend.AttemptRequest) {
			r.Upstream = append(r.Upstream,
				backend.File{Path: "internal/big.go", Content: []byte(big)},
				backend.File{Path: "internal/small.go", Content: []byte("package internal\n")},
				backend.File{Path: "assets/logo.png", Content: []byte("\x89PNG\x00")},
			)
			r.Feedback = "refused 1 of 1 files, nothing was written:\n- \"../x.go\": \"..\" segment"
		}},
		{name: "no_writes_missing_section", edit: func(r *backend.AttemptRequest) {
			r.Step.Writes = nil
			r.Step.Uses = []string{"Overview", "Pricing"}
			r.Upstream = nil
			r.Role = nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testRequest()
			if tt.edit != nil {
				tt.edit(&req)
			}
			msgs, tokens := BuildMessages(req, tt.budget)
			if len(msgs) != 2 || msgs[0].Role != "system" || msgs[1].Role != "user" {
				t.Fatalf("messages = %+v, want system then user", msgs)
			}
			if want := EstimateTokens(msgs[0].Content) + EstimateTokens(msgs[1].Content); tokens != want {
				t.Errorf("tokens = %d, want %d", tokens, want)
			}
			budget := tt.budget
			if budget == 0 {
				budget = DefaultContextTokens
			}
			if tokens > budget {
				t.Errorf("tokens = %d, over the budget of %d", tokens, budget)
			}
			checkGolden(t, "context_"+tt.name, renderMessages(msgs, tokens))
		})
	}
}
