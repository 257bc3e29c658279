package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"factorydesk/backend"
)

// MarkInterrupted marks interrupted every pending or running run of this host
// whose process is gone, with its running steps and attempts, and returns how
// many runs it marked. Runs of other hosts, whose processes cannot be checked,
// and runs awaiting review, which wait for an operator, are left alone.
func (d *DB) MarkInterrupted(ctx context.Context) (int, error) {
	n := 0
	err := d.write(ctx, func(tx *sql.Tx) error {
		gone, err := orphanRuns(ctx, tx, d.host)
		if err != nil {
			return err
		}
		for id, pid := range gone {
			msg := fmt.Sprintf("process %d ended before the run finished", pid)
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?,
				error = CASE WHEN error = '' THEN ? ELSE error END WHERE id = ?`,
				backend.StatusInterrupted, msg, id); err != nil {
				return dbError(err, "mark run %s interrupted", id)
			}
			for _, table := range []string{"steps", "attempts"} {
				if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET status = ?
					WHERE run_id = ? AND status IN (?, ?)`, backend.StatusInterrupted, id,
					backend.StatusRunning, backend.StatusPending); err != nil {
					return dbError(err, "mark the %s of run %s interrupted", table, id)
				}
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// orphanRuns returns the pending or running runs of host whose process is
// not alive, as id to pid.
func orphanRuns(ctx context.Context, tx *sql.Tx, host string) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, pid FROM runs WHERE status IN (?, ?) AND host = ?`,
		backend.StatusRunning, backend.StatusPending, host)
	if err != nil {
		return nil, dbError(err, "list active runs")
	}
	defer rows.Close()
	gone := map[string]int{}
	for rows.Next() {
		var id string
		var pid int
		if err := rows.Scan(&id, &pid); err != nil {
			return nil, dbError(err, "list active runs")
		}
		if pid <= 0 || !processAlive(pid) {
			gone[id] = pid
		}
	}
	return gone, dbError(rows.Err(), "list active runs")
}
