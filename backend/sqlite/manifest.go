package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// Compile-time checks: the DB keeps the manifest of generated files and
// gives the agent the last generated content of a path.
var (
	_ workspace.DriftStore = (*DB)(nil)
	_ backend.Generated    = (*DB)(nil)
)

// How a drift record was resolved (the workspace's names, kept in the
// drift table).
const (
	DriftAccepted    = workspace.DriftAccepted
	DriftReverted    = workspace.DriftReverted
	DriftRegenerated = workspace.DriftRegenerated
	DriftCleared     = workspace.DriftCleared
)

// RecordBase records e as the base of e.Path: the content the factory last
// wrote there. Its SHA256 must be a stored blob. A zero UpdatedAt becomes
// the current time. An open drift of the path is resolved as regenerated:
// the new base replaces what it was compared with.
func (d *DB) RecordBase(ctx context.Context, e workspace.ManifestEntry) error {
	if err := checkManifestPath(e.Path); err != nil {
		return err
	}
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = d.now()
	}
	parents, err := json.Marshal(nonNilStrings(e.Parents))
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "encode the parents of %s", e.Path)
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireBlob(ctx, tx, e.SHA256, "the content of "+e.Path); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO manifest (path, sha256, run_id, step_id, attempt, parents,
			size, mtime, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, run_id = excluded.run_id,
			step_id = excluded.step_id, attempt = excluded.attempt, parents = excluded.parents,
			size = excluded.size, mtime = excluded.mtime, updated_at = excluded.updated_at`,
			e.Path, e.SHA256, e.RunID, e.StepID, e.Attempt, string(parents), e.Size, toNS(e.ModTime), toNS(e.UpdatedAt))
		if err != nil {
			return dbError(err, "record the base of %s", e.Path)
		}
		return resolveOpen(ctx, tx, e.Path, DriftRegenerated)
	})
}

// DeleteBase removes path from the manifest (a generated file whose
// deletion by hand was accepted) and resolves its open drift as accepted.
// Deleting a path that has no base does nothing.
func (d *DB) DeleteBase(ctx context.Context, p string) error {
	if err := checkManifestPath(p); err != nil {
		return err
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM manifest WHERE path = ?`, p); err != nil {
			return dbError(err, "remove %s from the manifest", p)
		}
		return resolveOpen(ctx, tx, p, DriftAccepted)
	})
}

// Bases implements workspace.Manifest: every base, by path.
func (d *DB) Bases(ctx context.Context) ([]workspace.ManifestEntry, error) {
	var out []workspace.ManifestEntry
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+manifestColumns+` FROM manifest ORDER BY path`)
		if err != nil {
			return dbError(err, "read the manifest")
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanManifest(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return dbError(rows.Err(), "read the manifest")
	})
	return out, err
}

