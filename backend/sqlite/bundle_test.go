package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

// importable is a bundle of one finished run with one span.
func importable(id string) *backend.RunBundle {
	text := []byte("---\nblueprint: x\n---\n")
	sum := sha256.Sum256(text)
	now := time.Unix(1700000000, 0)
	return &backend.RunBundle{
		Detail: backend.RunDetail{Run: backend.Run{ID: id, BlueprintID: "x", BlueprintVersion: hex.EncodeToString(sum[:]),
			Output: "out/x", Status: backend.StatusSucceeded, StartedAt: now, EndedAt: now.Add(time.Second)}},
		BlueprintText: text,
		Spans:         []backend.Span{{TraceID: id, SpanID: "0123456789abcdef", Name: "run", Start: now, End: now}},
	}
}

// TestImportRunKeepsLocalRunsApart: an imported run may not take a local
// run's short id, carry spans of another trace, or have an id of the wrong
// form; nothing of a refused import is stored.
func TestImportRunKeepsLocalRunsApart(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	local := strings.Repeat("a", 12) + strings.Repeat("1", 20)
	if ok, err := d.ImportRun(ctx, importable(local)); err != nil || !ok {
		t.Fatalf("import of %s: %v, %v", local, ok, err)
	}
	injected := importable(strings.Repeat("c", 32))
	injected.Spans = append(injected.Spans, backend.Span{TraceID: local, SpanID: "fedcba9876543210", Name: "injected"})
	tests := []struct {
		name string
		b    *backend.RunBundle
		code string
	}{
		{"a twin of a local short id", importable(strings.Repeat("a", 12) + strings.Repeat("2", 20)), backend.ECONFLICT},
		{"spans injected into a local run", injected, backend.EINVALID},
		{"a short id", importable(strings.Repeat("a", 12)), backend.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := d.ImportRun(ctx, tt.b)
			if ok {
				t.Fatal("imported")
			}
			wantCode(t, err, tt.code)
		})
	}
	runs, err := d.Runs(ctx, backend.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs after the refused imports: %d, %v", len(runs), err)
	}
	spans, err := d.Spans(ctx, local)
	if err != nil || len(spans) != 1 {
		t.Errorf("the local run has %d spans, want its own 1 (%v)", len(spans), err)
	}
	got, err := d.Run(ctx, local[:12])
	if err != nil || got.Run.ID != local {
		t.Errorf("short id %s resolves to %v, %v", local[:12], got, err)
	}
}

// TestImportedRunsFeedTheCacheOnlyWhenTrusted: a run imported without
// trust is never a step cache source, whatever its dates; one imported with
// trust is; both say where they came from.
func TestImportedRunsFeedTheCacheOnlyWhenTrusted(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	const key = "0000000000000000000000000000000000000000000000000000000000000001"
	cached := func(id string, trusted bool) *backend.RunBundle {
		b := importable(id)
		b.Trusted = trusted
		b.Detail.Run.StartedAt = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) // forged to look newest
		b.Detail.Steps = []backend.StepRun{{StepID: "s", Role: "r", Status: backend.StatusSucceeded}}
		b.StepKeys = []backend.StepKey{{StepID: "s", Key: key}}
		return b
	}
	untrusted, trusted := strings.Repeat("1", 32), strings.Repeat("2", 32)
	if _, err := d.ImportRun(ctx, cached(untrusted, false)); err != nil {
		t.Fatal(err)
	}
	if run, _, err := d.CachedStep(ctx, key, ""); err != nil || run != "" {
		t.Fatalf("an untrusted import is a cache source: %q, %v", run, err)
	}
	if _, err := d.ImportRun(ctx, cached(trusted, true)); err != nil {
		t.Fatal(err)
	}
	if run, _, err := d.CachedStep(ctx, key, ""); err != nil || run != trusted {
		t.Fatalf("cache source %q, %v; want the trusted import", run, err)
	}
	for id, want := range map[string]string{untrusted: backend.OriginImported, trusted: backend.OriginTrusted} {
		got, err := d.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Run.Origin != want {
			t.Errorf("run %s: origin %q, want %q", id, got.Run.Origin, want)
		}
	}
}

