package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"

	"factorydesk/backend"
)

// runColumns are the columns of a run a new record sets; runSelect those
// scanRun reads, in order.
const (
	runColumns = `id, blueprint_id, blueprint_version, blueprint_path, model, output, status,
	error, parallel, tokens_in, tokens_out, calls, started_at, ended_at, parent_id, kind, pid`
	runSelect = runColumns + `, host`
)

// CreateRun records a new run. An empty Status becomes pending, a zero
// StartedAt the current time, a zero PID the calling process; r is updated.
// A run with the same id is ECONFLICT.
func (d *DB) CreateRun(ctx context.Context, r *backend.Run) error {
	if r.ID == "" {
		return backend.Errorf(backend.EINVALID, "run id is empty")
	}
	if r.Status == "" {
		r.Status = backend.StatusPending
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = d.now()
	}
	if r.PID == 0 {
		r.PID = os.Getpid()
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO runs (`+runColumns+`, host)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.BlueprintID, r.BlueprintVersion, r.BlueprintPath, r.Model, r.Output, r.Status,
			r.Error, r.Parallel, r.TokensIn, r.TokensOut, r.Calls, toNS(r.StartedAt), toNS(r.EndedAt),
			r.ParentID, r.Kind, r.PID, d.host)
		if isUnique(err) {
			return backend.Errorf(backend.ECONFLICT, "run %q already exists", r.ID)
		}
		return dbError(err, "create run %s", r.ID)
	})
}

// UpdateRun saves the state of a run: model, output, status, error,
// parallel, tokens, calls and times. Its blueprint, parent and kind are fixed
// at creation. A non-zero PID claims the run for that process on this host
// (a resumed run); zero keeps the recorded one. ENOTFOUND if the run is absent.
func (d *DB) UpdateRun(ctx context.Context, r *backend.Run) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET model = ?1, output = ?2, status = ?3,
			error = ?4, parallel = ?5, tokens_in = ?6, tokens_out = ?7, calls = ?8,
			started_at = ?9, ended_at = ?10,
			pid = CASE WHEN ?11 = 0 THEN pid ELSE ?11 END,
			host = CASE WHEN ?11 = 0 THEN host ELSE ?12 END
			WHERE id = ?13`,
			r.Model, r.Output, r.Status, r.Error, r.Parallel, r.TokensIn, r.TokensOut, r.Calls,
			toNS(r.StartedAt), toNS(r.EndedAt), r.PID, d.host, r.ID)
		if err != nil {
			return dbError(err, "update run %s", r.ID)
		}
		return requireAffected(res, r.ID)
	})
}

// DeleteRun deletes a run, given by its full id, with its steps, attempts,
// calls and artifacts. Blobs stay: other runs may share them.
func (d *DB) DeleteRun(ctx context.Context, id string) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
		if err != nil {
			return dbError(err, "delete run %s", id)
		}
		return requireAffected(res, id)
	})
}

// Runs returns the runs f selects, newest first.
func (d *DB) Runs(ctx context.Context, f backend.RunFilter) ([]backend.Run, error) {
	if f.Limit < 0 {
		return nil, backend.Errorf(backend.EINVALID, "run limit %d is negative", f.Limit)
	}
	q := `SELECT ` + runSelect + ` FROM runs WHERE 1 = 1`
	var args []any
	if f.BlueprintID != "" {
		q += ` AND blueprint_id = ?`
		args = append(args, f.BlueprintID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	q += ` ORDER BY started_at DESC, rowid DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	runs := []backend.Run{}
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return dbError(err, "list runs")
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, *r)
		}
		return dbError(rows.Err(), "list runs")
	})
	if err != nil {
		return nil, err
	}
	return runs, nil
}

