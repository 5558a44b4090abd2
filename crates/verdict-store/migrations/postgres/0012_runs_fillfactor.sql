-- Verdict schema v12 (PostgreSQL). Keep in step with sqlite/0012_runs_fillfactor.sql.
-- A re-run rewrites every last run: PostgreSQL leaves room in each page of runs
-- so those updates stay on their page (HOT); SQLite updates rows in place.
ALTER TABLE runs SET (fillfactor = 70);
