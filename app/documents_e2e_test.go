package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"factorydesk/app"
	"factorydesk/backend"
	"factorydesk/backend/blueprint/edit"
	"factorydesk/backend/blueprint/save"
)

// postAPI calls a method of the factory serve at base and returns the
// status and body, whatever they are.
func postAPI(t *testing.T, base, method string, args ...any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(args)
	req, _ := http.NewRequest("POST", base+"/api/"+method, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Factory-Request", "1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// TestBlueprintDocuments drives the editor's surface over a real factory
// serve: open, lint, edit, preview, hash-checked saves with a merge, writes
// kept inside blueprints/, external edits as events.
func TestBlueprintDocuments(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	base, _ := serve(t, bin, ws, nil)
	events := listenSSE(t, base)
	const rel = "blueprints/hello.md"

	var doc app.Document
	callAPI(t, base, "OpenBlueprint", &doc, rel)
	if doc.Kind != edit.KindBlueprint || doc.Hash != save.Hash([]byte(doc.Text)) {
		t.Fatalf("opened %+v", doc)
	}

	t.Run("lint while typing", func(t *testing.T) {
		draft := strings.Replace(doc.Text, "    role: backend-developer", "    role: backend-developper\n    retries: lots", 1)
		var r edit.Result
		callAPI(t, base, "ValidateDraft", &r, rel, draft)
		if r.Partial || len(r.Diagnostics) != 2 || r.Blueprint == nil || len(r.Steps) != 1 {
			t.Fatalf("result %+v", r)
		}
		d := r.Diagnostics[0]
		if d.Line != 7 || d.Col != 11 || d.Step != "hello" || d.Field != "role" || !strings.Contains(d.Message, `did you mean "backend-developer"`) {
			t.Errorf("diagnostic %+v", d)
		}
		if d := r.Diagnostics[1]; d.Step != "hello" || d.Field != "retries" {
			t.Errorf("diagnostic %+v", d)
		}
		callAPI(t, base, "ValidateDraft", &r, rel, strings.Replace(doc.Text, "writes: [", "writes: [[", 1))
		if !r.Partial || r.Blueprint == nil || r.Blueprint.ID != "hello" || len(r.Diagnostics) == 0 {
			t.Errorf("invalid YAML: %+v", r)
		}
	})

	t.Run("edit and preview", func(t *testing.T) {
		var e app.Edited
		callAPI(t, base, "EditBlueprint", &e, rel, doc.Text, []map[string]any{{"op": "set", "key": "steps.hello.retries", "value": 2}})
		if !strings.Contains(e.Text, "    retries: 2\n") || len(e.Result.Diagnostics) != 0 {
			t.Errorf("edited %q %+v", e.Text, e.Result.Diagnostics)
		}
		code, body := postAPI(t, base, "EditBlueprint", rel, doc.Text, []map[string]any{{"op": "connect", "from": "hello", "to": "hello"}})
		var answer struct {
			Error struct {
				Code, Message string
				Diagnostics   backend.Diagnostics
			}
		}
		_ = json.Unmarshal([]byte(body), &answer)
		if code != http.StatusBadRequest || !strings.Contains(answer.Error.Message, rel+":8:13: needs cycle: hello -> hello") {
			t.Errorf("a cycle: %d %s", code, body)
		}
		want := backend.Diagnostic{Path: rel, Line: 8, Col: 13, Message: "needs cycle: hello -> hello (remove one of these needs)", Step: "hello", Field: "needs"}
		if ds := answer.Error.Diagnostics; len(ds) != 1 || ds[0] != want {
			t.Errorf("the refusal's diagnostics %+v, want %+v", ds, want)
		}
		var html struct {
			HTML     string                `json:"html"`
			Sections []struct{ ID string } `json:"sections"`
		}
		callAPI(t, base, "RenderMarkdown", &html, doc.Text)
		if !strings.Contains(html.HTML, `<h2 id="behaviour">Behaviour</h2>`) || len(html.Sections) != 3 {
			t.Errorf("preview %+v", html)
		}
	})

	t.Run("stale save refused with the merge", func(t *testing.T) {
		mine := strings.Replace(doc.Text, "title: Hello", "title: Hello there", 1)
		theirs := strings.Replace(doc.Text, "`:8080`", "`:9090`", 1)
		if err := os.WriteFile(filepath.Join(ws, rel), []byte(theirs), 0o644); err != nil {
			t.Fatal(err)
		}
		var res save.Result
		callAPI(t, base, "SaveBlueprint", &res, rel, mine, doc.Hash)
		if res.Saved || res.Conflict == nil || res.Conflict.Disk != theirs || !res.Conflict.BaseKnown || !res.Conflict.Clean ||
			!strings.Contains(res.Conflict.Merged, "title: Hello there") || !strings.Contains(res.Conflict.Merged, "`:9090`") {
			t.Fatalf("stale save: %+v", res)
		}
		if got, _ := os.ReadFile(filepath.Join(ws, rel)); string(got) != theirs {
			t.Fatal("the stale save wrote")
		}
		merged := res.Conflict.Merged
		callAPI(t, base, "SaveBlueprint", &res, rel, merged, res.Conflict.DiskHash)
		if got, _ := os.ReadFile(filepath.Join(ws, rel)); !res.Saved || res.Hash != save.Hash([]byte(merged)) || string(got) != merged {
			t.Fatalf("save of the merge: %+v", res)
		}
	})

	t.Run("writes stay in blueprints", func(t *testing.T) {
		for _, p := range []string{"out/x.md", ".factory/x.md", "../x.md", "blueprints/../.git/x.md", "/tmp/x.md", "blueprints/x.sh"} {
			if code, body := postAPI(t, base, "SaveBlueprint", p, "---\n---\n", ""); code != http.StatusBadRequest {
				t.Errorf("SaveBlueprint %s: %d %s", p, code, body)
			}
			if code, _ := postAPI(t, base, "Draft", p, "x"); code != http.StatusBadRequest {
				t.Errorf("Draft %s: %d", p, code)
			}
		}
	})

	t.Run("external edit emits blueprint.changed", func(t *testing.T) {
		text := strings.Replace(doc.Text, "title: Hello", "title: Edited elsewhere", 1)
		start := time.Now()
		if err := os.WriteFile(filepath.Join(ws, rel), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		want := save.Hash([]byte(text))
		events.until(t, "blueprint.changed with the new hash", func(e app.Event) bool {
			return e.Kind == "blueprint.changed" && e.Name == rel && e.Hash == want
		})
		t.Logf("blueprint.changed %v after the write", time.Since(start).Round(time.Millisecond))
	})
}

// TestDraftSurvivesSIGKILL journals a draft, kills factory serve with
// SIGKILL, starts it again and finds the draft with its diff.
func TestDraftSurvivesSIGKILL(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	base, pid := serve(t, bin, ws, nil)
	const rel = "blueprints/hello.md"
	var doc app.Document
	callAPI(t, base, "OpenBlueprint", &doc, rel)
	draft := strings.Replace(doc.Text, "title: Hello", "title: Unsaved work", 1)
	var saved app.DraftSaved
	callAPI(t, base, "Draft", &saved, rel, draft)
	if saved.Hash != save.Hash([]byte(draft)) {
		t.Fatalf("draft %+v", saved)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	base, _ = serve(t, bin, ws, nil)
	var drafts []save.Listed
	callAPI(t, base, "Drafts", &drafts)
	if len(drafts) != 1 || drafts[0].Path != rel || drafts[0].Text != draft || !drafts[0].Newer ||
		!strings.Contains(drafts[0].Diff, "-title: Hello\n+title: Unsaved work\n") {
		t.Fatalf("drafts after SIGKILL: %+v", drafts)
	}
	var res save.Result
	callAPI(t, base, "SaveBlueprint", &res, rel, draft, doc.Hash)
	callAPI(t, base, "Drafts", &drafts)
	if !res.Saved || len(drafts) != 0 {
		t.Errorf("after the save: %+v, drafts %+v", res, drafts)
	}
}
