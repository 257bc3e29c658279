package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/blueprint/edit"
)

// TestEditDraftKeepsProblems: the forms' edit makes a change that brings a
// lint problem and answers it as a diagnostic on its step and field, where
// EditBlueprint refuses it with the same diagnostic.
func TestEditDraftKeepsProblems(t *testing.T) {
	a := newTestApp(t, nil)
	doc, err := a.OpenBlueprint("blueprints/pipeline.md")
	if err != nil {
		t.Fatal(err)
	}
	ops := []edit.Op{{Op: "set", Key: "steps.code.role", Value: "nobody"}}
	_, err = a.EditBlueprint(doc.Path, doc.Text, ops)
	var diags backend.Diagnostics
	if !errors.As(err, &diags) || len(diags) != 1 || diags[0].Step != "code" || diags[0].Field != "role" {
		t.Fatalf("EditBlueprint: %v, diagnostics %+v", err, diags)
	}
	e, err := a.EditDraft(doc.Path, doc.Text, ops)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Text, "    role: nobody\n") || len(e.Result.Diagnostics) != 1 {
		t.Fatalf("EditDraft: %q %+v", e.Text, e.Result.Diagnostics)
	}
	if got := e.Result.Diagnostics[0]; got.Step != "code" || got.Field != "role" || got.Message != diags[0].Message || got.Line != 11 {
		t.Errorf("diagnostic %+v, want %+v at line 11", got, diags[0])
	}
	if _, err := a.EditDraft(doc.Path, doc.Text, []edit.Op{{Op: "remove-step", Step: "nope"}}); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("an edit of an unknown step: %v", err)
	}
	if _, err := a.EditDraft("out/x.md", doc.Text, ops); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("a path outside blueprints/: %v", err)
	}
}

func TestRolesToolsTemplates(t *testing.T) {
	a := newTestApp(t, nil)
	roles, _ := a.Roles()
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
		if r.Description == "" || !strings.HasPrefix(r.Path, "blueprints/roles/") {
			t.Errorf("role %+v", r)
		}
	}
	if strings.Join(names, ",") != "architect,backend-developer,devops,qa-engineer,reviewer" {
		t.Errorf("roles %v", names)
	}
	tools, _ := a.Tools()
	if len(tools) != len(backend.ToolNames) || tools[0].Name != backend.ToolListFiles || tools[0].Description == "" {
		t.Errorf("tools %+v", tools)
	}
	ts, _ := a.BlueprintTemplates()
	if len(ts) != 2 || ts[0].ID != "hello" || ts[1].ID != "orders-service" || ts[1].Steps != 4 || !strings.HasPrefix(ts[0].Text, "---\n") {
		t.Errorf("templates %+v", ts)
	}
}

// TestNewBlueprint: a new blueprint from a template or a copy gets its id,
// title and own output folder by edits of the source's text, and is
// refused when its file or id exists.
func TestNewBlueprint(t *testing.T) {
	a := newTestApp(t, nil)
	tests := []struct {
		name    string
		req     NewBlueprintRequest
		code    string
		changed []string // lines of the source replaced, in the answer's order
	}{
		{name: "from a template", req: NewBlueprintRequest{Template: "orders-service", ID: "billing", Title: "Billing"},
			changed: []string{"blueprint: billing", "title: Billing", "output: out/billing"}},
		{name: "a copy", req: NewBlueprintRequest{From: "blueprints/pipeline.md", ID: "pipeline-2"}, changed: []string{"blueprint: pipeline-2"}},
		{name: "an existing file", req: NewBlueprintRequest{Template: "hello", ID: "pipeline"}, code: backend.ECONFLICT},
		{name: "a bad id", req: NewBlueprintRequest{Template: "hello", ID: "Bad Id"}, code: backend.EINVALID},
		{name: "no source", req: NewBlueprintRequest{ID: "x"}, code: backend.EINVALID},
		{name: "an unknown template", req: NewBlueprintRequest{Template: "nope", ID: "x"}, code: backend.ENOTFOUND},
		{name: "a role as source", req: NewBlueprintRequest{From: "blueprints/roles/architect.md", ID: "x"}, code: backend.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := a.NewBlueprint(tt.req)
			if tt.code != "" {
				if backend.ErrorCode(err) != tt.code {
					t.Fatalf("error %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.Path != "blueprints/"+tt.req.ID+".md" || doc.Hash != "" || doc.Kind != edit.KindBlueprint {
				t.Fatalf("document %+v", doc)
			}
			bp, diags := blueprint.Parse(doc.Path, []byte(doc.Text), a.docs.library())
			if bp == nil || bp.ID != tt.req.ID || len(diags) != 0 {
				t.Fatalf("the new blueprint: %v %v", bp, diags)
			}
			if got := changedLines(t, a, tt.req, doc.Text); strings.Join(got, "|") != strings.Join(tt.changed, "|") {
				t.Errorf("changed lines %q, want %q", got, tt.changed)
			}
			if _, err := os.Stat(filepath.Join(a.cfg.Root, doc.Path)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the new blueprint was written: %v", err)
			}
		})
	}
}

// changedLines returns the lines of text that are not in the source of req.
func changedLines(t *testing.T, a *App, req NewBlueprintRequest, text string) []string {
	t.Helper()
	var src string
	if req.Template != "" {
		ts, _ := a.BlueprintTemplates()
		for _, tp := range ts {
			if tp.ID == req.Template {
				src = tp.Text
			}
		}
	} else {
		doc, err := a.OpenBlueprint(req.From)
		if err != nil {
			t.Fatal(err)
		}
		src = doc.Text
	}
	a1, b1 := strings.Split(src, "\n"), strings.Split(text, "\n")
	if len(a1) != len(b1) {
		t.Fatalf("%d lines, the source has %d", len(b1), len(a1))
	}
	var out []string
	for i := range a1 {
		if a1[i] != b1[i] {
			out = append(out, b1[i])
		}
	}
	return out
}
