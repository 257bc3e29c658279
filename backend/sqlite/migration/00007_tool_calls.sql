-- The turn of each model call in its attempt's conversation, and the tool
-- calls the model made, their arguments and results as blobs.
ALTER TABLE model_calls ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;

CREATE TABLE tool_calls (
	run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id     TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	turn        INTEGER NOT NULL,
	call_id     TEXT NOT NULL,
	name        TEXT NOT NULL,
	args_hash   TEXT NOT NULL REFERENCES blobs (hash),
	result_hash TEXT NOT NULL REFERENCES blobs (hash),
	status      TEXT NOT NULL,
	duration    INTEGER NOT NULL, -- nanoseconds
	started_at  INTEGER NOT NULL,
	PRIMARY KEY (run_id, step_id, attempt, seq)
);
