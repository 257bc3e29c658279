package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"factorydesk/backend"
)

var _ backend.ReuseStore = (*DB)(nil)

// SaveRunRoles records the roles a run used, as role name -> blob hash of
// the role file; each hash must be a stored blob. Saving again is harmless.
func (d *DB) SaveRunRoles(ctx context.Context, runID string, roles map[string]string) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, runID); err != nil {
			return err
		}
		for name, hash := range roles {
			if err := requireBlob(ctx, tx, hash, "role "+name); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO run_roles (run_id, role, hash) VALUES (?, ?, ?)
				ON CONFLICT (run_id, role) DO UPDATE SET hash = excluded.hash`, runID, name, hash); err != nil {
				return dbError(err, "record role %s of run %s", name, runID)
			}
		}
		return nil
	})
}

// RunRoles returns the roles a run used, as role name -> blob hash.
func (d *DB) RunRoles(ctx context.Context, runID string) (map[string]string, error) {
	roles := map[string]string{}
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT role, hash FROM run_roles WHERE run_id = ?`, runID)
		if err != nil {
			return dbError(err, "read the roles of run %s", runID)
		}
		defer rows.Close()
		for rows.Next() {
			var name, hash string
			if err := rows.Scan(&name, &hash); err != nil {
				return dbError(err, "read the roles of run %s", runID)
			}
			roles[name] = hash
		}
		return dbError(rows.Err(), "read the roles of run %s", runID)
	})
	if err != nil {
		return nil, err
	}
	return roles, nil
}

// SaveStepKey records a step's cache key and the run whose outputs it
// reused, replacing an earlier record of the same step.
func (d *DB) SaveStepKey(ctx context.Context, k *backend.StepKey) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, k.RunID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO step_keys (run_id, step_id, key, source_run, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, step_id) DO UPDATE SET key = excluded.key,
			source_run = excluded.source_run, created_at = excluded.created_at`,
			k.RunID, k.StepID, k.Key, k.SourceRun, toNS(d.now()))
		return dbError(err, "record the cache key of step %s of run %s", k.StepID, k.RunID)
	})
}

// StepKeys returns the keys recorded for a run's steps, by step id.
func (d *DB) StepKeys(ctx context.Context, runID string) (map[string]backend.StepKey, error) {
	keys := map[string]backend.StepKey{}
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT step_id, key, source_run FROM step_keys WHERE run_id = ?`, runID)
		if err != nil {
			return dbError(err, "read the step keys of run %s", runID)
		}
		defer rows.Close()
		for rows.Next() {
			k := backend.StepKey{RunID: runID}
			if err := rows.Scan(&k.StepID, &k.Key, &k.SourceRun); err != nil {
				return dbError(err, "read the step keys of run %s", runID)
			}
			keys[k.StepID] = k
		}
		return dbError(rows.Err(), "read the step keys of run %s", runID)
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// CachedStep returns the newest run, other than exceptRun, whose step with
// this key succeeded; "" when there is none. Replays are not a source: their
// answers are borrowed; nor are runs imported without trust (a bundle's
// files and dates are whatever its author wrote), nor a step whose outputs
// came, through reuses (a fork's), from such a run.
func (d *DB) CachedStep(ctx context.Context, key, exceptRun string) (runID, stepID string, err error) {
	err = d.read(ctx, func(tx *sql.Tx) error {
		runID, stepID, err = cachedStep(ctx, tx, key, exceptRun)
		return err
	})
	return runID, stepID, err
}

// CachedOutputs is CachedStep and StepOutputs of what it finds, read in one
// transaction; runID "" when there is none.
func (d *DB) CachedOutputs(ctx context.Context, key, exceptRun string) (runID string, arts []backend.Artifact, err error) {
	err = d.read(ctx, func(tx *sql.Tx) error {
		var stepID string
		if runID, stepID, err = cachedStep(ctx, tx, key, exceptRun); err != nil || runID == "" {
			return err
		}
		arts, err = stepOutputs(ctx, tx, runID, stepID)
		return err
	})
	return runID, arts, err
}

// maxReuseChain bounds how far cachedStep follows the runs a step's
// outputs were reused from.
const maxReuseChain = 64

