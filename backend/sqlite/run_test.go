package sqlite

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

// at returns a UTC time seconds after epoch.
func at(seconds int) time.Time { return epoch.Add(time.Duration(seconds) * time.Second) }

// fullRun returns a run with every field set.
func fullRun(id string) *backend.Run {
	return &backend.Run{
		ID: id, BlueprintID: "orders", BlueprintVersion: sha("v1"), BlueprintPath: "blueprints/orders.md",
		Model: "ollama:qwen2.5-coder:7b", Output: "out/orders", Status: backend.StatusRunning,
		Error: "gate failed", Parallel: 3, TokensIn: 1200, TokensOut: 3400, Calls: 7,
		StartedAt: at(10), EndedAt: at(70), ParentID: "0123456789abcdef0123456789abcdef",
		Kind: "fork", PID: os.Getpid(),
	}
}

// mustCreate creates runs, failing the test on error.
func mustCreate(t *testing.T, d *DB, runs ...*backend.Run) {
	t.Helper()
	for _, r := range runs {
		if err := d.CreateRun(context.Background(), r); err != nil {
			t.Fatalf("CreateRun(%s): %v", r.ID, err)
		}
	}
}

// mustBlob stores s as a blob and returns its hash.
func mustBlob(t *testing.T, d *DB, s string) string {
	t.Helper()
	h, err := d.PutBlob(context.Background(), []byte(s))
	if err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	return h
}

// mustRun returns the detail of run id.
func mustRun(t *testing.T, d *DB, id string) *backend.RunDetail {
	t.Helper()
	rd, err := d.Run(context.Background(), id)
	if err != nil {
		t.Fatalf("Run(%s): %v", id, err)
	}
	return rd
}

// recordAll saves a full step, attempts, a call and an artifact for run id,
// and returns the detail the database should give back.
func recordAll(t *testing.T, d *DB, r *backend.Run) *backend.RunDetail {
	t.Helper()
	ctx := context.Background()
	want := &backend.RunDetail{Run: *r}
	steps := []backend.StepRun{
		{RunID: r.ID, StepID: "design", Role: "architect", Model: "ollama:llama3", Status: backend.StatusSucceeded,
			Attempts: 1, Sections: []string{"overview", "api"}, TokensIn: 10, TokensOut: 20,
			StartedAt: at(11), EndedAt: at(20)},
		{RunID: r.ID, StepID: "code", Role: "backend-developer", Model: "openai:gpt", Status: backend.StatusFailed,
			Error: "go build failed", Attempts: 2, Needs: []string{"design"}, CacheHit: true,
			TokensIn: 30, TokensOut: 40, StartedAt: at(21), EndedAt: at(60)},
	}
	atts := []backend.Attempt{
		{RunID: r.ID, StepID: "code", N: 2, Status: backend.StatusFailed, Error: "vet", Feedback: "build error",
			Notes: "second try", StartedAt: at(40), EndedAt: at(60)},
		{RunID: r.ID, StepID: "design", N: 1, Status: backend.StatusSucceeded, Notes: "done", StartedAt: at(11), EndedAt: at(20)},
		{RunID: r.ID, StepID: "code", N: 1, Status: backend.StatusFailed, Error: "build error", StartedAt: at(21), EndedAt: at(39)},
	}
	for i := range steps {
		if err := d.SaveStep(ctx, &steps[i]); err != nil {
			t.Fatalf("SaveStep: %v", err)
		}
	}
	for i := range atts {
		if err := d.SaveAttempt(ctx, &atts[i]); err != nil {
			t.Fatalf("SaveAttempt: %v", err)
		}
	}
	call := backend.ModelCall{RunID: r.ID, StepID: "design", Attempt: 1, Seq: 1, Provider: "ollama", Model: "llama3",
		Options: `{"temperature":0}`, PromptHash: mustBlob(t, d, "prompt "+r.ID), AnswerHash: mustBlob(t, d, "answer"),
		TokensIn: 10, TokensOut: 20, Duration: 1500 * time.Millisecond, FirstToken: 250 * time.Millisecond,
		DoneReason: "stop", Error: "none", StartedAt: at(12), Turn: 2}
	failed := backend.ModelCall{RunID: r.ID, StepID: "code", Attempt: 1, Seq: 1, Provider: "ollama", Model: "llama3",
		PromptHash: call.PromptHash, Error: "connection refused", StartedAt: at(22)}
	for _, c := range []*backend.ModelCall{&call, &failed} {
		if err := d.RecordCall(ctx, c); err != nil {
			t.Fatalf("RecordCall: %v", err)
		}
	}
	use := backend.ToolUse{RunID: r.ID, StepID: "design", Attempt: 1, Seq: 1, Turn: 1, CallID: "call_x1",
		Name: "read_file", ArgsHash: mustBlob(t, d, `{"path":"docs/x.md"}`), ResultHash: mustBlob(t, d, "1\tx"),
		Status: backend.ToolOK, Duration: 3 * time.Millisecond, StartedAt: at(12)}
	if err := d.RecordToolUse(ctx, &use); err != nil {
		t.Fatalf("RecordToolUse: %v", err)
	}
	bad := use
	bad.Seq, bad.ResultHash = 2, "0000"
	if err := d.RecordToolUse(ctx, &bad); backend.ErrorCode(err) != backend.EINVALID {
		t.Fatalf("a tool call with a result that is not a blob: %v", err)
	}
	art := backend.Artifact{RunID: r.ID, StepID: "design", Attempt: 1, Path: "docs/design.md",
		SHA256: mustBlob(t, d, "# Design"), Size: 8, Sections: []string{"overview"}, CreatedAt: at(19)}
	if err := d.RecordArtifact(ctx, &art); err != nil {
		t.Fatalf("RecordArtifact: %v", err)
	}
	want.Steps = steps
	want.Attempts = []backend.Attempt{atts[1], atts[2], atts[0]} // by step order, then n
	want.Calls = []backend.ModelCall{call, failed}
	want.Tools = []backend.ToolUse{use}
	want.Artifacts = []backend.Artifact{art}
	want.Gates, want.Reviews = []backend.GateRecord{}, []backend.Review{}
	return want
}

