-- Times are unix nanoseconds (0 when unset), durations nanoseconds,
-- lists JSON arrays of strings.

CREATE TABLE blobs (
	hash TEXT PRIMARY KEY,   -- sha256 hex of data
	data BLOB NOT NULL,
	size INTEGER NOT NULL
);

CREATE TABLE blueprint_versions (
	version      TEXT PRIMARY KEY, -- sha256 hex of text
	blueprint_id TEXT NOT NULL,
	path         TEXT NOT NULL,
	text         BLOB NOT NULL,
	created_at   INTEGER NOT NULL
);

CREATE INDEX blueprint_versions_blueprint_idx ON blueprint_versions (blueprint_id, created_at);

CREATE TABLE runs (
	id                TEXT PRIMARY KEY,
	blueprint_id      TEXT NOT NULL,
	blueprint_version TEXT NOT NULL,
	blueprint_path    TEXT NOT NULL,
	model             TEXT NOT NULL,
	output            TEXT NOT NULL,
	status            TEXT NOT NULL,
	error             TEXT NOT NULL,
	parallel          INTEGER NOT NULL,
	tokens_in         INTEGER NOT NULL,
	tokens_out        INTEGER NOT NULL,
	calls             INTEGER NOT NULL,
	started_at        INTEGER NOT NULL,
	ended_at          INTEGER NOT NULL,
	parent_id         TEXT NOT NULL,
	kind              TEXT NOT NULL,
	pid               INTEGER NOT NULL, -- the process that runs it
	host              TEXT NOT NULL     -- the machine that process runs on
);

CREATE INDEX runs_started_idx ON runs (started_at DESC);
CREATE INDEX runs_blueprint_idx ON runs (blueprint_id, started_at DESC);
CREATE INDEX runs_status_idx ON runs (status, started_at DESC);

CREATE TABLE steps (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id    TEXT NOT NULL,
	role       TEXT NOT NULL,
	model      TEXT NOT NULL,
	status     TEXT NOT NULL,
	error      TEXT NOT NULL,
	attempts   INTEGER NOT NULL,
	sections   TEXT NOT NULL, -- JSON array
	needs      TEXT NOT NULL, -- JSON array
	cache_hit  INTEGER NOT NULL,
	tokens_in  INTEGER NOT NULL,
	tokens_out INTEGER NOT NULL,
	started_at INTEGER NOT NULL,
	ended_at   INTEGER NOT NULL,
	PRIMARY KEY (run_id, step_id)
);

CREATE TABLE attempts (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id    TEXT NOT NULL,
	n          INTEGER NOT NULL,
	status     TEXT NOT NULL,
	error      TEXT NOT NULL,
	feedback   TEXT NOT NULL,
	notes      TEXT NOT NULL,
	started_at INTEGER NOT NULL,
	ended_at   INTEGER NOT NULL,
	PRIMARY KEY (run_id, step_id, n)
);

CREATE TABLE model_calls (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id     TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	provider    TEXT NOT NULL,
	model       TEXT NOT NULL,
	options     TEXT NOT NULL,
	prompt_hash TEXT REFERENCES blobs (hash),
	answer_hash TEXT REFERENCES blobs (hash),
	tokens_in   INTEGER NOT NULL,
	tokens_out  INTEGER NOT NULL,
	duration    INTEGER NOT NULL, -- nanoseconds
	first_token INTEGER NOT NULL, -- nanoseconds
	done_reason TEXT NOT NULL,
	error       TEXT NOT NULL,
	started_at  INTEGER NOT NULL
);

CREATE INDEX model_calls_run_idx ON model_calls (run_id, id);
CREATE INDEX model_calls_prompt_idx ON model_calls (prompt_hash);
CREATE INDEX model_calls_answer_idx ON model_calls (answer_hash);

CREATE TABLE artifacts (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id    TEXT NOT NULL,
	attempt    INTEGER NOT NULL,
	path       TEXT NOT NULL,
	sha256     TEXT NOT NULL REFERENCES blobs (hash),
	size       INTEGER NOT NULL,
	sections   TEXT NOT NULL, -- JSON array
	created_at INTEGER NOT NULL,
	PRIMARY KEY (run_id, step_id, attempt, path)
);

CREATE INDEX artifacts_path_idx ON artifacts (path, created_at DESC);
CREATE INDEX artifacts_sha_idx ON artifacts (sha256);
