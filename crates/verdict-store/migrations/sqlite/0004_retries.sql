-- Verdict schema v4: retries and the flaky mark on runs (issue "real reports
-- kept exactly"); previous runs looked up by (run, started) so an identical
-- result pushed again is stored once. Keep sqlite/ and postgres/ in step.
ALTER TABLE runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN flaky INTEGER NOT NULL DEFAULT 0;
ALTER TABLE previous_runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE previous_runs ADD COLUMN flaky INTEGER NOT NULL DEFAULT 0;
DROP INDEX previous_runs_run;
CREATE INDEX previous_runs_run ON previous_runs (run_id, started);
-- Result files imported into a Test Center report (POST /import), by content
-- hash, so importing the same file into the same report again adds nothing.
CREATE TABLE tc_imports (
  report_id INTEGER NOT NULL,
  content_sha256 TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (report_id, content_sha256)
);
