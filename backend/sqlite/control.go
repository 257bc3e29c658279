package sqlite

import (
	"context"
	"database/sql"

	"factorydesk/backend"
)

// RequestCancel asks the process running a run (id or unique prefix) to
// cancel it and returns the run; a run no live process holds (interrupted,
// or waiting for a review its process stopped waiting for) is marked
// canceled at once. ECONFLICT when the run has ended.
func (d *DB) RequestCancel(ctx context.Context, id string) (*backend.Run, error) {
	var out *backend.Run
	err := d.write(ctx, func(tx *sql.Tx) error {
		full, err := resolveRunID(ctx, tx, id)
		if err != nil {
			return err
		}
		r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runSelect+` FROM runs WHERE id = ?`, full))
		if err != nil {
			return dbError(err, "read run %s", full)
		}
		if backend.Terminal(r.Status) {
			return backend.Errorf(backend.ECONFLICT, "run %s already %s: nothing to cancel", full, r.Status)
		}
		var host string
		if err := tx.QueryRowContext(ctx, `SELECT host FROM runs WHERE id = ?`, full).Scan(&host); err != nil {
			return dbError(err, "read run %s", full)
		}
		out = r
		if host == d.host && (r.PID <= 0 || !processAlive(r.PID)) {
			// No process runs it (interrupted, or left waiting for a
			// review): it is canceled here and now.
			r.Status, r.Error, r.EndedAt = backend.StatusCanceled, "canceled", d.now()
			_, err = tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?`,
				r.Status, r.Error, toNS(r.EndedAt), full)
			return dbError(err, "cancel run %s", full)
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET cancel_requested = 1 WHERE id = ?`, full)
		return dbError(err, "request the cancel of run %s", full)
	})
	return out, err
}

// CancelRequested reports whether a cancel of the run (its full id) was
// requested since it last started or resumed.
func (d *DB) CancelRequested(ctx context.Context, id string) (bool, error) {
	var req bool
	err := d.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT cancel_requested FROM runs WHERE id = ?`, id).Scan(&req)
		if err == sql.ErrNoRows {
			return backend.Errorf(backend.ENOTFOUND, "no run %s", id)
		}
		return dbError(err, "read run %s", id)
	})
	return req, err
}
