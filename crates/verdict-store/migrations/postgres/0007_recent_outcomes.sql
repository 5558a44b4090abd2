-- The flaky ranking reads each context's newest outcomes packed in one row
-- (verdict-domain recent.rs), kept at ingest, instead of reading histories.
-- Only contexts whose remembered results hold a failure or a flaky mark
-- have a row: any other has flakiness 0. One key serves the ingest look-up
-- (a context's tests), the ranking (a workspace's rows) and the update.
CREATE TABLE recent_outcomes (
  workspace_id BIGINT NOT NULL,
  context_key BIGINT NOT NULL,
  test_id BIGINT NOT NULL,
  failed_bits BIGINT NOT NULL,
  flaky_bits BIGINT NOT NULL,
  len BIGINT NOT NULL,
  last_started BIGINT NOT NULL,
  at_last BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, context_key, test_id)
) WITH (fillfactor = 80);
-- results_trouble served only the ranking's old candidate search.
DROP INDEX results_trouble;
-- The web UI's task list of a workspace, newest first.
CREATE INDEX tasks_workspace ON tasks (workspace_id, id);
-- Filled from the stored results at the next start (Store::open).
ALTER TABLE insight_backfill ADD COLUMN recent_pending BIGINT NOT NULL DEFAULT 1;
