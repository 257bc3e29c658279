-- OpenTelemetry spans. A run's spans have its id as trace id; deleting the
-- run deletes them. Attributes are a JSON object, events a JSON array of
-- {"name", "time" (unix nanoseconds), "attributes"}.

CREATE TABLE spans (
	trace_id       TEXT NOT NULL,
	span_id        TEXT NOT NULL,
	parent_span_id TEXT NOT NULL, -- '' for a root span
	name           TEXT NOT NULL,
	kind           TEXT NOT NULL,
	scope          TEXT NOT NULL, -- instrumentation scope
	start_ns       INTEGER NOT NULL,
	end_ns         INTEGER NOT NULL,
	status_code    TEXT NOT NULL, -- unset, ok, error
	status_message TEXT NOT NULL,
	attributes     TEXT NOT NULL, -- JSON object
	events         TEXT NOT NULL, -- JSON array
	PRIMARY KEY (trace_id, span_id)
);

-- (trace_id, span_id) also finds a trace; its spans are sorted by start on reading.

CREATE TRIGGER runs_delete_spans AFTER DELETE ON runs BEGIN
	DELETE FROM spans WHERE trace_id = OLD.id;
END;