// TestForksOfUntrustedImportsFeedNoCache: a local fork that reused the
// outputs of a run imported without trust, and a fork of that fork, carry
// the imported files; neither is a step cache source. A step that ran for
// real in the same fork is one, and so is a local run with the same key.
func TestForksOfUntrustedImportsFeedNoCache(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	key, ranKey := strings.Repeat("1", 64), strings.Repeat("2", 64)
	imported := strings.Repeat("3", 32)
	b := importable(imported)
	b.Detail.Steps = []backend.StepRun{{StepID: "s", Role: "r", Status: backend.StatusSucceeded}}
	b.StepKeys = []backend.StepKey{{StepID: "s", Key: key}}
	if _, err := d.ImportRun(ctx, b); err != nil {
		t.Fatal(err)
	}
	// local makes a run that took step s from source (or ran it, source
	// "") under key, and step t for real under ranKey.
	local := func(id, source, k string) {
		t.Helper()
		if err := d.CreateRun(ctx, &backend.Run{ID: id, BlueprintID: "x", BlueprintVersion: b.Detail.Run.BlueprintVersion,
			Status: backend.StatusSucceeded, Kind: backend.KindFork, ParentID: source}); err != nil {
			t.Fatal(err)
		}
		for _, st := range []struct{ step, key, source string }{{"s", k, source}, {"t", ranKey, ""}} {
			if err := d.SaveStep(ctx, &backend.StepRun{RunID: id, StepID: st.step, Role: "r", Status: backend.StatusSucceeded}); err != nil {
				t.Fatal(err)
			}
			if err := d.SaveStepKey(ctx, &backend.StepKey{RunID: id, StepID: st.step, Key: st.key, SourceRun: st.source}); err != nil {
				t.Fatal(err)
			}
		}
	}
	fork, forkOfFork := strings.Repeat("4", 32), strings.Repeat("5", 32)
	local(fork, imported, key)
	local(forkOfFork, fork, key)
	if run, _, err := d.CachedStep(ctx, key, ""); err != nil || run != "" {
		t.Fatalf("a fork's files from an untrusted import are a cache source: %q, %v", run, err)
	}
	if run, _, err := d.CachedStep(ctx, ranKey, ""); err != nil || run != forkOfFork {
		t.Errorf("a step the fork ran for real: cache source %q, %v; want %s", run, err, forkOfFork)
	}
	own := strings.Repeat("6", 32)
	local(own, "", key)
	if run, _, err := d.CachedStep(ctx, key, ""); err != nil || run != own {
		t.Errorf("cache source %q, %v; want the local run %s", run, err, own)
	}
}

// TestImportedRunsAreNeverClaimed: a run imported unfinished (its process
// on another machine) is interrupted here but never resumed: resuming would
// run its bundle's gates and make it a local run.
func TestImportedRunsAreNeverClaimed(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	for _, trusted := range []bool{false, true} {
		b := importable(strings.Repeat(map[bool]string{false: "7", true: "8"}[trusted], 32))
		b.Trusted = trusted
		b.Detail.Run.Status = backend.StatusRunning
		if _, err := d.ImportRun(ctx, b); err != nil {
			t.Fatal(err)
		}
		_, err := d.ClaimRun(ctx, b.Detail.Run.ID)
		wantCode(t, err, backend.ECONFLICT)
		got, err := d.Run(ctx, b.Detail.Run.ID)
		if err != nil || got.Run.Status != backend.StatusInterrupted || got.Run.Origin == "" {
			t.Errorf("the imported run after the refused claim: %+v, %v", got.Run, err)
		}
	}
}
