-- A run's cancel request: any process may ask, the process running the run
-- sees it and stops the run.

ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