func TestRunRoundTrip(t *testing.T) {
	d := newDB(t)
	r := fullRun("4bf92f3577b34da6a3ce929d0e0e4736")
	mustCreate(t, d, r)
	want := recordAll(t, d, r)
	got := mustRun(t, d, r.ID)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Run:\n got %+v\nwant %+v", got, want)
	}
	if got.Calls[0].ID == 0 || got.Calls[1].ID <= got.Calls[0].ID {
		t.Fatalf("call ids %d, %d: want increasing from 1", got.Calls[0].ID, got.Calls[1].ID)
	}
	t.Run("update keeps step position", func(t *testing.T) {
		s := want.Steps[0]
		s.Status, s.Error = backend.StatusFailed, "rejected"
		if err := d.SaveStep(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		got := mustRun(t, d, r.ID)
		if got.Steps[0].StepID != "design" || got.Steps[0].Error != "rejected" || len(got.Steps) != 2 {
			t.Fatalf("steps after update: %+v", got.Steps)
		}
	})
}

func TestCreateRunDefaults(t *testing.T) {
	d := newDB(t)
	r := &backend.Run{ID: "aa", BlueprintID: "orders"}
	mustCreate(t, d, r)
	if r.Status != backend.StatusPending || r.StartedAt.IsZero() || r.PID != os.Getpid() {
		t.Fatalf("defaults not applied: %+v", r)
	}
	got := mustRun(t, d, "aa").Run
	if !reflect.DeepEqual(got, *r) {
		t.Fatalf("Run:\n got %+v\nwant %+v", got, *r)
	}
	if got := mustRun(t, d, "aa"); got.Steps == nil || got.Attempts == nil || got.Calls == nil || got.Artifacts == nil {
		t.Fatalf("empty lists must be empty, not nil: %+v", got)
	}
	t.Run("duplicate", func(t *testing.T) {
		wantCode(t, d.CreateRun(context.Background(), &backend.Run{ID: "aa"}), backend.ECONFLICT)
	})
	t.Run("empty id", func(t *testing.T) {
		wantCode(t, d.CreateRun(context.Background(), &backend.Run{}), backend.EINVALID)
	})
}

