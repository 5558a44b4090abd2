-- Verdict schema v6: insight (docs/insight.md). Keep sqlite/ and postgres/ in
-- step. Every stored result is one row of `results`, written in the ingest
-- transaction with its signature, context and result set, so reads go by index.
ALTER TABLE tasks ADD COLUMN pushed_by TEXT;
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  series_key TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (workspace_id, series_key)
);
CREATE TABLE result_sets (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  series_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  source_key TEXT NOT NULL,
  name TEXT NOT NULL,
  ci_build_id INTEGER,
  ci_job_id INTEGER,
  report_id INTEGER,
  task_id INTEGER,
  release_id INTEGER,
  milestone_id INTEGER,
  environment TEXT,
  pushed_by TEXT,
  started INTEGER NOT NULL,
  finished INTEGER NOT NULL,
  created INTEGER NOT NULL,
  total INTEGER NOT NULL DEFAULT 0,
  passed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  flaky INTEGER NOT NULL DEFAULT 0,
  muted INTEGER NOT NULL DEFAULT 0,
  summary TEXT,
  comparison TEXT,
  summary_stale INTEGER NOT NULL DEFAULT 1,
  summary_version INTEGER NOT NULL DEFAULT 0,
  UNIQUE (workspace_id, source_key)
);
CREATE INDEX result_sets_recent ON result_sets (workspace_id, started, id);
CREATE INDEX result_sets_series ON result_sets (series_id, started, id);
CREATE INDEX result_sets_stale ON result_sets (summary_stale, id);
CREATE TABLE result_set_tasks (
  task_id INTEGER NOT NULL,
  result_set_id INTEGER NOT NULL,
  PRIMARY KEY (task_id, result_set_id)
);
CREATE TABLE contexts (
  workspace_id INTEGER NOT NULL,
  context_key INTEGER NOT NULL,
  release_id INTEGER,
  environment TEXT NOT NULL,
  PRIMARY KEY (workspace_id, context_key)
);
CREATE TABLE results (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  result_set_id INTEGER NOT NULL,
  series_id INTEGER NOT NULL,
  test_id INTEGER NOT NULL,
  context_key INTEGER NOT NULL,
  run_id INTEGER NOT NULL,
  started INTEGER NOT NULL,
  duration INTEGER NOT NULL,
  outcome INTEGER NOT NULL,
  flaky INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  muted INTEGER NOT NULL,
  signature INTEGER,
  task_id INTEGER NOT NULL
);
CREATE INDEX results_set ON results (result_set_id, test_id);
CREATE INDEX results_test ON results (test_id, context_key, started);
CREATE INDEX results_signature ON results (workspace_id, signature, started) WHERE signature IS NOT NULL;
CREATE INDEX results_trouble ON results (workspace_id, started, test_id) WHERE outcome = 2 OR flaky = 1;
CREATE TABLE failure_groups (
  workspace_id INTEGER NOT NULL,
  signature INTEGER NOT NULL,
  error_type TEXT NOT NULL,
  message TEXT NOT NULL,
  frames TEXT NOT NULL,
  sample_message TEXT NOT NULL,
  failed_runs INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  first_result_set_id INTEGER NOT NULL,
  last_result_set_id INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, signature)
);
CREATE INDEX failure_groups_recent ON failure_groups (workspace_id, last_seen);
CREATE TABLE failure_group_tests (
  workspace_id INTEGER NOT NULL,
  signature INTEGER NOT NULL,
  test_id INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, signature, test_id)
);
CREATE TABLE triage (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  signature INTEGER NOT NULL,
  note TEXT,
  link TEXT,
  by_user TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX triage_group ON triage (workspace_id, signature, id);
CREATE TABLE mutes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  test_id INTEGER NOT NULL,
  reason TEXT,
  muted_by TEXT NOT NULL,
  muted_at INTEGER NOT NULL,
  unmuted_by TEXT,
  unmuted_at INTEGER
);
CREATE INDEX mutes_test ON mutes (workspace_id, test_id, id);
-- Results stored before v6 are turned into insight rows by the server at
-- start (signatures need code); this row says whether that still has to run.
CREATE TABLE insight_backfill (singleton INTEGER PRIMARY KEY, pending INTEGER NOT NULL);
INSERT INTO insight_backfill (singleton, pending) VALUES (1, 1);