// Base implements workspace.Manifest: the base of one path, false when the
// path was never generated.
func (d *DB) Base(ctx context.Context, p string) (workspace.ManifestEntry, bool, error) {
	var e workspace.ManifestEntry
	found := false
	err := d.read(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = scanManifest(tx.QueryRowContext(ctx, `SELECT `+manifestColumns+` FROM manifest WHERE path = ?`, p))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	return e, found, err
}

// BaseContent implements workspace.Manifest: the stored content of a base
// (ENOTFOUND when it is not kept).
func (d *DB) BaseContent(ctx context.Context, sha256 string) ([]byte, error) {
	return d.Blob(ctx, sha256)
}

// GeneratedContent implements backend.Generated: the content last generated
// at p, with ok false when p was never generated or its content is not kept.
func (d *DB) GeneratedContent(ctx context.Context, p string) ([]byte, bool, error) {
	e, ok, err := d.Base(ctx, p)
	if err != nil || !ok {
		return nil, false, err
	}
	data, err := d.Blob(ctx, e.SHA256)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

const manifestColumns = `path, sha256, run_id, step_id, attempt, parents, size, mtime, updated_at`

// scanManifest reads one manifest row.
func scanManifest(row interface{ Scan(...any) error }) (workspace.ManifestEntry, error) {
	var e workspace.ManifestEntry
	var parents string
	var mtime, updated int64
	err := row.Scan(&e.Path, &e.SHA256, &e.RunID, &e.StepID, &e.Attempt, &parents, &e.Size, &mtime, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	if err != nil {
		return e, dbError(err, "read a manifest entry")
	}
	if err := json.Unmarshal([]byte(parents), &e.Parents); err != nil {
		return e, backend.WrapError(backend.EINTERNAL, err, "manifest entry %s: bad parents %q", e.Path, parents)
	}
	if len(e.Parents) == 0 {
		e.Parents = nil
	}
	e.ModTime, e.UpdatedAt = fromNS(mtime), fromNS(updated)
	return e, nil
}

// SaveDrift records a drift as the open drift of its path, replacing the
// one already open (the file changed again; seen again unchanged, it keeps
// when it was first seen). A drift seen against a base
// that is no longer the path's (a step wrote it since) is stale and not
// recorded.
func (d *DB) SaveDrift(ctx context.Context, dr workspace.Drift) error {
	if err := checkManifestPath(dr.Path); err != nil {
		return err
	}
	if dr.SeenAt.IsZero() {
		dr.SeenAt = d.now()
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		var base string
		err := tx.QueryRowContext(ctx, `SELECT sha256 FROM manifest WHERE path = ?`, dr.Path).Scan(&base)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && base != dr.BaseSHA256) {
			return nil // stale: the path has a newer base (or none) since the drift was seen
		}
		if err != nil {
			return dbError(err, "read the base of %s", dr.Path)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO drift (path, base_sha256, current_sha256, deleted, diff,
			seen_at, resolved) VALUES (?, ?, ?, ?, ?, ?, '')
			ON CONFLICT (path) WHERE resolved = '' DO UPDATE SET base_sha256 = excluded.base_sha256,
			current_sha256 = excluded.current_sha256, deleted = excluded.deleted, diff = excluded.diff,
			seen_at = CASE WHEN drift.current_sha256 = excluded.current_sha256 AND drift.deleted = excluded.deleted
				THEN drift.seen_at ELSE excluded.seen_at END`,
			dr.Path, dr.BaseSHA256, dr.CurrentSHA256, dr.Deleted, dr.Diff, toNS(dr.SeenAt))
		return dbError(err, "record the drift of %s", dr.Path)
	})
}

// Drifts returns the open drifts, by path.
func (d *DB) Drifts(ctx context.Context) ([]workspace.Drift, error) {
	out := []workspace.Drift{}
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT path, base_sha256, current_sha256, deleted, diff, seen_at
			FROM drift WHERE resolved = '' ORDER BY path`)
		if err != nil {
			return dbError(err, "read the drift records")
		}
		defer rows.Close()
		for rows.Next() {
			var dr workspace.Drift
			var seen int64
			if err := rows.Scan(&dr.Path, &dr.BaseSHA256, &dr.CurrentSHA256, &dr.Deleted, &dr.Diff, &seen); err != nil {
				return dbError(err, "read a drift record")
			}
			dr.SeenAt = fromNS(seen)
			out = append(out, dr)
		}
		return dbError(rows.Err(), "read the drift records")
	})
	return out, err
}

// ResolveDrift marks the open drift of path resolved (how is one of the
// Drift* constants). It returns ENOTFOUND when path has no open drift.
func (d *DB) ResolveDrift(ctx context.Context, p, how string) error {
	switch how {
	case DriftAccepted, DriftReverted, DriftRegenerated, DriftCleared:
	default:
		return backend.Errorf(backend.EINVALID, "unknown drift resolution %q", how)
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE drift SET resolved = ? WHERE path = ? AND resolved = ''`, how, p)
		if err != nil {
			return dbError(err, "resolve the drift of %s", p)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENOTFOUND, "%s has no open drift (list them with: factory drift)", p)
		}
		return nil
	})
}

// resolveOpen resolves the open drift of p, if any, inside tx.
func resolveOpen(ctx context.Context, tx *sql.Tx, p, how string) error {
	_, err := tx.ExecContext(ctx, `UPDATE drift SET resolved = ? WHERE path = ? AND resolved = ''`, how, p)
	return dbError(err, "resolve the drift of %s", p)
}

// checkManifestPath refuses a path that is not clean, relative and
// slash-separated.
func checkManifestPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || path.Clean(p) != p || p == "." ||
		p == ".." || strings.HasPrefix(p, "../") {
		return backend.Errorf(backend.EINVALID, "manifest path %q must be relative to the workspace root, clean and slash-separated", p)
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
