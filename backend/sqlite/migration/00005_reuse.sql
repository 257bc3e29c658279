-- What lets a later run reuse a run's work: the role files it ran with
-- (their text is a blob) and the cache key of each step, with the run whose
-- recorded outputs a step reused instead of running ('' when it ran).

CREATE TABLE run_roles (
	run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	role   TEXT NOT NULL,
	hash   TEXT NOT NULL REFERENCES blobs (hash),
	PRIMARY KEY (run_id, role)
);

CREATE TABLE step_keys (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id    TEXT NOT NULL,
	key        TEXT NOT NULL,
	source_run TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (run_id, step_id)
);

CREATE INDEX step_keys_key_idx ON step_keys (key, created_at DESC);
