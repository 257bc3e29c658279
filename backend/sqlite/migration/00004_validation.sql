-- Validation: the outcome of every gate, reviews a step waits for, gate
-- failure signatures by role, and the lessons kept from both.

CREATE TABLE gate_results (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id    TEXT NOT NULL,    -- '' for a blueprint check
	attempt    INTEGER NOT NULL, -- 0 for a blueprint check
	seq        INTEGER NOT NULL,
	name       TEXT NOT NULL,
	passed     INTEGER NOT NULL,
	exit_code  INTEGER NOT NULL,
	output     TEXT NOT NULL,    -- the tail of the output, redacted
	duration   INTEGER NOT NULL, -- nanoseconds
	timed_out  INTEGER NOT NULL,
	sandboxed  INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (run_id, step_id, attempt, seq)
);

CREATE TABLE reviews (
	run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id      TEXT NOT NULL,
	attempt      INTEGER NOT NULL,
	status       TEXT NOT NULL, -- pending, approved, rejected
	comment      TEXT NOT NULL,
	requested_at INTEGER NOT NULL,
	decided_at   INTEGER NOT NULL,
	PRIMARY KEY (run_id, step_id, attempt)
);

CREATE TABLE gate_failures (
	role       TEXT NOT NULL,
	signature  TEXT NOT NULL,
	run_id     TEXT NOT NULL,
	step_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (role, signature, run_id)
);

CREATE TABLE lessons (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	role       TEXT NOT NULL,
	kind       TEXT NOT NULL, -- review, gate
	signature  TEXT NOT NULL, -- '' for a review lesson
	text       TEXT NOT NULL,
	run_id     TEXT NOT NULL,
	step_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	hits       INTEGER NOT NULL
);

CREATE INDEX lessons_role_idx ON lessons (role, created_at DESC);
CREATE UNIQUE INDEX lessons_signature_idx ON lessons (role, signature) WHERE signature != '';
