package engine

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"factorydesk/backend"
)

// TestReuseVerifiesBlobs: a recorded file whose blob no longer matches its
// sha256 (a tampered record) is never restored: a cache hit gives way to a
// real run, a forced reuse fails naming the file.
func TestReuseVerifiesBlobs(t *testing.T) {
	env := newEnv(t, nil)
	env.script("a", filesReply(map[string]string{"a.txt": "honest\n"}))
	bp := blueprint(step("a"))
	first := env.run(context.Background(), bp, RunOptions{})
	if first.Status != backend.StatusSucceeded {
		t.Fatalf("first run: %+v", first)
	}
	art := env.detail(first.ID).Artifacts[0]
	raw, err := sql.Open("sqlite3", filepath.Join(env.ws, ".factory", "factory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE blobs SET data = ? WHERE hash = ?`, []byte("evil!!\n"), art.SHA256); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(env.ws, "out", "svc", "a.txt")
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}

	calls := len(env.server.Requests())
	second := env.run(context.Background(), bp, RunOptions{})
	if second.Status != backend.StatusSucceeded || len(env.server.Requests()) != calls+1 {
		t.Fatalf("cache hit over a tampered blob: status %s, %d model calls", second.Status, len(env.server.Requests())-calls)
	}
	if data, _ := os.ReadFile(out); string(data) != "honest\n" {
		t.Errorf("a.txt is %q", data)
	}

	os.Remove(out)
	forced := env.run(context.Background(), bp, RunOptions{Reuse: map[string]string{"a": first.ID}})
	d := env.detail(forced.ID)
	if forced.Status != backend.StatusFailed || !strings.Contains(stepsByID(d)["a"].Error, "does not match its recorded sha256") {
		t.Errorf("forced reuse of the tampered record: %s, step error %q", forced.Status, stepsByID(d)["a"].Error)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the tampered file was restored")
	}
}
