package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/sqlite"
)

// recordRun stores a finished run that wrote file under output straight
// into the workspace's database, as a bundle checked by an older factory
// (or a database edited by hand) could have left it.
func recordRun(t *testing.T, ws, id, output, file string) {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(ws, ".factory", "factory.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	text, content := []byte("---\nblueprint: x\n---\n"), []byte("x")
	version, sum := sha256.Sum256(text), sha256.Sum256(content)
	now := time.Now()
	b := &backend.RunBundle{
		Detail: backend.RunDetail{
			Run: backend.Run{ID: id, BlueprintID: "x", BlueprintVersion: hex.EncodeToString(version[:]), Output: output,
				Status: backend.StatusSucceeded, StartedAt: now, EndedAt: now},
			Artifacts: []backend.Artifact{{StepID: "s", Attempt: 1, Path: file, SHA256: hex.EncodeToString(sum[:]), Size: 1}},
		},
		BlueprintText: text,
		Blobs:         map[string][]byte{hex.EncodeToString(sum[:]): content},
	}
	if _, err := db.ImportRun(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// TestServeOpenFileStaysInTheWorkspace replays the attack on the real
// factory serve: a run recorded with output ../../../../etc asks OpenFile
// for passwd (it opened /etc/passwd). The call is refused and the system's
// opener (a stand-in on PATH that notes what it is given) never starts; a
// file inside the workspace (the control) is handed to it.
func TestServeOpenFileStaysInTheWorkspace(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	evil, good := strings.Repeat("e", 32), strings.Repeat("a", 32)
	recordRun(t, ws, evil, "../../../../../../../../etc", "passwd")
	recordRun(t, ws, good, "out/x", "x.txt")
	if err := os.MkdirAll(filepath.Join(ws, "out", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "out", "x", "x.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	opener := t.TempDir()
	opened := filepath.Join(opener, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> " + opened + "\n"
	if err := os.WriteFile(filepath.Join(opener, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	printed, _ := serve(t, bin, ws, []string{"PATH=" + opener + string(os.PathListSeparator) + os.Getenv("PATH")})
	pu, _ := url.Parse(printed)
	base := "http://" + pu.Host
	hdr := map[string]string{"X-Factory-Request": "1", "Content-Type": "application/json"}

	status, _, body := call(t, base, "", "POST", "/api/OpenFile", `["`+evil+`", "passwd"]`, hdr)
	if status == 200 || !strings.Contains(body, "not opened") {
		t.Errorf("OpenFile of ../../../../etc/passwd: status %d %s", status, body)
	}
	status, _, body = call(t, base, "", "POST", "/api/OpenFile", `["`+good+`", "x.txt"]`, hdr)
	if status != 200 {
		t.Fatalf("OpenFile of a file in the workspace: status %d %s", status, body)
	}
	var got []byte
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, _ = os.ReadFile(opened); strings.Contains(string(got), "x.txt") {
			break
		}
	}
	if lines := strings.Fields(string(got)); len(lines) != 1 || !strings.HasSuffix(lines[0], "/out/x/x.txt") {
		t.Errorf("the opener was given %q, want only the workspace's out/x/x.txt", got)
	}
}
