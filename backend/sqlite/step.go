package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"factorydesk/backend"
)

// SaveStep inserts or updates the state of a step of a run, by (run, step).
// A step keeps the position of its first save. ENOTFOUND if the run is absent.
func (d *DB) SaveStep(ctx context.Context, s *backend.StepRun) error {
	if s.StepID == "" {
		return backend.Errorf(backend.EINVALID, "run %s: step id is empty", s.RunID)
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, s.RunID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO steps (run_id, step_id, role, model, status, error,
			attempts, sections, needs, cache_hit, tokens_in, tokens_out, started_at, ended_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, step_id) DO UPDATE SET role = excluded.role, model = excluded.model,
			status = excluded.status, error = excluded.error, attempts = excluded.attempts,
			sections = excluded.sections, needs = excluded.needs, cache_hit = excluded.cache_hit,
			tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out,
			started_at = excluded.started_at, ended_at = excluded.ended_at`,
			s.RunID, s.StepID, s.Role, s.Model, s.Status, s.Error, s.Attempts,
			encodeList(s.Sections), encodeList(s.Needs), s.CacheHit, s.TokensIn, s.TokensOut,
			toNS(s.StartedAt), toNS(s.EndedAt))
		return dbError(err, "save step %s of run %s", s.StepID, s.RunID)
	})
}

// SaveAttempt inserts or updates an attempt, by (run, step, n).
// ENOTFOUND if the run is absent; N starts at 1.
func (d *DB) SaveAttempt(ctx context.Context, a *backend.Attempt) error {
	if a.N < 1 {
		return backend.Errorf(backend.EINVALID, "run %s step %s: attempt number %d, want 1 or more", a.RunID, a.StepID, a.N)
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, a.RunID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO attempts (run_id, step_id, n, status, error,
			feedback, notes, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, step_id, n) DO UPDATE SET status = excluded.status,
			error = excluded.error, feedback = excluded.feedback, notes = excluded.notes,
			started_at = excluded.started_at, ended_at = excluded.ended_at`,
			a.RunID, a.StepID, a.N, a.Status, a.Error, a.Feedback, a.Notes,
			toNS(a.StartedAt), toNS(a.EndedAt))
		return dbError(err, "save attempt %d of step %s of run %s", a.N, a.StepID, a.RunID)
	})
}

// RecordCall records a model call and sets c.ID. Its prompt and answer, when
// not empty, must be stored blobs (EINVALID otherwise).
func (d *DB) RecordCall(ctx context.Context, c *backend.ModelCall) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, c.RunID); err != nil {
			return err
		}
		for _, h := range []struct{ hash, what string }{{c.PromptHash, "prompt"}, {c.AnswerHash, "answer"}} {
			if h.hash == "" {
				continue
			}
			if err := requireBlob(ctx, tx, h.hash, "model call "+h.what); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO model_calls (run_id, step_id, attempt, seq,
			provider, model, options, prompt_hash, answer_hash, tokens_in, tokens_out, duration,
			first_token, done_reason, error, started_at, turn)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.RunID, c.StepID, c.Attempt, c.Seq, c.Provider, c.Model, c.Options,
			nullable(c.PromptHash), nullable(c.AnswerHash), c.TokensIn, c.TokensOut,
			int64(c.Duration), int64(c.FirstToken), c.DoneReason, c.Error, toNS(c.StartedAt), c.Turn)
		if err != nil {
			return dbError(err, "record a model call of run %s", c.RunID)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return dbError(err, "record a model call of run %s", c.RunID)
		}
		c.ID = id
		return nil
	})
}

// RecordArtifact records a file an attempt wrote; its SHA256 must be a stored
// blob. A zero Size becomes the blob's size and a zero CreatedAt the current
// time; a is updated. Recording the same (run, step, attempt, path) again
// replaces the record.
func (d *DB) RecordArtifact(ctx context.Context, a *backend.Artifact) error {
	if a.Path == "" {
		return backend.Errorf(backend.EINVALID, "run %s step %s: artifact path is empty", a.RunID, a.StepID)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = d.now()
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, a.RunID); err != nil {
			return err
		}
		var size int64
		err := tx.QueryRowContext(ctx, `SELECT size FROM blobs WHERE hash = ?`, a.SHA256).Scan(&size)
		if errors.Is(err, sql.ErrNoRows) {
			return backend.Errorf(backend.EINVALID, "artifact %s: content %s is not a stored blob; store it with PutBlob first", a.Path, a.SHA256)
		}
		if err != nil {
			return dbError(err, "look up blob %s", a.SHA256)
		}
		if a.Size == 0 {
			a.Size = size
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO artifacts (run_id, step_id, attempt, path, sha256,
			size, sections, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, step_id, attempt, path) DO UPDATE SET sha256 = excluded.sha256,
			size = excluded.size, sections = excluded.sections, created_at = excluded.created_at`,
			a.RunID, a.StepID, a.Attempt, a.Path, a.SHA256, a.Size, encodeList(a.Sections), toNS(a.CreatedAt))
		return dbError(err, "record artifact %s of run %s", a.Path, a.RunID)
	})
}

// ArtifactsByPath returns every recorded version of the file at path
// (relative to the output folder), across runs, newest first.
func (d *DB) ArtifactsByPath(ctx context.Context, path string) ([]backend.Artifact, error) {
	var arts []backend.Artifact
	err := d.read(ctx, func(tx *sql.Tx) error {
		var err error
		arts, err = loadArtifacts(ctx, tx, `WHERE path = ? ORDER BY created_at DESC, rowid DESC`, path)
		return err
	})
	if err != nil {
		return nil, err
	}
	return arts, nil
}

// loadSteps returns the steps of a run in the order they were first saved.
func loadSteps(ctx context.Context, tx *sql.Tx, runID string) ([]backend.StepRun, error) {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, step_id, role, model, status, error, attempts,
		sections, needs, cache_hit, tokens_in, tokens_out, started_at, ended_at
		FROM steps WHERE run_id = ? ORDER BY rowid`, runID)
	if err != nil {
		return nil, dbError(err, "read the steps of run %s", runID)
	}
	defer rows.Close()
	steps := []backend.StepRun{}
	for rows.Next() {
		var s backend.StepRun
		var sections, needs string
		var started, ended int64
		if err := rows.Scan(&s.RunID, &s.StepID, &s.Role, &s.Model, &s.Status, &s.Error, &s.Attempts,
			&sections, &needs, &s.CacheHit, &s.TokensIn, &s.TokensOut, &started, &ended); err != nil {
			return nil, dbError(err, "read the steps of run %s", runID)
		}
		if s.Sections, err = decodeList(sections); err != nil {
			return nil, err
		}
		if s.Needs, err = decodeList(needs); err != nil {
			return nil, err
		}
		s.StartedAt, s.EndedAt = fromNS(started), fromNS(ended)
		steps = append(steps, s)
	}
	return steps, dbError(rows.Err(), "read the steps of run %s", runID)
}

