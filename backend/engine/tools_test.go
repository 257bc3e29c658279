package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/trace"
)

// toolRoles adds "coder", a role with tools, to the test roles.
func toolRoles() map[string]*backend.Role {
	r := roles()
	r["coder"] = &backend.Role{Name: "coder", Description: "looks, then writes", Prompt: "You read before you write.",
		Skills: []string{backend.ToolListFiles, backend.ToolReadFile, backend.ToolSearch}}
	return r
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestToolCallsRecordedAndTraced(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	env := newEnv(t, func(c *Config) { c.Tracer = tp.Tracer(TracerScope) })
	out := filepath.Join(env.ws, "out", "svc")
	writeFile(t, filepath.Join(out, "notes.md"), "Keep handlers small.\n") // the operator's: every step sees it
	writeFile(t, filepath.Join(out, "later.txt"), "output of later\n")     // a later step's, from before: unseen
	writeFile(t, filepath.Join(out, "main.go"), "package main\n")          // the step's own, from before: unseen
	code := backend.Step{ID: "code", Role: "coder", Needs: []string{"design"}, Writes: []string{"main.go"}, MaxTurns: 4}
	bp := blueprint(step("design"), code, step("later", "code"))
	env.script("code",
		modeltest.Reply{ToolCalls: []backend.ToolCall{modeltest.ToolCall("list_files", `{}`)}},
		modeltest.Reply{ToolCalls: []backend.ToolCall{modeltest.ToolCall("read_file", `{"path":"design.txt"}`),
			modeltest.ToolCall("read_file", `{"path":"later.txt"}`)}},
		filesReply(map[string]string{"main.go": "package main\n"}),
	)
	run := env.run(context.Background(), bp, RunOptions{Roles: toolRoles()})
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	d := env.detail(run.ID)
	if len(d.Tools) != 3 {
		t.Fatalf("%d tool calls recorded: %+v", len(d.Tools), d.Tools)
	}
	results := make([]string, len(d.Tools))
	for i, u := range d.Tools {
		data, err := env.db.Blob(context.Background(), u.ResultHash)
		if err != nil {
			t.Fatal(err)
		}
		results[i] = string(data)
		args, err := env.db.Blob(context.Background(), u.ArgsHash)
		if err != nil || u.StepID != "code" || u.Attempt != 1 || u.Seq != i+1 || u.CallID == "" {
			t.Errorf("tool call %d: %+v, arguments %s %v", i, u, args, err)
		}
	}
	if !strings.Contains(results[0], "design.txt\t") || !strings.Contains(results[0], "notes.md\t") ||
		strings.Contains(results[0], "later.txt") || strings.Contains(results[0], "main.go") {
		t.Errorf("list_files saw more or less than the steps before it left:\n%s", results[0])
	}
	if d.Tools[1].Status != backend.ToolOK || !strings.Contains(results[1], "output of design") ||
		d.Tools[2].Status != backend.ToolRefused || !strings.Contains(results[2], "not for this step to read") {
		t.Errorf("reads: %s %q; %s %q", d.Tools[1].Status, results[1], d.Tools[2].Status, results[2])
	}
	var turns []int
	for _, c := range d.Calls {
		if c.StepID == "code" {
			turns = append(turns, c.Turn)
		}
	}
	if len(turns) != 3 || turns[0] != 1 || turns[1] != 2 || turns[2] != 3 {
		t.Errorf("code's calls by turn: %v", turns)
	}
	if ev := env.eventsOf(KindTool); len(ev) != 3 || ev[0].Message != "list_files {}" || ev[2].Status != backend.ToolRefused {
		t.Errorf("tool events %+v", ev)
	}
	checkToolSpans(t, spans.Ended())
}

// checkToolSpans checks each tool call is an execute_tool span under its
// attempt's span, and each chat span of the tool step names its turn.
func checkToolSpans(t *testing.T, ended []sdktrace.ReadOnlySpan) {
	t.Helper()
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range ended {
		byID[s.SpanContext().SpanID().String()] = s
	}
	attr := func(s sdktrace.ReadOnlySpan, key string) string {
		for _, kv := range s.Attributes() {
			if string(kv.Key) == key {
				return kv.Value.Emit()
			}
		}
		return ""
	}
	var tools, turns []string
	for _, s := range ended {
		switch {
		case strings.HasPrefix(s.Name(), trace.OpExecuteTool+" "):
			parent := byID[s.Parent().SpanID().String()]
			if parent == nil || parent.Name() != trace.OpInvokeAgent+" coder" || attr(parent, trace.AttrStep) != "code" {
				t.Errorf("span %s is not under the attempt's span", s.Name())
			}
			if attr(s, trace.AttrGenAIOperationName) != trace.OpExecuteTool || attr(s, trace.AttrGenAIToolCallID) == "" ||
				len(attr(s, AttrToolResult)) != 64 {
				t.Errorf("span %s attributes %v", s.Name(), s.Attributes())
			}
			tools = append(tools, attr(s, trace.AttrGenAIToolName)+"@"+attr(s, AttrTurn))
		case strings.HasPrefix(s.Name(), trace.OpChat+" "):
			if parent := byID[s.Parent().SpanID().String()]; parent != nil && attr(parent, trace.AttrStep) == "code" {
				turns = append(turns, attr(s, AttrTurn))
			}
		}
	}
	if strings.Join(tools, " ") != "list_files@1 read_file@2 read_file@2" || strings.Join(turns, " ") != "1 2 3" {
		t.Errorf("tool spans %v, chat turns %v", tools, turns)
	}
}
