package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// putBase stores content and records it as the base of path.
func putBase(t *testing.T, d *DB, path, content string, parents ...string) workspace.ManifestEntry {
	t.Helper()
	ctx := context.Background()
	sum, err := d.PutBlob(ctx, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	e := workspace.ManifestEntry{Path: path, SHA256: sum, RunID: "run1", StepID: "code", Attempt: 2,
		Parents: parents, Size: int64(len(content)), ModTime: epoch.Add(time.Hour)}
	if err := d.RecordBase(ctx, e); err != nil {
		t.Fatalf("RecordBase(%s): %v", path, err)
	}
	return e
}

func TestManifest(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	putBase(t, d, "out/svc/main.go", "package main\n")
	merged := putBase(t, d, "out/svc/go.mod", "module svc\n", "aaa", "bbb")

	t.Run("bases in path order", func(t *testing.T) {
		bases, err := d.Bases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(bases) != 2 || bases[0].Path != "out/svc/go.mod" || bases[1].Path != "out/svc/main.go" {
			t.Fatalf("Bases = %+v", bases)
		}
		if !reflect.DeepEqual(bases[0].Parents, []string{"aaa", "bbb"}) || bases[0].Size != int64(len("module svc\n")) ||
			!bases[0].ModTime.Equal(merged.ModTime) || bases[0].UpdatedAt.IsZero() || bases[1].Parents != nil {
			t.Errorf("entries do not round-trip: %+v", bases)
		}
	})
	t.Run("base and content", func(t *testing.T) {
		e, ok, err := d.Base(ctx, "out/svc/main.go")
		if err != nil || !ok || e.SHA256 != workspace.HashBytes([]byte("package main\n")) {
			t.Fatalf("Base = %+v, %v, %v", e, ok, err)
		}
		data, ok, err := d.GeneratedContent(ctx, "out/svc/main.go")
		if err != nil || !ok || string(data) != "package main\n" {
			t.Fatalf("GeneratedContent = %q, %v, %v", data, ok, err)
		}
	})
	t.Run("a path never generated", func(t *testing.T) {
		if _, ok, err := d.Base(ctx, "out/svc/other.go"); ok || err != nil {
			t.Fatalf("Base = %v, %v; want not found", ok, err)
		}
		if _, ok, err := d.GeneratedContent(ctx, "out/svc/other.go"); ok || err != nil {
			t.Fatalf("GeneratedContent = %v, %v; want not found", ok, err)
		}
	})
	t.Run("content must be stored first", func(t *testing.T) {
		err := d.RecordBase(ctx, workspace.ManifestEntry{Path: "out/x", SHA256: "0123"})
		wantCode(t, err, backend.EINVALID)
	})
	for _, bad := range []string{"", "/abs", "../up", "a/../b", `a\b`, "."} {
		t.Run("refuses path "+bad, func(t *testing.T) {
			wantCode(t, d.RecordBase(ctx, workspace.ManifestEntry{Path: bad}), backend.EINVALID)
		})
	}
}

func TestDrift(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	base := putBase(t, d, "out/a.go", "package a\n")
	putBase(t, d, "out/b.go", "package b\n")
	drift := func(path, base, cur, diff string) workspace.Drift {
		return workspace.Drift{Path: path, BaseSHA256: base, CurrentSHA256: cur, Diff: diff, SeenAt: epoch}
	}
	open := func(t *testing.T) []workspace.Drift {
		t.Helper()
		ds, err := d.Drifts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}

	t.Run("a newer drift of a path replaces the open one", func(t *testing.T) {
		for _, cur := range []string{"c1", "c2"} {
			if err := d.SaveDrift(ctx, drift("out/a.go", base.SHA256, cur, "diff "+cur)); err != nil {
				t.Fatal(err)
			}
		}
		ds := open(t)
		if len(ds) != 1 || ds[0].CurrentSHA256 != "c2" || ds[0].Diff != "diff c2" || !ds[0].SeenAt.Equal(epoch) {
			t.Fatalf("Drifts = %+v", ds)
		}
		// Seen again unchanged by a later scan, it keeps when it was first
		// seen; changed again, it is seen anew.
		later := drift("out/a.go", base.SHA256, "c2", "diff c2")
		later.SeenAt = epoch.Add(time.Hour)
		if err := d.SaveDrift(ctx, later); err != nil {
			t.Fatal(err)
		}
		if ds := open(t); !ds[0].SeenAt.Equal(epoch) {
			t.Errorf("an unchanged drift seen again moved to %v", ds[0].SeenAt)
		}
		later.CurrentSHA256 = "c3"
		if err := d.SaveDrift(ctx, later); err != nil {
			t.Fatal(err)
		}
		if ds := open(t); !ds[0].SeenAt.Equal(later.SeenAt) {
			t.Errorf("a changed drift kept its old time %v", ds[0].SeenAt)
		}
		later.CurrentSHA256 = "c2" // back to the state the next subtests expect
		if err := d.SaveDrift(ctx, later); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a stale drift is not recorded", func(t *testing.T) {
		if err := d.SaveDrift(ctx, drift("out/b.go", "not-the-base", "c", "")); err != nil {
			t.Fatal(err)
		}
		if err := d.SaveDrift(ctx, drift("out/never.go", "x", "c", "")); err != nil {
			t.Fatal(err)
		}
		if ds := open(t); len(ds) != 1 {
			t.Fatalf("Drifts = %+v; want only out/a.go", ds)
		}
	})
	t.Run("resolve", func(t *testing.T) {
		if err := d.ResolveDrift(ctx, "out/a.go", DriftReverted); err != nil {
			t.Fatal(err)
		}
		if ds := open(t); len(ds) != 0 {
			t.Fatalf("Drifts after resolve = %+v", ds)
		}
		wantCode(t, d.ResolveDrift(ctx, "out/a.go", DriftReverted), backend.ENOTFOUND)
		wantCode(t, d.ResolveDrift(ctx, "out/a.go", "maybe"), backend.EINVALID)
	})
	t.Run("a new base resolves the open drift", func(t *testing.T) {
		if err := d.SaveDrift(ctx, drift("out/b.go", workspace.HashBytes([]byte("package b\n")), "c", "")); err != nil {
			t.Fatal(err)
		}
		putBase(t, d, "out/b.go", "package b // v2\n")
		if ds := open(t); len(ds) != 0 {
			t.Fatalf("Drifts after a new base = %+v", ds)
		}
	})
	t.Run("delete base", func(t *testing.T) {
		if err := d.SaveDrift(ctx, workspace.Drift{Path: "out/a.go", BaseSHA256: base.SHA256, Deleted: true}); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteBase(ctx, "out/a.go"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := d.Base(ctx, "out/a.go"); ok {
			t.Error("out/a.go still has a base")
		}
		if ds := open(t); len(ds) != 0 {
			t.Fatalf("Drifts after DeleteBase = %+v", ds)
		}
	})
}

// TestManifestBackfill checks that the migration makes the latest artifact
// of each path, from runs made before the manifest existed, its base.
func TestManifestBackfill(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	run := &backend.Run{ID: "4bf92f3577b34da6a3ce929d0e0e4736", BlueprintID: "svc", BlueprintVersion: "v",
		Output: "out/svc", Status: backend.StatusSucceeded, StartedAt: epoch}
	if err := d.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	var last string
	for i, content := range []string{"v1\n", "v2\n"} {
		sum, err := d.PutBlob(ctx, []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		last = sum
		a := &backend.Artifact{RunID: run.ID, StepID: "code", Attempt: i + 1, Path: "main.go", SHA256: sum}
		if err := d.RecordArtifact(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// Replay the migration's backfill on this database.
	if _, err := d.db.ExecContext(ctx, `DELETE FROM migrations WHERE name = 'migration/00003_manifest.sql'`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE manifest`, `DROP TABLE drift`} {
		if _, err := d.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, d.db, epoch); err != nil {
		t.Fatal(err)
	}
	e, ok, err := d.Base(ctx, "out/svc/main.go")
	if err != nil || !ok || e.SHA256 != last || e.Attempt != 2 || e.Size != -1 {
		t.Fatalf("backfilled base = %+v, %v, %v; want the second attempt's", e, ok, err)
	}
}
