package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

const (
	mergeBase = "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n"
	// the new answer changes line 7
	mergeNew = "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7 regenerated\nline 8\n"
)

// TestRegenerationMerge runs a step, edits its file by hand, and runs the
// step again with a new answer: the edit and the answer are merged when they
// touch different lines; on a conflict the file on disk stays untouched, its
// conflicted version is kept and the step waits for the operator's review.
func TestRegenerationMerge(t *testing.T) {
	tests := []struct {
		name     string
		edit     string // the hand edit of mergeBase
		wantOK   bool
		wantDisk string
	}{
		{
			name:     "non-overlapping edit and answer are both kept",
			edit:     strings.Replace(mergeBase, "line 2\n", "line 2 by hand\n", 1),
			wantOK:   true,
			wantDisk: strings.Replace(mergeNew, "line 2\n", "line 2 by hand\n", 1),
		},
		{
			name:     "overlapping edit conflicts and the disk is untouched",
			edit:     strings.Replace(mergeBase, "line 7\n", "line 7 by hand\n", 1),
			wantDisk: strings.Replace(mergeBase, "line 7\n", "line 7 by hand\n", 1),
		},
		{
			name:     "an unedited file is replaced",
			edit:     mergeBase,
			wantOK:   true,
			wantDisk: mergeNew,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil)
			st := step("code")
			st.Writes = []string{"main.txt"}
			bp := blueprint(st)
			ctx := context.Background()

			env.script("code", filesReply(map[string]string{"main.txt": mergeBase}))
			first := env.run(ctx, bp, RunOptions{})
			if first.Status != backend.StatusSucceeded {
				t.Fatalf("first run: %s %s", first.Status, first.Error)
			}
			file := filepath.Join(env.ws, "out", "svc", "main.txt")
			base, ok, err := env.db.Base(ctx, "out/svc/main.txt")
			if err != nil || !ok || base.SHA256 != workspace.HashBytes([]byte(mergeBase)) || base.RunID != first.ID {
				t.Fatalf("base after the first run = %+v, %v, %v", base, ok, err)
			}
			if err := os.WriteFile(file, []byte(tt.edit), 0o644); err != nil {
				t.Fatal(err)
			}

			env.script("code", filesReply(map[string]string{"main.txt": mergeNew}))
			second := env.run(ctx, bp, RunOptions{NoCache: true}) // a new answer, not the cached one
			disk, err := os.ReadFile(file)
			if err != nil || string(disk) != tt.wantDisk {
				t.Errorf("disk after regeneration = %q, %v; want %q", disk, err, tt.wantDisk)
			}
			d := env.detail(second.ID)
			if tt.wantOK {
				wantSteps(t, d, map[string]string{"code": backend.StatusSucceeded})
				base, _, _ := env.db.Base(ctx, "out/svc/main.txt")
				if base.SHA256 != workspace.HashBytes(disk) {
					t.Errorf("base after regeneration is %s, not the merged file", base.SHA256)
				}
				if tt.edit != mergeBase && len(base.Parents) != 2 {
					t.Errorf("merged base has parents %v, want the hand edit and the new answer", base.Parents)
				}
				return
			}
			wantSteps(t, d, map[string]string{"code": backend.StatusAwaitingReview})
			if d.Run.Status != backend.StatusAwaitingReview {
				t.Errorf("run after a conflict is %s, want awaiting_review", d.Run.Status)
			}
			errText := stepsByID(d)["code"].Error
			conflictRel := ".factory/conflicts/" + second.ID + "/out/svc/main.txt"
			contains(t, "step error", errText, "merge conflict in main.txt")
			contains(t, "step error", errText, conflictRel)
			if got := stepsByID(d)["code"].Attempts; got != 1 {
				t.Errorf("a conflict was retried: %d attempts", got)
			}
			kept, err := os.ReadFile(filepath.Join(env.ws, filepath.FromSlash(conflictRel)))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"<<<<<<< yours", "line 7 by hand", "line 7 regenerated", ">>>>>>> new"} {
				contains(t, "conflict file", string(kept), want)
			}
			base, _, _ = env.db.Base(ctx, "out/svc/main.txt")
			if base.SHA256 != workspace.HashBytes([]byte(mergeBase)) {
				t.Errorf("a conflict changed the base to %s", base.SHA256)
			}

			// Approving keeps the operator's file as it is and ends the step.
			if _, err := env.engine.Review(ctx, second.ID, "code", true, ""); err != nil {
				t.Fatal(err)
			}
			resumed, err := env.engine.Resume(ctx, RunOptions{RunID: second.ID, Blueprint: bp, Roles: roles(), Workspace: env.ws})
			if err != nil || resumed.Status != backend.StatusSucceeded {
				t.Fatalf("resume after approving the conflict: %v, %+v", err, resumed)
			}
			if disk, _ := os.ReadFile(file); string(disk) != tt.wantDisk {
				t.Errorf("approving the conflict changed the hand edit: %q", disk)
			}
		})
	}
}

// TestRetryRewritesOwnFile checks that a retry writing the same path again
// is not taken for a hand edit of the first attempt's file.
func TestRetryRewritesOwnFile(t *testing.T) {
	env := newEnv(t, nil)
	st := step("code")
	st.Writes = []string{"main.txt"}
	st.Validate = []string{"grep -q good main.txt"}
	st.Retries = 1
	env.script("code",
		filesReply(map[string]string{"main.txt": "bad\n"}),
		filesReply(map[string]string{"main.txt": "good\n"}))
	run := env.run(context.Background(), blueprint(st), RunOptions{})
	if run.Status != backend.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	disk, _ := os.ReadFile(filepath.Join(env.ws, "out", "svc", "main.txt"))
	if string(disk) != "good\n" {
		t.Errorf("main.txt = %q, want the retry's answer", disk)
	}
}
