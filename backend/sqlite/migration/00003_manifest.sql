-- The manifest of generated files and the drift found against it. Paths are
-- relative to the workspace root, slash-separated.

CREATE TABLE manifest (
	path       TEXT PRIMARY KEY,
	sha256     TEXT NOT NULL REFERENCES blobs (hash), -- the base: what the factory last wrote there
	run_id     TEXT NOT NULL,  -- '' when the base was set by hand (drift accept)
	step_id    TEXT NOT NULL,
	attempt    INTEGER NOT NULL,
	parents    TEXT NOT NULL,  -- JSON array: for a merge, the hashes of the hand-edited and the new content
	size       INTEGER NOT NULL, -- the file's size and mtime just after it was written (-1, 0 when unknown),
	mtime      INTEGER NOT NULL, -- so a scan need not hash a file that still has both
	updated_at INTEGER NOT NULL
);

CREATE INDEX manifest_run_idx ON manifest (run_id);

CREATE TABLE drift (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	path           TEXT NOT NULL,
	base_sha256    TEXT NOT NULL,
	current_sha256 TEXT NOT NULL, -- '' when deleted
	deleted        INTEGER NOT NULL,
	diff           TEXT NOT NULL,
	seen_at        INTEGER NOT NULL,
	resolved       TEXT NOT NULL -- '' open; accepted, reverted, regenerated, cleared
);

-- At most one open drift per path.
CREATE UNIQUE INDEX drift_open_idx ON drift (path) WHERE resolved = '';
CREATE INDEX drift_seen_idx ON drift (seen_at DESC);

-- The files generated before the manifest existed: the latest artifact of
-- each path is its base.
INSERT INTO manifest (path, sha256, run_id, step_id, attempt, parents, size, mtime, updated_at)
SELECT path, sha256, run_id, step_id, attempt, '[]', -1, 0, created_at FROM (
	SELECT CASE WHEN rtrim(r.output, '/') IN ('', '.') THEN a.path ELSE rtrim(r.output, '/') || '/' || a.path END AS path, a.sha256, a.run_id, a.step_id, a.attempt, a.created_at,
		row_number() OVER (PARTITION BY CASE WHEN rtrim(r.output, '/') IN ('', '.') THEN a.path ELSE rtrim(r.output, '/') || '/' || a.path END
			ORDER BY a.created_at DESC, a.rowid DESC) AS n
	FROM artifacts a JOIN runs r ON r.id = a.run_id
) WHERE n = 1;