func TestUpdateRun(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	r := fullRun("bb")
	mustCreate(t, d, r)
	u := *r
	u.Status, u.Error, u.TokensIn, u.Calls, u.EndedAt = backend.StatusSucceeded, "", 5, 9, at(99)
	u.BlueprintID, u.Kind, u.PID = "changed", "replay", 0 // fixed at creation; 0 keeps the pid
	if err := d.UpdateRun(ctx, &u); err != nil {
		t.Fatalf("UpdateRun: %v", err)
	}
	want := u
	want.BlueprintID, want.Kind, want.PID = r.BlueprintID, r.Kind, r.PID
	if got := mustRun(t, d, "bb").Run; !reflect.DeepEqual(got, want) {
		t.Fatalf("Run:\n got %+v\nwant %+v", got, want)
	}
	t.Run("claim", func(t *testing.T) {
		u.PID = 4242
		if err := d.UpdateRun(ctx, &u); err != nil {
			t.Fatal(err)
		}
		if got := mustRun(t, d, "bb").Run.PID; got != 4242 {
			t.Fatalf("pid %d, want 4242", got)
		}
	})
	t.Run("absent", func(t *testing.T) {
		wantCode(t, d.UpdateRun(ctx, &backend.Run{ID: "zz"}), backend.ENOTFOUND)
	})
}

func TestRunPrefix(t *testing.T) {
	d := newDB(t)
	for _, id := range []string{"abc111", "abc222", "abd333", "ab"} {
		mustCreate(t, d, &backend.Run{ID: id, BlueprintID: "b"})
	}
	tests := []struct {
		name, id, want, code string
		mention              []string // words the error must contain
	}{
		{name: "full id", id: "abc111", want: "abc111"},
		{name: "unique prefix", id: "abd", want: "abd333"},
		{name: "exact id that is also a prefix", id: "ab", want: "ab"},
		{name: "ambiguous", id: "abc", code: backend.EINVALID, mention: []string{"abc111", "abc222", "ambiguous"}},
		{name: "none", id: "ffff", code: backend.ENOTFOUND, mention: []string{`run "ffff" not found`}},
		{name: "empty", id: "", code: backend.EINVALID},
		{name: "like wildcard", id: "a%", code: backend.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := d.Run(context.Background(), tt.id)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				for _, m := range tt.mention {
					if !strings.Contains(err.Error(), m) {
						t.Fatalf("error %q does not mention %q", err, m)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Run(%q): %v", tt.id, err)
			}
			if rd.Run.ID != tt.want {
				t.Fatalf("Run(%q) = %s, want %s", tt.id, rd.Run.ID, tt.want)
			}
		})
	}
}

