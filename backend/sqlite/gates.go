package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"time"

	"factorydesk/backend"
)

// RecordGate records one gate's outcome; a record of the same run, step,
// attempt and seq is replaced. ENOTFOUND if the run is absent.
func (d *DB) RecordGate(ctx context.Context, g *backend.GateRecord) error {
	if g.CreatedAt.IsZero() {
		g.CreatedAt = d.now()
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, g.RunID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO gate_results (run_id, step_id, attempt,
			seq, name, passed, exit_code, output, duration, timed_out, sandboxed, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.RunID, g.StepID, g.Attempt, g.Seq, g.Name, g.Passed, g.ExitCode, g.Output,
			int64(g.Duration), g.TimedOut, g.Sandboxed, toNS(g.CreatedAt))
		return dbError(err, "record gate %q of run %s", g.Name, g.RunID)
	})
}

// loadGates returns a run's gate results in the order they ran.
func loadGates(ctx context.Context, tx *sql.Tx, runID string) ([]backend.GateRecord, error) {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, step_id, attempt, seq, name, passed, exit_code,
		output, duration, timed_out, sandboxed, created_at FROM gate_results WHERE run_id = ?
		ORDER BY created_at, rowid`, runID)
	if err != nil {
		return nil, dbError(err, "read the gate results of run %s", runID)
	}
	defer rows.Close()
	gates := []backend.GateRecord{}
	for rows.Next() {
		var g backend.GateRecord
		var dur, created int64
		if err := rows.Scan(&g.RunID, &g.StepID, &g.Attempt, &g.Seq, &g.Name, &g.Passed, &g.ExitCode,
			&g.Output, &dur, &g.TimedOut, &g.Sandboxed, &created); err != nil {
			return nil, dbError(err, "read the gate results of run %s", runID)
		}
		g.Duration, g.CreatedAt = time.Duration(dur), fromNS(created)
		gates = append(gates, g)
	}
	return gates, dbError(rows.Err(), "read the gate results of run %s", runID)
}

// RequestReview records a pending review of a step attempt.
// ENOTFOUND if the run is absent.
func (d *DB) RequestReview(ctx context.Context, r *backend.Review) error {
	if r.RequestedAt.IsZero() {
		r.RequestedAt = d.now()
	}
	r.Status, r.Comment, r.DecidedAt = backend.ReviewPending, "", time.Time{}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, r.RunID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO reviews (run_id, step_id, attempt, status, comment,
			requested_at, decided_at) VALUES (?, ?, ?, ?, '', ?, 0)
			ON CONFLICT (run_id, step_id, attempt) DO NOTHING`,
			r.RunID, r.StepID, r.Attempt, r.Status, toNS(r.RequestedAt))
		return dbError(err, "request a review of step %s of run %s", r.StepID, r.RunID)
	})
}

// DecideReview approves or rejects the latest review of a step, which must
// be pending (ECONFLICT otherwise, ENOTFOUND when the run has no review of
// that step). runID may be a unique prefix.
func (d *DB) DecideReview(ctx context.Context, runID, stepID string, approve bool, comment string) (*backend.Review, error) {
	var out *backend.Review
	err := d.write(ctx, func(tx *sql.Tx) error {
		full, err := resolveRunID(ctx, tx, runID)
		if err != nil {
			return err
		}
		r, err := latestReview(ctx, tx, full, stepID)
		if err != nil {
			return err
		}
		if r.Status != backend.ReviewPending {
			return backend.Errorf(backend.ECONFLICT, "step %s of run %s was already %s", stepID, full, r.Status)
		}
		r.Status, r.Comment, r.DecidedAt = backend.ReviewRejected, comment, d.now()
		if approve {
			r.Status = backend.ReviewApproved
		}
		_, err = tx.ExecContext(ctx, `UPDATE reviews SET status = ?, comment = ?, decided_at = ?
			WHERE run_id = ? AND step_id = ? AND attempt = ?`,
			r.Status, r.Comment, toNS(r.DecidedAt), r.RunID, r.StepID, r.Attempt)
		out = r
		return dbError(err, "decide the review of step %s of run %s", stepID, full)
	})
	return out, err
}