// loadAttempts returns the attempts of a run, grouped by step in step order.
func loadAttempts(ctx context.Context, tx *sql.Tx, runID string) ([]backend.Attempt, error) {
	rows, err := tx.QueryContext(ctx, `SELECT a.run_id, a.step_id, a.n, a.status, a.error, a.feedback,
		a.notes, a.started_at, a.ended_at FROM attempts a
		LEFT JOIN steps s ON s.run_id = a.run_id AND s.step_id = a.step_id
		WHERE a.run_id = ? ORDER BY s.rowid IS NULL, s.rowid, a.step_id, a.n`, runID)
	if err != nil {
		return nil, dbError(err, "read the attempts of run %s", runID)
	}
	defer rows.Close()
	atts := []backend.Attempt{}
	for rows.Next() {
		var a backend.Attempt
		var started, ended int64
		if err := rows.Scan(&a.RunID, &a.StepID, &a.N, &a.Status, &a.Error, &a.Feedback, &a.Notes,
			&started, &ended); err != nil {
			return nil, dbError(err, "read the attempts of run %s", runID)
		}
		a.StartedAt, a.EndedAt = fromNS(started), fromNS(ended)
		atts = append(atts, a)
	}
	return atts, dbError(rows.Err(), "read the attempts of run %s", runID)
}

// loadCalls returns the model calls of a run in the order they were recorded.
func loadCalls(ctx context.Context, tx *sql.Tx, runID string) ([]backend.ModelCall, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, run_id, step_id, attempt, seq, provider, model,
		options, COALESCE(prompt_hash, ''), COALESCE(answer_hash, ''), tokens_in, tokens_out,
		duration, first_token, done_reason, error, started_at, turn
		FROM model_calls WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, dbError(err, "read the model calls of run %s", runID)
	}
	defer rows.Close()
	calls := []backend.ModelCall{}
	for rows.Next() {
		var c backend.ModelCall
		var dur, first, started int64
		if err := rows.Scan(&c.ID, &c.RunID, &c.StepID, &c.Attempt, &c.Seq, &c.Provider, &c.Model,
			&c.Options, &c.PromptHash, &c.AnswerHash, &c.TokensIn, &c.TokensOut, &dur, &first,
			&c.DoneReason, &c.Error, &started, &c.Turn); err != nil {
			return nil, dbError(err, "read the model calls of run %s", runID)
		}
		c.Duration, c.FirstToken, c.StartedAt = time.Duration(dur), time.Duration(first), fromNS(started)
		calls = append(calls, c)
	}
	return calls, dbError(rows.Err(), "read the model calls of run %s", runID)
}

// loadArtifacts returns the artifacts that where (a WHERE and ORDER BY clause
// with one parameter) selects.
func loadArtifacts(ctx context.Context, tx *sql.Tx, where string, arg any) ([]backend.Artifact, error) {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, step_id, attempt, path, sha256, size, sections,
		created_at FROM artifacts `+where, arg)
	if err != nil {
		return nil, dbError(err, "read artifacts")
	}
	defer rows.Close()
	arts := []backend.Artifact{}
	for rows.Next() {
		var a backend.Artifact
		var sections string
		var created int64
		if err := rows.Scan(&a.RunID, &a.StepID, &a.Attempt, &a.Path, &a.SHA256, &a.Size,
			&sections, &created); err != nil {
			return nil, dbError(err, "read artifacts")
		}
		if a.Sections, err = decodeList(sections); err != nil {
			return nil, err
		}
		a.CreatedAt = fromNS(created)
		arts = append(arts, a)
	}
	return arts, dbError(rows.Err(), "read artifacts")
}

// encodeList stores a list of strings as a JSON array; nil is "[]".
func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// decodeList reads a list stored by encodeList; an empty list is nil.
func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "corrupt list %q in the database", s)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// nullable stores "" as NULL, for optional references.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
