-- Verdict schema v14 (SQLite). Keep in step with postgres/0014_retention.sql.
-- Retention: a workspace may keep its history for a number of days of its
-- own (NULL: the server's --retain-days; a negative value: for ever), and
-- pruning finds old rows by age without a scan.
ALTER TABLE workspaces ADD COLUMN retain_days INTEGER;
CREATE INDEX previous_runs_age ON previous_runs (workspace_id, started);
CREATE INDEX tasks_finished ON tasks (workspace_id, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tc_reports_age ON tc_reports (workspace_id, creation_time);