// Review returns the latest review of a step; runID may be a unique prefix.
func (d *DB) Review(ctx context.Context, runID, stepID string) (*backend.Review, error) {
	var out *backend.Review
	err := d.read(ctx, func(tx *sql.Tx) error {
		full, err := resolveRunID(ctx, tx, runID)
		if err != nil {
			return err
		}
		out, err = latestReview(ctx, tx, full, stepID)
		return err
	})
	return out, err
}

const reviewColumns = `run_id, step_id, attempt, status, comment, requested_at, decided_at`

func scanReview(s scanner) (*backend.Review, error) {
	var r backend.Review
	var req, dec int64
	if err := s.Scan(&r.RunID, &r.StepID, &r.Attempt, &r.Status, &r.Comment, &req, &dec); err != nil {
		return nil, err
	}
	r.RequestedAt, r.DecidedAt = fromNS(req), fromNS(dec)
	return &r, nil
}

// latestReview returns the review of a step's latest reviewed attempt.
func latestReview(ctx context.Context, tx *sql.Tx, runID, stepID string) (*backend.Review, error) {
	r, err := scanReview(tx.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM reviews
		WHERE run_id = ? AND step_id = ? ORDER BY attempt DESC LIMIT 1`, runID, stepID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENOTFOUND, "step %s of run %s has no review (is it waiting for one? see factory show %s)", stepID, runID, runID)
	}
	return r, dbError(err, "read the review of step %s of run %s", stepID, runID)
}

// loadReviews returns a run's reviews, oldest first.
func loadReviews(ctx context.Context, tx *sql.Tx, runID string) ([]backend.Review, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE run_id = ?
		ORDER BY requested_at, rowid`, runID)
	if err != nil {
		return nil, dbError(err, "read the reviews of run %s", runID)
	}
	defer rows.Close()
	out := []backend.Review{}
	for rows.Next() {
		r, err := scanReview(rows)
		if err != nil {
			return nil, dbError(err, "read the reviews of run %s", runID)
		}
		out = append(out, *r)
	}
	return out, dbError(rows.Err(), "read the reviews of run %s", runID)
}

// ClaimRun makes this process the owner of a run to resume: the run must be
// interrupted, awaiting review, failed or canceled, made in this workspace
// (an imported run is a record, never continued), and not held by a live
// process (other than this one) on this host. The run becomes running with
// this process's pid; the detail returned has everything recorded so far.
func (d *DB) ClaimRun(ctx context.Context, id string) (*backend.RunDetail, error) {
	var full string
	err := d.write(ctx, func(tx *sql.Tx) error {
		var err error
		if full, err = resolveRunID(ctx, tx, id); err != nil {
			return err
		}
		var status, host string
		var pid int
		if err := tx.QueryRowContext(ctx, `SELECT status, pid, host FROM runs WHERE id = ?`, full).
			Scan(&status, &pid, &host); err != nil {
			return dbError(err, "read run %s", full)
		}
		if host == backend.OriginImported || host == backend.OriginTrusted {
			return backend.Errorf(backend.ECONFLICT, "run %s was imported from a bundle and is kept as recorded: replay it (factory replay %s) or run it again from a step (factory rerun %s --from STEP)",
				full, full, full)
		}
		switch status {
		case backend.StatusInterrupted, backend.StatusAwaitingReview, backend.StatusFailed, backend.StatusCanceled:
		case backend.StatusSucceeded:
			return backend.Errorf(backend.ECONFLICT, "run %s already succeeded: nothing to resume", full)
		default:
			return backend.Errorf(backend.ECONFLICT, "run %s is %s in process %d on %s; wait for it or stop it first", full, status, pid, host)
		}
		if self := os.Getpid(); host == d.host && pid > 0 && pid != self && processAlive(pid) {
			return backend.Errorf(backend.ECONFLICT, "run %s is held by process %d, which is still running (a factory run waiting for a review?); stop it or decide the review there", full, pid)
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET status = ?, pid = ?, host = ?, cancel_requested = 0 WHERE id = ?`,
			backend.StatusRunning, os.Getpid(), d.host, full)
		return dbError(err, "claim run %s", full)
	})
	if err != nil {
		return nil, err
	}
	rd, err := d.Run(ctx, full)
	if err != nil {
		return nil, err
	}
	return rd, nil
}
