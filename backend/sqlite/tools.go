package sqlite

import (
	"context"
	"database/sql"
	"time"

	"factorydesk/backend"
)

// toolColumns are the columns of tool_calls, in the order toolRow gives them.
const toolColumns = `run_id, step_id, attempt, seq, turn, call_id, name, args_hash, result_hash, status,
	duration, started_at`

// toolRow is a tool call's values in toolColumns order.
func toolRow(u *backend.ToolUse) []any {
	return []any{u.RunID, u.StepID, u.Attempt, u.Seq, u.Turn, u.CallID, u.Name, u.ArgsHash, u.ResultHash,
		u.Status, int64(u.Duration), toNS(u.StartedAt)}
}

// RecordToolUse records a tool call of an attempt. Its arguments and result
// must be stored blobs (EINVALID otherwise); recording the same (run, step,
// attempt, seq) again replaces the record.
func (d *DB) RecordToolUse(ctx context.Context, u *backend.ToolUse) error {
	if u.Seq < 1 || u.Name == "" {
		return backend.Errorf(backend.EINVALID, "run %s step %s: a tool call needs a name and a seq of 1 or more", u.RunID, u.StepID)
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, u.RunID); err != nil {
			return err
		}
		for _, h := range []struct{ hash, what string }{{u.ArgsHash, "arguments"}, {u.ResultHash, "result"}} {
			if err := requireBlob(ctx, tx, h.hash, "tool call "+h.what); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO tool_calls (`+toolColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, toolRow(u)...)
		return dbError(err, "record a tool call of run %s", u.RunID)
	})
}

// loadTools returns the tool calls of a run by step, attempt and order.
func loadTools(ctx context.Context, tx *sql.Tx, runID string) ([]backend.ToolUse, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+toolColumns+` FROM tool_calls WHERE run_id = ?
		ORDER BY started_at, step_id, attempt, seq`, runID)
	if err != nil {
		return nil, dbError(err, "read the tool calls of run %s", runID)
	}
	defer rows.Close()
	uses := []backend.ToolUse{}
	for rows.Next() {
		var u backend.ToolUse
		var dur, started int64
		if err := rows.Scan(&u.RunID, &u.StepID, &u.Attempt, &u.Seq, &u.Turn, &u.CallID, &u.Name,
			&u.ArgsHash, &u.ResultHash, &u.Status, &dur, &started); err != nil {
			return nil, dbError(err, "read the tool calls of run %s", runID)
		}
		u.Duration, u.StartedAt = time.Duration(dur), fromNS(started)
		uses = append(uses, u)
	}
	return uses, dbError(rows.Err(), "read the tool calls of run %s", runID)
}
