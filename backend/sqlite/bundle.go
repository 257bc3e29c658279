package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"regexp"
	"time"

	"factorydesk/backend"
)

// fullRunID matches a run id; shortIDLen is how much of it is shown.
var fullRunID = regexp.MustCompile(`^[0-9a-f]{32}$`)

const shortIDLen = 12

// ImportRun stores a bundled run in one transaction: its blobs, blueprint
// version, run, steps, attempts, calls, artifacts, gate results, reviews,
// roles, cache keys and spans. A run already present is left as it is and
// ImportRun returns false: importing twice is harmless. A blob whose
// content does not match its hash is EINVALID and nothing is stored.
//
// The run's id must be 32 hex digits that share no short id (the first
// 12) with a run of the workspace, and every span must belong to it: an
// import never makes a local run's short id resolve elsewhere nor adds
// spans to another run.
func (d *DB) ImportRun(ctx context.Context, b *backend.RunBundle) (bool, error) {
	r := b.Detail.Run
	if !fullRunID.MatchString(r.ID) {
		return false, backend.Errorf(backend.EINVALID, "bundle: run id %q is not 32 hex digits", r.ID)
	}
	for _, s := range b.Spans {
		if s.TraceID != r.ID {
			return false, backend.Errorf(backend.EINVALID, "bundle of run %s: span %s belongs to trace %q", r.ID, s.SpanID, s.TraceID)
		}
	}
	for hash, data := range b.Blobs {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != hash {
			return false, backend.Errorf(backend.EINVALID, "bundle of run %s: blob %s does not match its content", r.ID, hash)
		}
	}
	imported := false
	err := d.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE id = ?`, r.ID).Scan(&n); err != nil {
			return dbError(err, "look up run %s", r.ID)
		}
		if n > 0 {
			return nil
		}
		var twin string
		err := tx.QueryRowContext(ctx, `SELECT id FROM runs WHERE id >= ?1 AND id < ?2 LIMIT 1`,
			r.ID[:shortIDLen], r.ID[:shortIDLen]+"\xff").Scan(&twin)
		if err == nil {
			return backend.Errorf(backend.ECONFLICT, "run %s shares its short id %s with run %s of this workspace; not imported",
				r.ID, r.ID[:shortIDLen], twin)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return dbError(err, "look up runs like %s", r.ID[:shortIDLen])
		}
		for hash, data := range b.Blobs {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO blobs (hash, data, size) VALUES (?, ?, ?)`,
				hash, data, len(data)); err != nil {
				return dbError(err, "import blob %s", hash)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO blueprint_versions (version, blueprint_id,
			path, text, created_at) VALUES (?, ?, ?, ?, ?)`, r.BlueprintVersion, r.BlueprintID, r.BlueprintPath,
			b.BlueprintText, toNS(r.StartedAt)); err != nil {
			return dbError(err, "import blueprint version %s", r.BlueprintVersion)
		}
		if err := importRecords(ctx, tx, b, d.now()); err != nil {
			return err
		}
		imported = true
		return nil
	})
	return imported, err
}

// importRecords inserts the run and everything recorded under it. Its cache
// keys date from now, the import: a bundle's own dates are its author's word.
func importRecords(ctx context.Context, tx *sql.Tx, b *backend.RunBundle, now time.Time) error {
	r := b.Detail.Run
	status := r.Status
	if !backend.Terminal(status) {
		status = backend.StatusInterrupted // its process is on another machine
	}
	exec := func(what, q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return dbError(err, "import %s of run %s", what, r.ID)
	}
	if err := exec("the run", `INSERT INTO runs (`+runColumns+`, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.BlueprintID, r.BlueprintVersion, r.BlueprintPath, r.Model, r.Output, status, r.Error, r.Parallel,
		r.TokensIn, r.TokensOut, r.Calls, toNS(r.StartedAt), toNS(r.EndedAt), r.ParentID, r.Kind, 0, origin(b)); err != nil {
		return err
	}
	for _, s := range b.Detail.Steps {
		if err := exec("step "+s.StepID, `INSERT INTO steps (run_id, step_id, role, model, status, error,
			attempts, sections, needs, cache_hit, tokens_in, tokens_out, started_at, ended_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, s.StepID, s.Role, s.Model, s.Status, s.Error,
			s.Attempts, encodeList(s.Sections), encodeList(s.Needs), s.CacheHit, s.TokensIn, s.TokensOut,
			toNS(s.StartedAt), toNS(s.EndedAt)); err != nil {
			return err
		}
	}
	for _, a := range b.Detail.Attempts {
		if err := exec("an attempt", `INSERT INTO attempts (run_id, step_id, n, status, error, feedback, notes,
			started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, a.StepID, a.N, a.Status, a.Error,
			a.Feedback, a.Notes, toNS(a.StartedAt), toNS(a.EndedAt)); err != nil {
			return err
		}
	}
	for _, c := range b.Detail.Calls {
		if err := exec("a model call", `INSERT INTO model_calls (run_id, step_id, attempt, seq, provider, model,
			options, prompt_hash, answer_hash, tokens_in, tokens_out, duration, first_token, done_reason, error,
			started_at, turn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, c.StepID, c.Attempt, c.Seq,
			c.Provider, c.Model, c.Options, nullable(c.PromptHash), nullable(c.AnswerHash), c.TokensIn, c.TokensOut,
			int64(c.Duration), int64(c.FirstToken), c.DoneReason, c.Error, toNS(c.StartedAt), c.Turn); err != nil {
			return err
		}
	}
	for _, u := range b.Detail.Tools {
		u.RunID = r.ID
		if err := exec("a tool call", `INSERT INTO tool_calls (`+toolColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, toolRow(&u)...); err != nil {
			return err
		}
	}
	for _, a := range b.Detail.Artifacts {
		if err := exec("artifact "+a.Path, `INSERT INTO artifacts (run_id, step_id, attempt, path, sha256, size,
			sections, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, a.StepID, a.Attempt, a.Path, a.SHA256,
			a.Size, encodeList(a.Sections), toNS(a.CreatedAt)); err != nil {
			return err
		}
	}
	for _, g := range b.Detail.Gates {
		if err := exec("gate "+g.Name, `INSERT OR REPLACE INTO gate_results (run_id, step_id, attempt, seq, name,
			passed, exit_code, output, duration, timed_out, sandboxed, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, g.StepID, g.Attempt, g.Seq, g.Name, g.Passed,
			g.ExitCode, g.Output, int64(g.Duration), g.TimedOut, g.Sandboxed, toNS(g.CreatedAt)); err != nil {
			return err
		}
	}
	for _, v := range b.Detail.Reviews {
		if err := exec("a review", `INSERT OR REPLACE INTO reviews (run_id, step_id, attempt, status, comment,
			requested_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, v.StepID, v.Attempt, v.Status,
			v.Comment, toNS(v.RequestedAt), toNS(v.DecidedAt)); err != nil {
			return err
		}
	}
	for name, hash := range b.Roles {
		if err := exec("role "+name, `INSERT INTO run_roles (run_id, role, hash) VALUES (?, ?, ?)`,
			r.ID, name, hash); err != nil {
			return err
		}
	}
	for _, k := range b.StepKeys {
		if err := exec("the cache key of step "+k.StepID, `INSERT INTO step_keys (run_id, step_id, key,
			source_run, created_at) VALUES (?, ?, ?, ?, ?)`, r.ID, k.StepID, k.Key, k.SourceRun, toNS(now)); err != nil {
			return err
		}
	}
	return importSpans(ctx, tx, b.Spans)
}

// origin is what an imported run's host records: whether the importer
// trusts it to feed the step cache.
func origin(b *backend.RunBundle) string {
	if b.Trusted {
		return backend.OriginTrusted
	}
	return backend.OriginImported
}

// importSpans inserts spans, keeping any already stored.
func importSpans(ctx context.Context, tx *sql.Tx, spans []backend.Span) error {
	var buf []byte
	for i := range spans {
		s := &spans[i]
		var row []any
		row, buf = spanRow(s, buf)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO spans (`+spanColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row...); err != nil {
			return dbError(err, "import span %s", s.SpanID)
		}
	}
	return nil
}
