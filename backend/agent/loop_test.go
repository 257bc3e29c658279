package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/openai"
	"factorydesk/backend/validate"
)

const mainGo = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"orders\") }\n"

// toolHarness is an attempt of a role with every skill, whose output
// folder holds the design an upstream step wrote.
func toolHarness(t *testing.T, cfg Config) (*harness, sandbox) {
	t.Helper()
	s := newSandbox(t)
	if err := os.MkdirAll(filepath.Join(s.out, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.out, "docs", "design.md"), []byte("# Design\n\nServe JSON on /orders.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, s.out, cfg)
	h.req.Step.Writes = []string{"go.mod", "**/*.go"}
	h.req.Role.Skills = backend.ToolNames
	h.req.Tools.Unseen = [][]string{h.req.Step.Writes}
	return h, s
}

// calls scripts one turn of tool calls.
func calls(cs ...backend.ToolCall) modeltest.Reply { return modeltest.Reply{ToolCalls: cs} }

func call(name, args string) backend.ToolCall { return modeltest.ToolCall(name, args) }

func TestAttemptToolLoop(t *testing.T) {
	h, s := toolHarness(t, Config{})
	h.req.Tools.Checks = func(ctx context.Context, dir string) []backend.GateResult {
		return validate.RunGates(ctx, dir, []string{"go build ./..."}, validate.Options{Sandbox: validate.NewSandbox()})
	}
	broken := strings.Replace(mainGo, "fmt.Println", "fmt.Printn", 1)
	draft := func(main string) string {
		b, _ := json.Marshal(map[string]any{"files": []map[string]string{
			{"path": "go.mod", "content": "module orders\n\ngo 1.22\n"}, {"path": "main.go", "content": main}}})
		return string(b)
	}
	h.srv.Enqueue(
		calls(call("list_files", `{}`), call("read_file", `{"path":"docs/design.md"}`)),
		calls(call("search", `{"pattern":"JSON|orders"}`)),
		calls(call("run_checks", draft(broken))),
		calls(call("run_checks", draft(mainGo))),
		modeltest.Reply{Content: jsonFiles("go.mod", "module orders\n\ngo 1.22\n", "main.go", mainGo)},
	)
	var live []string
	h.req.Tools.OnCall = func(c backend.CallRecord) { live = append(live, fmt.Sprintf("call %d turn %d", c.Seq, c.Turn)) }
	h.req.Tools.OnTool = func(r backend.ToolRecord) { live = append(live, fmt.Sprintf("tool %d %s", r.Seq, r.Name)) }
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Files) != 2 || len(res.Calls) != 5 {
		t.Fatalf("%d files, %d calls", len(res.Files), len(res.Calls))
	}
	wantLive := "call 1 turn 1,tool 1 list_files,tool 2 read_file,call 2 turn 2,tool 3 search,call 3 turn 3,tool 4 run_checks,call 4 turn 4,tool 5 run_checks,call 5 turn 5"
	if got := strings.Join(live, ","); got != wantLive {
		t.Errorf("live order:\n%s\nwant\n%s", got, wantLive)
	}
	want := []struct {
		turn      int
		name, has string
	}{
		{1, "list_files", "docs/design.md\t"},
		{1, "read_file", "3\tServe JSON on /orders."},
		{2, "search", "docs/design.md:3: Serve JSON on /orders."},
		{3, "run_checks", "undefined: fmt.Printn"},
		{4, "run_checks", "every check passed"},
	}
	for i, w := range want {
		r := res.Tools[i]
		if r.Turn != w.turn || r.Name != w.name || r.Status != backend.ToolOK || !strings.Contains(r.Result, w.has) || r.CallID == "" {
			t.Errorf("tool %d: turn %d %s %s %q\nwant turn %d %s with %q", i, r.Turn, r.Name, r.Status, r.Result, w.turn, w.name, w.has)
		}
	}
	// Every turn offered the tools, with no schema; each result went back
	// as a tool message answering its call.
	reqs := h.srv.Requests()
	for i, r := range reqs {
		if len(r.Tools) != len(backend.ToolNames) || len(r.Format) != 0 {
			t.Errorf("request %d: %d tools, format %s", i+1, len(r.Tools), r.Format)
		}
	}
	last := reqs[4].Messages
	if !strings.Contains(last[0].Content, "# Tools") {
		t.Errorf("the system message does not explain the tools:\n%s", last[0].Content)
	}
	var toolMsgs []backend.Message
	for _, m := range last {
		if m.Role == "tool" {
			toolMsgs = append(toolMsgs, m)
		}
	}
	if len(toolMsgs) != 5 {
		t.Fatalf("%d tool messages in the last request", len(toolMsgs))
	}
	for i, m := range toolMsgs {
		if m.ToolCallID != res.Tools[i].CallID || m.ToolName != res.Tools[i].Name || m.Content != res.Tools[i].Result {
			t.Errorf("tool message %d %+v does not answer call %+v", i, m, res.Tools[i])
		}
	}
	if _, err := os.Stat(filepath.Join(s.out, "main.go")); err != nil {
		t.Errorf("the answer was not written: %v", err)
	}
}

func TestAttemptToolLoopHostile(t *testing.T) {
	secret := "pw-0123456789-secret"
	h, s := toolHarness(t, Config{Redact: func(x string) string { return strings.ReplaceAll(x, secret, "${DB_PASSWORD}") }})
	h.req.Role.Skills = []string{backend.ToolReadFile, backend.ToolListFiles}
	if err := os.WriteFile(filepath.Join(s.out, "docs", "db.md"), []byte("password: "+secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.link(t, "../../outside/target.go", "docs/leak.md")
	thousand := make([]backend.ToolCall, 1000)
	for i := range thousand {
		thousand[i] = call("list_files", fmt.Sprintf(`{"glob":"docs/%d*"}`, i))
	}
	h.srv.Enqueue(
		calls(call("read_file", `{"path":"../outside/target.go"}`), call("read_file", `{"path":"/etc/passwd"}`),
			call("read_file", `{"path":"docs/leak.md"}`), call("read_file", `{"path":"../.factory/factory.db"}`),
			call("list_files", `{"glob":"/**"}`), call("run_checks", `{"files":[]}`), call("shell", `{"cmd":"rm -rf /"}`),
			call("read_file", `{"path":42}`), call("read_file", `{"path":"docs/db.md"}`)),
		calls(thousand...),
		modeltest.Reply{Content: jsonFiles("main.go", mainGo)},
	)
	before := snapshot(t, s.dir)
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	wants := []string{`".." segment`, "absolute path", "leads outside the output folder", `".." segment`, "absolute path",
		"run_checks is not one of this role's skills", `there is no tool "shell"`, "path: got number, want string"}
	for i, w := range wants {
		if r := res.Tools[i]; r.Status != backend.ToolRefused || !strings.Contains(r.Result, w) {
			t.Errorf("call %d (%s %s): %s %q, want refused with %q", i, r.Name, r.Arguments, r.Status, r.Result, w)
		}
	}
	if r := res.Tools[8]; r.Status != backend.ToolOK || !strings.Contains(r.Result, "password: ${DB_PASSWORD}") || strings.Contains(r.Result, secret) {
		t.Errorf("secret file read as %s %q", r.Status, r.Result)
	}
	turn2 := res.Tools[9:]
	if len(turn2) != maxCallsKept {
		t.Fatalf("%d calls of the second turn kept, want %d", len(turn2), maxCallsKept)
	}
	for i, r := range turn2 {
		ran := r.Status == backend.ToolOK
		if ran != (i < MaxCallsPerTurn) {
			t.Errorf("call %d of the second turn: %s %q", i, r.Status, r.Result)
		}
	}
	if !strings.Contains(turn2[len(turn2)-1].Result, "936 more tool calls of this turn were dropped") {
		t.Errorf("the last kept call does not say others were dropped: %q", turn2[len(turn2)-1].Result)
	}
	for i, r := range h.srv.Requests() {
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("request %d carries the secret", i+1)
		}
	}
	inside, outside := changes(before, snapshot(t, s.dir))
	if len(outside) > 0 || len(inside) != 1 || !strings.Contains(inside[0], "main.go") {
		t.Errorf("changed inside %v, outside %v; want only out/main.go", inside, outside)
	}
}

func TestAttemptToolTurnLimit(t *testing.T) {
	h, _ := toolHarness(t, Config{})
	h.req.Tools.MaxTurns = 3
	h.srv.Respond(func(req modeltest.Request) modeltest.Reply {
		if len(req.Tools) == 0 {
			return modeltest.Reply{Content: jsonFiles("main.go", mainGo)}
		}
		return calls(call("list_files", `{}`))
	})
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	reqs := h.srv.Requests()
	if len(reqs) != 4 || len(res.Tools) != 3 {
		t.Fatalf("%d calls and %d tool calls, want 4 and 3", len(reqs), len(res.Tools))
	}
	final := reqs[3]
	msgs := final.Messages
	if len(final.Tools) != 0 || len(final.Format) == 0 || !strings.Contains(msgs[len(msgs)-1].Content, "You have used the 3 turns") {
		t.Errorf("the final call: %d tools, format %q, last message %q", len(final.Tools), final.Format, msgs[len(msgs)-1].Content)
	}
	if res.Calls[3].Turn != 4 {
		t.Errorf("final call's turn %d", res.Calls[3].Turn)
	}
}

func TestAttemptToolLoopProse(t *testing.T) {
	h, _ := toolHarness(t, Config{})
	h.srv.Enqueue(modeltest.Reply{Content: "I will write main.go now."}, modeltest.Reply{Content: jsonFiles("main.go", mainGo)})
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	reqs := h.srv.Requests()
	if len(reqs) != 2 || len(reqs[1].Tools) != 0 || len(reqs[1].Format) == 0 {
		t.Fatalf("%d calls; the second with %d tools and format %q", len(reqs), len(reqs[1].Tools), reqs[1].Format)
	}
	if last := reqs[1].Messages[len(reqs[1].Messages)-1].Content; !strings.Contains(last, "That is not the answer the output contract asks for") {
		t.Errorf("last message %q", last)
	}
}

func TestAttemptToolsUnsupported(t *testing.T) {
	h, _ := toolHarness(t, Config{})
	h.srv.WithoutTools(modeltest.DefaultModel)
	h.srv.Enqueue(modeltest.Reply{Content: jsonFiles("main.go", mainGo)})
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !res.ToolsUnsupported || len(res.Calls) != 2 || !errors.Is(res.Calls[0].Err, backend.ErrToolsUnsupported) ||
		res.Calls[1].Err != nil || len(res.Calls[1].Request.Tools) != 0 || len(res.Calls[1].Request.Schema) == 0 {
		t.Fatalf("unsupported %v, calls %+v", res.ToolsUnsupported, res.Calls)
	}
	if strings.Contains(res.Calls[1].Request.Messages[0].Content, "# Tools") {
		t.Errorf("the call without tools still explains them")
	}
}

func TestAttemptToolBudget(t *testing.T) {
	h, _ := toolHarness(t, Config{})
	h.srv.Respond(func(modeltest.Request) modeltest.Reply { return calls(call("list_files", `{}`)) })
	var asked []int
	h.req.Tools.Budget = func(tokens, calls int) error {
		asked = append(asked, calls)
		if calls >= 2 {
			return backend.Errorf(backend.ECONFLICT, "budget max_calls 2 exceeded at step code attempt 1")
		}
		return nil
	}
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "max_calls 2") || len(res.Calls) != 2 {
		t.Fatalf("err %v after %d calls", res.Err, len(res.Calls))
	}
	if fmt.Sprint(asked) != "[1 2]" {
		t.Errorf("budget asked with %v calls", asked)
	}
}

func TestAttemptToolLoopOpenAI(t *testing.T) {
	h, _ := toolHarness(t, Config{})
	srv := modeltest.NewOpenAI(t)
	h.req.Provider = openai.New(openai.Config{BaseURL: srv.BaseURL(), StallTimeout: 10 * time.Second})
	h.req.Model = backend.ModelRef{Provider: backend.ProviderOpenAI, Model: modeltest.DefaultOpenAIModel}
	srv.Enqueue(calls(call("read_file", `{"path":"docs/design.md","from_line":3}`)), modeltest.Reply{Content: jsonFiles("main.go", mainGo)})
	res := h.agent.Attempt(t.Context(), h.req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Tools) != 1 || res.Tools[0].Result != "docs/design.md: lines 3-3 of 3\n3\tServe JSON on /orders.\n" {
		t.Fatalf("tools %+v", res.Tools)
	}
	msgs := srv.Requests()[1].Messages
	if m := msgs[len(msgs)-1]; m.Role != "tool" || m.ToolCallID != res.Tools[0].CallID || !strings.HasPrefix(m.ToolCallID, "call_") {
		t.Errorf("tool message %+v", m)
	}
}
