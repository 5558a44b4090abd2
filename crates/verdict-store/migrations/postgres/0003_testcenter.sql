-- Verdict schema v3 (PostgreSQL): Test Center result reporting and API tokens.
-- Keep in step with sqlite/0003_testcenter.sql.
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE tc_batches (
  id BIGINT PRIMARY KEY,
  workspace_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  reference_url TEXT,
  reference_title TEXT,
  creation_time BIGINT NOT NULL,
  UNIQUE (workspace_id, name)
);
CREATE TABLE tc_reports (
  id BIGINT PRIMARY KEY,
  workspace_id BIGINT NOT NULL,
  batch_id BIGINT NOT NULL,
  label_key TEXT NOT NULL,
  creation_time BIGINT NOT NULL
);
CREATE INDEX tc_reports_batch ON tc_reports (batch_id, label_key, id);
CREATE TABLE tc_labels (
  report_id BIGINT NOT NULL,
  position BIGINT NOT NULL,
  label_key TEXT NOT NULL,
  label_value TEXT NOT NULL,
  hidden BIGINT NOT NULL,
  PRIMARY KEY (report_id, position)
);
ALTER TABLE tests ADD COLUMN parent_test_id BIGINT;
ALTER TABLE tests ADD COLUMN summary TEXT;
ALTER TABLE tests ADD COLUMN description TEXT;
ALTER TABLE runs ADD COLUMN report_id BIGINT;
ALTER TABLE runs ADD COLUMN parent_run_id BIGINT;
ALTER TABLE runs ADD COLUMN tc_depth BIGINT;
ALTER TABLE runs ADD COLUMN tc_result BIGINT;
CREATE INDEX runs_report_depth ON runs (report_id, tc_depth, id);
CREATE TABLE tc_events (
  id BIGINT PRIMARY KEY,
  workspace_id BIGINT NOT NULL,
  run_id BIGINT NOT NULL,
  event_type TEXT NOT NULL,
  message TEXT,
  detail TEXT,
  trace TEXT,
  location TEXT,
  vp TEXT,
  attachment_name TEXT,
  attachment_key TEXT,
  attachment_type TEXT,
  screenshot_name TEXT,
  screenshot_key TEXT,
  created BIGINT NOT NULL
);
CREATE INDEX tc_events_run ON tc_events (run_id, id);
