-- Verdict schema v2 (SQLite): entity writes, CI integration, attachments.
-- Keep in step with postgres/0002_entities_ci.sql.
ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'workspace';
ALTER TABLE tasks ADD COLUMN shared_space_id INTEGER;
ALTER TABLE tasks ADD COLUMN ci_instance_id TEXT;
ALTER TABLE tasks ADD COLUMN ci_job_id TEXT;
ALTER TABLE tasks ADD COLUMN ci_build_id TEXT;
ALTER TABLE work_items ADD COLUMN description TEXT;
ALTER TABLE releases ADD COLUMN description TEXT;
ALTER TABLE ci_servers ADD COLUMN last_seen INTEGER;
ALTER TABLE ci_jobs ADD COLUMN pipeline_id INTEGER;
ALTER TABLE ci_jobs ADD COLUMN parameters TEXT;
ALTER TABLE ci_jobs ADD COLUMN branch TEXT;
ALTER TABLE ci_jobs ADD COLUMN executor_id INTEGER;
ALTER TABLE ci_builds ADD COLUMN number TEXT;
ALTER TABLE ci_builds ADD COLUMN start_time INTEGER;
ALTER TABLE ci_builds ADD COLUMN duration INTEGER;
ALTER TABLE ci_builds ADD COLUMN status TEXT;
ALTER TABLE ci_builds ADD COLUMN result TEXT;
ALTER TABLE ci_builds ADD COLUMN parameters TEXT;
ALTER TABLE ci_builds ADD COLUMN causes TEXT;
CREATE TABLE pipelines (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  shared_space_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  ci_server_id INTEGER,
  root_job_id INTEGER,
  multi_branch_type TEXT,
  creation_time INTEGER NOT NULL,
  UNIQUE (shared_space_id, name)
);
CREATE TABLE pipeline_nodes (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  pipeline_id INTEGER NOT NULL,
  ci_job_id INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  creation_time INTEGER NOT NULL,
  UNIQUE (pipeline_id, ci_job_id)
);
CREATE TABLE executors (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  subtype TEXT NOT NULL,
  creation_time INTEGER NOT NULL
);
CREATE TABLE attachments (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  owner_work_item_id INTEGER,
  owner_test_id INTEGER,
  owner_run_id INTEGER,
  size INTEGER NOT NULL,
  blob_key TEXT NOT NULL,
  creation_time INTEGER NOT NULL
);
CREATE INDEX attachments_work_item ON attachments (owner_work_item_id);
CREATE TABLE ci_raw_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shared_space_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