// cachedStep is CachedStep in tx. Each candidate's outputs are traced back
// through the runs they were reused from (source_run); one that reaches a
// run imported without trust is passed over.
func cachedStep(ctx context.Context, tx *sql.Tx, key, exceptRun string) (runID, stepID string, err error) {
	err = tx.QueryRowContext(ctx, `WITH RECURSIVE
		cand (run_id, step_id, created_at) AS (
			SELECT k.run_id, k.step_id, k.created_at FROM step_keys k
			JOIN steps s ON s.run_id = k.run_id AND s.step_id = k.step_id
			JOIN runs r ON r.id = k.run_id
			WHERE k.key = ?1 AND k.run_id != ?2 AND s.status = ?3 AND r.kind != ?4),
		chain (root, step_id, run_id, depth) AS (
			SELECT run_id, step_id, run_id, 0 FROM cand
			UNION
			SELECT c.root, c.step_id, k.source_run, c.depth + 1 FROM chain c
			JOIN step_keys k ON k.run_id = c.run_id AND k.step_id = c.step_id
			WHERE k.source_run != '' AND c.depth < ?6)
		SELECT run_id, step_id FROM cand WHERE NOT EXISTS (
			SELECT 1 FROM chain c JOIN runs r ON r.id = c.run_id
			WHERE c.root = cand.run_id AND c.step_id = cand.step_id AND r.host = ?5)
		ORDER BY created_at DESC LIMIT 1`,
		key, exceptRun, backend.StatusSucceeded, backend.KindReplay, backend.OriginImported, maxReuseChain).Scan(&runID, &stepID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return runID, stepID, dbError(err, "look up cache key %s", key)
}

// RecordReuse records, in one transaction, the artifacts a step took from
// another run (their blobs must be stored) and its key.
func (d *DB) RecordReuse(ctx context.Context, k *backend.StepKey, arts []backend.Artifact) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, k.RunID); err != nil {
			return err
		}
		for i := range arts {
			a := &arts[i]
			if a.CreatedAt.IsZero() {
				a.CreatedAt = d.now()
			}
			if err := requireBlob(ctx, tx, a.SHA256, "artifact "+a.Path); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts (run_id, step_id, attempt, path, sha256,
				size, sections, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (run_id, step_id, attempt, path) DO UPDATE SET sha256 = excluded.sha256,
				size = excluded.size, sections = excluded.sections, created_at = excluded.created_at`,
				a.RunID, a.StepID, a.Attempt, a.Path, a.SHA256, a.Size, encodeList(a.Sections), toNS(a.CreatedAt)); err != nil {
				return dbError(err, "record artifact %s of run %s", a.Path, a.RunID)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO step_keys (run_id, step_id, key, source_run, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, step_id) DO UPDATE SET key = excluded.key,
			source_run = excluded.source_run, created_at = excluded.created_at`,
			k.RunID, k.StepID, k.Key, k.SourceRun, toNS(d.now()))
		return dbError(err, "record the cache key of step %s of run %s", k.StepID, k.RunID)
	})
}

// StepOutputs returns the files a step of a run left: for each path its
// artifact of the latest attempt that wrote it, by path.
func (d *DB) StepOutputs(ctx context.Context, runID, stepID string) ([]backend.Artifact, error) {
	var arts []backend.Artifact
	err := d.read(ctx, func(tx *sql.Tx) error {
		var err error
		arts, err = stepOutputs(ctx, tx, runID, stepID)
		return err
	})
	return arts, err
}

func stepOutputs(ctx context.Context, tx *sql.Tx, runID, stepID string) ([]backend.Artifact, error) {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, step_id, attempt, path, sha256, size, sections,
		created_at FROM artifacts WHERE run_id = ? AND step_id = ? ORDER BY path, attempt DESC`, runID, stepID)
	if err != nil {
		return nil, dbError(err, "read the outputs of step %s of run %s", stepID, runID)
	}
	defer rows.Close()
	var arts []backend.Artifact
	for rows.Next() {
		var a backend.Artifact
		var sections string
		var created int64
		if err := rows.Scan(&a.RunID, &a.StepID, &a.Attempt, &a.Path, &a.SHA256, &a.Size,
			&sections, &created); err != nil {
			return nil, dbError(err, "read the outputs of step %s of run %s", stepID, runID)
		}
		if len(arts) > 0 && arts[len(arts)-1].Path == a.Path {
			continue // an earlier attempt's version
		}
		if a.Sections, err = decodeList(sections); err != nil {
			return nil, err
		}
		a.CreatedAt = fromNS(created)
		arts = append(arts, a)
	}
	return arts, dbError(rows.Err(), "read the outputs of step %s of run %s", stepID, runID)
}

// ArtifactsAt returns every recorded version of the file at a workspace
// path (slash-separated, relative to the workspace root: the run's output
// folder joined with the artifact's path), newest first. Replays, which
// write to a scratch folder, never match a path outside it.
func (d *DB) ArtifactsAt(ctx context.Context, wsPath string) ([]backend.Artifact, error) {
	var arts []backend.Artifact
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT a.run_id, a.step_id, a.attempt, a.path, a.sha256, a.size,
			a.sections, a.created_at FROM artifacts a JOIN runs r ON r.id = a.run_id
			WHERE (CASE WHEN rtrim(r.output, '/') IN ('', '.') THEN a.path
				ELSE rtrim(r.output, '/') || '/' || a.path END) = ?
			ORDER BY a.created_at DESC, a.rowid DESC`, wsPath)
		if err != nil {
			return dbError(err, "look up the artifacts at %s", wsPath)
		}
		defer rows.Close()
		for rows.Next() {
			var a backend.Artifact
			var sections string
			var created int64
			if err := rows.Scan(&a.RunID, &a.StepID, &a.Attempt, &a.Path, &a.SHA256, &a.Size,
				&sections, &created); err != nil {
				return dbError(err, "look up the artifacts at %s", wsPath)
			}
			if a.Sections, err = decodeList(sections); err != nil {
				return err
			}
			a.CreatedAt = fromNS(created)
			arts = append(arts, a)
		}
		return dbError(rows.Err(), "look up the artifacts at %s", wsPath)
	})
	return arts, err
}