// Run returns a run, given by its id or a unique prefix of it, with its steps
// in the order they were first saved, its attempts by step, its calls and
// its artifacts.
func (d *DB) Run(ctx context.Context, id string) (*backend.RunDetail, error) {
	var rd *backend.RunDetail
	err := d.read(ctx, func(tx *sql.Tx) error {
		full, err := resolveRunID(ctx, tx, id)
		if err != nil {
			return err
		}
		r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runSelect+` FROM runs WHERE id = ?`, full))
		if err != nil {
			return err
		}
		rd = &backend.RunDetail{Run: *r}
		if rd.Steps, err = loadSteps(ctx, tx, full); err != nil {
			return err
		}
		if rd.Attempts, err = loadAttempts(ctx, tx, full); err != nil {
			return err
		}
		if rd.Calls, err = loadCalls(ctx, tx, full); err != nil {
			return err
		}
		if rd.Tools, err = loadTools(ctx, tx, full); err != nil {
			return err
		}
		if rd.Artifacts, err = loadArtifacts(ctx, tx, `WHERE run_id = ? ORDER BY rowid`, full); err != nil {
			return err
		}
		if rd.Gates, err = loadGates(ctx, tx, full); err != nil {
			return err
		}
		rd.Reviews, err = loadReviews(ctx, tx, full)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// maxCandidates bounds the ids an ambiguous prefix error lists.
const maxCandidates = 8

// resolveRunID returns the full id of the run whose id is id or starts with it.
func resolveRunID(ctx context.Context, tx *sql.Tx, id string) (string, error) {
	if id == "" {
		return "", backend.Errorf(backend.EINVALID, "run id is empty")
	}
	// "\xff" sorts after every byte of a UTF-8 id, so this range is the prefix.
	rows, err := tx.QueryContext(ctx, `SELECT id FROM runs WHERE id >= ?1 AND id < ?2
		ORDER BY id = ?1 DESC, started_at DESC LIMIT ?3`, id, id+"\xff", maxCandidates+1)
	if err != nil {
		return "", dbError(err, "look up run %q", id)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", dbError(err, "look up run %q", id)
		}
		ids = append(ids, s)
	}
	if err := rows.Err(); err != nil {
		return "", dbError(err, "look up run %q", id)
	}
	switch {
	case len(ids) == 0:
		return "", backend.Errorf(backend.ENOTFOUND, "run %q not found", id)
	case ids[0] == id || len(ids) == 1:
		return ids[0], nil
	}
	list := strings.Join(ids[:min(len(ids), maxCandidates)], ", ")
	if len(ids) > maxCandidates {
		list += ", …"
	}
	return "", backend.Errorf(backend.EINVALID,
		"run id prefix %q is ambiguous, it matches %s; give more characters", id, list)
}

// requireRun returns ENOTFOUND unless the run exists, inside tx.
func requireRun(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE id = ?`, id).Scan(&n); err != nil {
		return dbError(err, "look up run %s", id)
	}
	if n == 0 {
		return backend.Errorf(backend.ENOTFOUND, "run %q not found", id)
	}
	return nil
}

// requireAffected returns ENOTFOUND when a statement on run id touched no row.
func requireAffected(res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return dbError(err, "run %s", id)
	}
	if n == 0 {
		return backend.Errorf(backend.ENOTFOUND, "run %q not found", id)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanRun reads the runSelect columns of one row. The host of an imported
// run is its origin.
func scanRun(s scanner) (*backend.Run, error) {
	var r backend.Run
	var started, ended int64
	var host string
	err := s.Scan(&r.ID, &r.BlueprintID, &r.BlueprintVersion, &r.BlueprintPath, &r.Model, &r.Output,
		&r.Status, &r.Error, &r.Parallel, &r.TokensIn, &r.TokensOut, &r.Calls, &started, &ended,
		&r.ParentID, &r.Kind, &r.PID, &host)
	if host == backend.OriginImported || host == backend.OriginTrusted {
		r.Origin = host
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENOTFOUND, "run not found")
	}
	if err != nil {
		return nil, dbError(err, "read run")
	}
	r.StartedAt, r.EndedAt = fromNS(started), fromNS(ended)
	return &r, nil
}
