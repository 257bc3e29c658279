package app

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/sqlite"
	"factorydesk/blueprints"
)

// The test workspace has the shipped roles and the blueprints of testdata:
// pipeline (design, then code and docs) and reviewed (one step waiting for
// a review). testdata/answers/STEP holds the files the model answers for
// each step.

var stepPattern = regexp.MustCompile(`(?m)^# Step: (\S+)`)

// stepOf returns the step a chat request is for, from its prompt.
func stepOf(req modeltest.Request) string {
	for _, m := range req.Messages {
		if s := stepPattern.FindStringSubmatch(m.Content); s != nil {
			return s[1]
		}
	}
	return ""
}

// loadAnswers reads testdata/answers: step → path → content.
func loadAnswers(t testing.TB) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	root := filepath.Join("testdata", "answers")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		step, path, _ := cutPath(filepath.ToSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if out[step] == nil {
			out[step] = map[string]string{}
		}
		out[step][path] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func cutPath(rel string) (first, rest string, ok bool) {
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' {
			return rel[:i], rel[i+1:], true
		}
	}
	return rel, "", false
}

// responder answers each step with its files from answers, streamed in a
// few pieces.
func responder(answers map[string]map[string]string) func(modeltest.Request) modeltest.Reply {
	return func(req modeltest.Request) modeltest.Reply {
		files, ok := answers[stepOf(req)]
		if !ok {
			return modeltest.Reply{Status: 500, Error: "no step in the prompt"}
		}
		return modeltest.Reply{Content: modeltest.FilesAnswer(files, "done"), Chunks: 5, PromptTokens: 100, EvalTokens: 20}
	}
}

// newWorkspace makes a workspace with the shipped roles and the testdata
// blueprints, and opens its database.
func newWorkspace(t *testing.T) (string, *sqlite.DB) {
	t.Helper()
	root := t.TempDir()
	copyFile := func(dst string, data []byte) error {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	}
	err := fs.WalkDir(blueprints.FS, "roles", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(blueprints.FS, p)
		if err != nil {
			return err
		}
		return copyFile(filepath.Join(root, "blueprints", filepath.FromSlash(p)), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pipeline.md", "reviewed.md"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := copyFile(filepath.Join(root, "blueprints", name), data); err != nil {
			t.Fatal(err)
		}
	}
	db := sqlite.NewDB(filepath.Join(root, ".factory", "factory.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return root, db
}

// newTestApp returns an App over a fresh workspace whose Ollama provider is
// srv (none when nil), shut down at the end of the test.
func newTestApp(t *testing.T, srv *modeltest.Ollama) *App {
	t.Helper()
	root, db := newWorkspace(t)
	// A model server's 500 is tried again once, at once.
	env := map[string]string{"FACTORY_MODEL_RETRIES": "1ms"}
	if srv != nil {
		env["OLLAMA_HOST"] = srv.URL()
	}
	a, err := New(Config{
		Root:          root,
		Store:         db,
		Getenv:        func(k string) string { return env[k] },
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		EventInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.shutdown() })
	return a
}
