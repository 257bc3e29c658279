package rundiff_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/rundiff"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// blobs is content by hash, as a store keeps it.
type blobs map[string][]byte

func (b blobs) Blob(_ context.Context, hash string) ([]byte, error) {
	data, ok := b[hash]
	if !ok {
		return nil, backend.Errorf(backend.ENOTFOUND, "blob %s", hash)
	}
	return data, nil
}

func (b blobs) put(data string) string {
	sum := sha256.Sum256([]byte(data))
	h := hex.EncodeToString(sum[:])
	b[h] = []byte(data)
	return h
}

func (b blobs) prompt(user string) string {
	data, _ := json.Marshal(backend.StoredRequest{Messages: []backend.Message{{Role: "user", Content: user}}})
	return b.put(string(data))
}

func run(b blobs, id, model, design, code string) *backend.RunDetail {
	d := &backend.RunDetail{Run: backend.Run{ID: id, Model: model, Status: backend.StatusSucceeded}}
	for _, s := range []struct{ id, file, content string }{{"design", "design.md", design}, {"code", "main.go", code}} {
		d.Steps = append(d.Steps, backend.StepRun{StepID: s.id, Model: model, Status: backend.StatusSucceeded, Attempts: 1})
		d.Calls = append(d.Calls, backend.ModelCall{StepID: s.id, Attempt: 1, Seq: 1, Model: model,
			PromptHash: b.prompt("write " + s.file + "\nupstream:\n" + design)})
		d.Artifacts = append(d.Artifacts, backend.Artifact{StepID: s.id, Attempt: 1, Path: s.file, SHA256: b.put(s.content)})
	}
	return d
}

func TestCompare(t *testing.T) {
	b := blobs{}
	a := run(b, "a", "ollama:small", "# Design\n\nSmall.\n", "package main\n\nfunc main() {}\n")
	c := run(b, "b", "ollama:big", "# Design\n\nBig.\n", "package main\n\nfunc main() {}\n")
	tests := []struct {
		name   string
		x, y   *backend.RunDetail
		same   bool
		golden string
	}{
		{"same run", a, a, true, ""},
		{"changed model", a, c, false, "changed_model.diff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := rundiff.Compare(context.Background(), b, tt.x, tt.y)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Same != tt.same || len(rep.Steps) != 2 {
				t.Fatalf("report = %+v", rep)
			}
			if tt.golden == "" {
				return
			}
			design, code := rep.Steps[0], rep.Steps[1]
			if design.Model != [2]string{"ollama:small", "ollama:big"} || len(design.Files) != 1 || design.Files[0].Change != rundiff.Changed {
				t.Errorf("design = %+v", design)
			}
			if len(code.Files) != 0 || code.Prompt == "" || code.Same {
				t.Errorf("code = %+v: same file, changed prompt", code)
			}
			golden(t, tt.golden, design.Files[0].Diff+code.Prompt)
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update to accept):\n%s", path, rundiff.Unified(string(want), got, "want", "got"))
	}
}
