-- Verdict schema v14 (PostgreSQL). Keep in step with sqlite/0014_retention.sql.
-- Retention: a workspace may keep its history for a number of days of its
-- own (NULL: the server's --retain-days; a negative value: for ever), and
-- pruning finds old rows by age without a scan. The age indexes do not lead
-- with workspace_id: the planners would take them for a workspace's pages
-- (ORDER BY id) and sort; a previous_runs page went from 2.7 to 19 ms p95.
ALTER TABLE workspaces ADD COLUMN retain_days BIGINT;
CREATE INDEX previous_runs_age ON previous_runs (started);
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tc_reports_age ON tc_reports (creation_time);
CREATE INDEX payload_hashes_task ON payload_hashes (task_id);
-- Settings every node and `verdict admin` read: where blob bytes live, so a
-- prune run with another --blob-url refuses instead of dropping references
-- to bytes it cannot delete.
CREATE TABLE server_settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
