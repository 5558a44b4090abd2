-- The flaky ranking reads each context's newest outcomes packed in one row
-- (verdict-domain recent.rs), kept at ingest, instead of reading histories.
-- Only contexts whose remembered results hold a failure or a flaky mark
-- have a row: any other has flakiness 0. One key serves the ingest look-up
-- (a context's tests), the ranking (a workspace's rows) and the update.
CREATE TABLE recent_outcomes (
  workspace_id INTEGER NOT NULL,
  context_key INTEGER NOT NULL,
  test_id INTEGER NOT NULL,
  failed_bits INTEGER NOT NULL,
  flaky_bits INTEGER NOT NULL,
  len INTEGER NOT NULL,
  last_started INTEGER NOT NULL,
  at_last INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, context_key, test_id)
) WITHOUT ROWID;
-- results_trouble served only the ranking's old candidate search.
DROP INDEX results_trouble;
-- The web UI's task list of a workspace, newest first.
CREATE INDEX tasks_workspace ON tasks (workspace_id, id);
-- Filled from the stored results at the next start (Store::open).
ALTER TABLE insight_backfill ADD COLUMN recent_pending INTEGER NOT NULL DEFAULT 1;