func TestRunsFilter(t *testing.T) {
	d := newDB(t)
	mustCreate(t, d,
		&backend.Run{ID: "r1", BlueprintID: "orders", Status: backend.StatusSucceeded, StartedAt: at(1)},
		&backend.Run{ID: "r3", BlueprintID: "orders", Status: backend.StatusFailed, StartedAt: at(3)},
		&backend.Run{ID: "r2", BlueprintID: "billing", Status: backend.StatusSucceeded, StartedAt: at(2)},
		&backend.Run{ID: "r4", BlueprintID: "orders", Status: backend.StatusSucceeded, StartedAt: at(3)},
	)
	tests := []struct {
		name   string
		filter backend.RunFilter
		want   []string
	}{
		{"all, newest first", backend.RunFilter{}, []string{"r4", "r3", "r2", "r1"}},
		{"blueprint", backend.RunFilter{BlueprintID: "orders"}, []string{"r4", "r3", "r1"}},
		{"status", backend.RunFilter{Status: backend.StatusSucceeded}, []string{"r4", "r2", "r1"}},
		{"both", backend.RunFilter{BlueprintID: "orders", Status: backend.StatusFailed}, []string{"r3"}},
		{"limit", backend.RunFilter{Limit: 2}, []string{"r4", "r3"}},
		{"none", backend.RunFilter{BlueprintID: "absent"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := d.Runs(context.Background(), tt.filter)
			if err != nil {
				t.Fatalf("Runs: %v", err)
			}
			got := []string{}
			for _, r := range runs {
				got = append(got, r.ID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Runs(%+v) = %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
	t.Run("negative limit", func(t *testing.T) {
		_, err := d.Runs(context.Background(), backend.RunFilter{Limit: -1})
		wantCode(t, err, backend.EINVALID)
	})
}

func TestDeleteRunCascades(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	keep, gone := fullRun("keep"), fullRun("gone")
	mustCreate(t, d, keep, gone)
	recordAll(t, d, keep)
	recordAll(t, d, gone)
	if err := d.DeleteRun(ctx, "gone"); err != nil {
		t.Fatalf("DeleteRun: %v", err)
	}
	for _, table := range []string{"steps", "attempts", "model_calls", "artifacts"} {
		t.Run(table, func(t *testing.T) {
			var n int
			if err := d.rdb.QueryRow(`SELECT COUNT(*) FROM ` + table + ` WHERE run_id = 'gone'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d rows of the deleted run left", n)
			}
			if err := d.rdb.QueryRow(`SELECT COUNT(*) FROM ` + table + ` WHERE run_id = 'keep'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("rows of the other run were deleted")
			}
		})
	}
	t.Run("shared blobs stay", func(t *testing.T) {
		if _, err := d.Blob(ctx, sha("answer")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("absent", func(t *testing.T) {
		wantCode(t, d.DeleteRun(ctx, "gone"), backend.ENOTFOUND)
	})
	t.Run("prefix is not enough", func(t *testing.T) {
		wantCode(t, d.DeleteRun(ctx, "kee"), backend.ENOTFOUND)
	})
}

func TestRecordRefusals(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	mustCreate(t, d, &backend.Run{ID: "r"})
	blob := mustBlob(t, d, "x")
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"step of absent run", d.SaveStep(ctx, &backend.StepRun{RunID: "no", StepID: "s"}), backend.ENOTFOUND},
		{"step without id", d.SaveStep(ctx, &backend.StepRun{RunID: "r"}), backend.EINVALID},
		{"attempt of absent run", d.SaveAttempt(ctx, &backend.Attempt{RunID: "no", StepID: "s", N: 1}), backend.ENOTFOUND},
		{"attempt zero", d.SaveAttempt(ctx, &backend.Attempt{RunID: "r", StepID: "s"}), backend.EINVALID},
		{"call of absent run", d.RecordCall(ctx, &backend.ModelCall{RunID: "no"}), backend.ENOTFOUND},
		{"call with unstored prompt", d.RecordCall(ctx, &backend.ModelCall{RunID: "r", PromptHash: sha("y")}), backend.EINVALID},
		{"call with unstored answer", d.RecordCall(ctx, &backend.ModelCall{RunID: "r", PromptHash: blob, AnswerHash: sha("y")}), backend.EINVALID},
		{"artifact of absent run", d.RecordArtifact(ctx, &backend.Artifact{RunID: "no", Path: "a", SHA256: blob}), backend.ENOTFOUND},
		{"artifact with unstored content", d.RecordArtifact(ctx, &backend.Artifact{RunID: "r", Path: "a", SHA256: sha("y")}), backend.EINVALID},
		{"artifact without path", d.RecordArtifact(ctx, &backend.Artifact{RunID: "r", SHA256: blob}), backend.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err, tt.code) })
	}
}

func TestArtifactsByPath(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	mustCreate(t, d, &backend.Run{ID: "r1"}, &backend.Run{ID: "r2"})
	v1, v2 := mustBlob(t, d, "package main // v1"), mustBlob(t, d, "package main // v2")
	arts := []backend.Artifact{
		{RunID: "r1", StepID: "code", Attempt: 1, Path: "main.go", SHA256: v1},
		{RunID: "r1", StepID: "code", Attempt: 1, Path: "go.mod", SHA256: v1},
		{RunID: "r2", StepID: "code", Attempt: 2, Path: "main.go", SHA256: v2},
	}
	for i := range arts {
		if err := d.RecordArtifact(ctx, &arts[i]); err != nil {
			t.Fatalf("RecordArtifact: %v", err)
		}
	}
	if arts[0].Size != 18 || arts[0].CreatedAt.IsZero() {
		t.Fatalf("size and time not filled in: %+v", arts[0])
	}
	tests := []struct {
		path string
		want []backend.Artifact
	}{
		{"main.go", []backend.Artifact{arts[2], arts[0]}},
		{"go.mod", []backend.Artifact{arts[1]}},
		{"absent.go", []backend.Artifact{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := d.ArtifactsByPath(ctx, tt.path)
			if err != nil {
				t.Fatalf("ArtifactsByPath: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ArtifactsByPath(%s):\n got %+v\nwant %+v", tt.path, got, tt.want)
			}
		})
	}
}

// deadPID returns the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run a short process: %v", err)
	}
	return cmd.Process.Pid
}

func TestMarkInterrupted(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	dead := deadPID(t)
	runs := []*backend.Run{
		{ID: "dead-running", Status: backend.StatusRunning, PID: dead},
		{ID: "dead-pending", Status: backend.StatusPending, PID: dead, Error: "earlier error"},
		{ID: "alive", Status: backend.StatusRunning},
		{ID: "dead-review", Status: backend.StatusAwaitingReview, PID: dead},
		{ID: "dead-done", Status: backend.StatusSucceeded, PID: dead},
		{ID: "elsewhere", Status: backend.StatusRunning, PID: dead},
	}
	mustCreate(t, d, runs...)
	if _, err := d.db.Exec(`UPDATE runs SET host = 'another-machine' WHERE id = 'elsewhere'`); err != nil {
		t.Fatal(err)
	}
	for _, s := range []backend.StepRun{
		{RunID: "dead-running", StepID: "a", Status: backend.StatusSucceeded},
		{RunID: "dead-running", StepID: "b", Status: backend.StatusRunning},
	} {
		if err := d.SaveStep(ctx, &s); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SaveAttempt(ctx, &backend.Attempt{RunID: "dead-running", StepID: "b", N: 1, Status: backend.StatusRunning}); err != nil {
		t.Fatal(err)
	}

	n, err := d.MarkInterrupted(ctx)
	if err != nil {
		t.Fatalf("MarkInterrupted: %v", err)
	}
	if n != 2 {
		t.Fatalf("marked %d runs, want 2", n)
	}
	tests := []struct{ id, status, errorHas string }{
		{"dead-running", backend.StatusInterrupted, "ended before the run finished"},
		{"dead-pending", backend.StatusInterrupted, "earlier error"},
		{"alive", backend.StatusRunning, ""},
		{"dead-review", backend.StatusAwaitingReview, ""},
		{"dead-done", backend.StatusSucceeded, ""},
		{"elsewhere", backend.StatusRunning, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := mustRun(t, d, tt.id).Run
			if r.Status != tt.status || !strings.Contains(r.Error, tt.errorHas) {
				t.Fatalf("status %q error %q, want %q with %q", r.Status, r.Error, tt.status, tt.errorHas)
			}
		})
	}
	t.Run("steps and attempts", func(t *testing.T) {
		rd := mustRun(t, d, "dead-running")
		got := []string{rd.Steps[0].Status, rd.Steps[1].Status, rd.Attempts[0].Status}
		want := []string{backend.StatusSucceeded, backend.StatusInterrupted, backend.StatusInterrupted}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	})
	t.Run("again", func(t *testing.T) {
		if n, err := d.MarkInterrupted(ctx); err != nil || n != 0 {
			t.Fatalf("MarkInterrupted again = %d, %v; want 0, nil", n, err)
		}
	})
}
