package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"factorydesk/backend"
)

// NoteFailure records that role failed a gate with signature in a run and
// returns in how many distinct runs it has.
func (d *DB) NoteFailure(ctx context.Context, role, signature, runID, stepID string) (int, error) {
	n := 0
	err := d.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO gate_failures (role, signature, run_id, step_id, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, role, signature, runID, stepID, toNS(d.now())); err != nil {
			return dbError(err, "record a gate failure of role %s", role)
		}
		return dbError(tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM gate_failures WHERE role = ? AND signature = ?`,
			role, signature).Scan(&n), "count the gate failures of role %s", role)
	})
	return n, err
}

// AddLesson records a lesson and sets its ID and CreatedAt. A lesson with
// the role and non-empty signature of a kept one is not added again: it
// returns false and l takes the kept lesson's ID.
func (d *DB) AddLesson(ctx context.Context, l *backend.Lesson) (bool, error) {
	if strings.TrimSpace(l.Text) == "" || l.Role == "" {
		return false, backend.Errorf(backend.EINVALID, "a lesson needs a role and a text")
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = d.now()
	}
	added := false
	err := d.write(ctx, func(tx *sql.Tx) error {
		if l.Signature != "" {
			err := tx.QueryRowContext(ctx, `SELECT id FROM lessons WHERE role = ? AND signature = ?`,
				l.Role, l.Signature).Scan(&l.ID)
			if err == nil {
				return nil
			}
			if err != sql.ErrNoRows {
				return dbError(err, "look up a lesson of role %s", l.Role)
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO lessons (role, kind, signature, text, run_id, step_id,
			created_at, hits) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
			l.Role, l.Kind, l.Signature, l.Text, l.RunID, l.StepID, toNS(l.CreatedAt))
		if err != nil {
			return dbError(err, "add a lesson of role %s", l.Role)
		}
		l.ID, err = res.LastInsertId()
		added = err == nil
		return dbError(err, "add a lesson of role %s", l.Role)
	})
	return added, err
}

// Lessons returns the lessons f selects, newest first.
func (d *DB) Lessons(ctx context.Context, f backend.LessonFilter) ([]backend.Lesson, error) {
	q := `SELECT id, role, kind, signature, text, run_id, step_id, created_at, hits FROM lessons`
	var args []any
	if f.Role != "" {
		q += ` WHERE role = ?`
		args = append(args, f.Role)
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out := []backend.Lesson{}
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return dbError(err, "read lessons")
		}
		defer rows.Close()
		for rows.Next() {
			var l backend.Lesson
			var created int64
			if err := rows.Scan(&l.ID, &l.Role, &l.Kind, &l.Signature, &l.Text, &l.RunID, &l.StepID,
				&created, &l.Hits); err != nil {
				return dbError(err, "read lessons")
			}
			l.CreatedAt = fromNS(created)
			out = append(out, l)
		}
		return dbError(rows.Err(), "read lessons")
	})
	return out, err
}

// DeleteLesson deletes a lesson; ENOTFOUND when there is none with that id.
func (d *DB) DeleteLesson(ctx context.Context, id int64) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM lessons WHERE id = ?`, id)
		if err != nil {
			return dbError(err, "delete lesson %d", id)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENOTFOUND, "lesson %d not found (list them with: factory lessons)", id)
		}
		return nil
	})
}

// UseLessons counts one more use of each lesson.
func (d *DB) UseLessons(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE lessons SET hits = hits + 1 WHERE id = ?`, id); err != nil {
				return dbError(err, "count a use of lesson %d", id)
			}
		}
		return nil
	})
}
