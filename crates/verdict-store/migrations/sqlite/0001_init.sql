-- Verdict schema v1 (SQLite). Keep in step with postgres/0001_init.sql:
-- same tables, columns and indexes; only types differ.
CREATE TABLE id_counter (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), next_id INTEGER NOT NULL);
INSERT INTO id_counter (singleton, next_id) VALUES (1, 2001);

CREATE TABLE shared_spaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE workspaces (
  id INTEGER PRIMARY KEY,
  shared_space_id INTEGER NOT NULL REFERENCES shared_spaces(id),
  name TEXT NOT NULL,
  UNIQUE (shared_space_id, name)
);
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  client_id TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE workspace_roles (
  user_id INTEGER NOT NULL REFERENCES users(id),
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  role TEXT NOT NULL,
  PRIMARY KEY (user_id, workspace_id)
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  login_name TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  state TEXT NOT NULL,
  skip_errors INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL,
  payload_encoding TEXT NOT NULL,
  payload_size INTEGER NOT NULL,
  error_details TEXT,
  lease_until INTEGER,
  lease_owner TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER
);
CREATE INDEX tasks_claim ON tasks (state, id);
CREATE TABLE payload_chunks (
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (task_id, seq)
);
CREATE TABLE payload_hashes (
  dedupe_key TEXT PRIMARY KEY,
  task_id INTEGER NOT NULL,
  until_ms INTEGER NOT NULL
);

CREATE TABLE list_nodes (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  list_name TEXT NOT NULL,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  logical_name TEXT NOT NULL,
  UNIQUE (workspace_id, list_name, name_key)
);
CREATE TABLE taxonomy_nodes (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  subtype TEXT NOT NULL,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  category_id INTEGER,
  UNIQUE (workspace_id, category_id, name_key)
);
CREATE TABLE releases (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  start_date INTEGER,
  end_date INTEGER,
  is_default INTEGER NOT NULL DEFAULT 0,
  creation_time INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
CREATE TABLE milestones (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  date INTEGER,
  release_id INTEGER,
  creation_time INTEGER NOT NULL
);
CREATE TABLE programs (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  creation_time INTEGER NOT NULL
);
CREATE TABLE work_items (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  subtype TEXT NOT NULL,
  name TEXT NOT NULL,
  parent_id INTEGER,
  release_id INTEGER,
  creation_time INTEGER NOT NULL
);
CREATE TABLE application_modules (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  parent_id INTEGER,
  creation_time INTEGER NOT NULL
);
CREATE TABLE ci_servers (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  server_type TEXT NOT NULL,
  url TEXT,
  plugin_version TEXT,
  creation_time INTEGER NOT NULL,
  UNIQUE (workspace_id, instance_id)
);
CREATE TABLE ci_jobs (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  ci_server_id INTEGER NOT NULL,
  ci_id TEXT NOT NULL,
  name TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  UNIQUE (ci_server_id, ci_id)
);
CREATE TABLE ci_builds (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  ci_job_id INTEGER NOT NULL,
  build_ci_id TEXT NOT NULL,
  name TEXT NOT NULL,
  sub_type TEXT,
  artifact_id TEXT,
  creation_time INTEGER NOT NULL,
  UNIQUE (ci_job_id, build_ci_id)
);

CREATE TABLE tests (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  subtype TEXT NOT NULL,
  name TEXT NOT NULL,
  component TEXT NOT NULL DEFAULT '',
  package TEXT NOT NULL DEFAULT '',
  class_name TEXT NOT NULL DEFAULT '',
  external_test_id TEXT,
  test_level_id INTEGER,
  testing_tool_type_id INTEGER,
  framework_id INTEGER,
  script TEXT,
  identity_key TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_modified INTEGER NOT NULL
);
CREATE UNIQUE INDEX tests_identity ON tests (workspace_id, subtype, identity_key);

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  subtype TEXT NOT NULL,
  test_id INTEGER NOT NULL,
  run_key TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  status_id INTEGER,
  native_status_id INTEGER,
  started INTEGER NOT NULL,
  duration INTEGER NOT NULL,
  release_id INTEGER,
  milestone_id INTEGER,
  program_id INTEGER,
  test_level_id INTEGER,
  testing_tool_type_id INTEGER,
  framework_id INTEGER,
  external_run_id TEXT,
  external_report_url TEXT,
  external_assets TEXT,
  run_type TEXT,
  description TEXT,
  error_type TEXT,
  error_message TEXT,
  error_stack TEXT,
  ci_build_id INTEGER,
  parent_suite_id INTEGER,
  task_id INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_modified INTEGER NOT NULL
);
CREATE UNIQUE INDEX runs_key ON runs (workspace_id, run_key);
CREATE INDEX runs_test ON runs (test_id);

CREATE TABLE previous_runs (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  run_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  status_id INTEGER,
  native_status_id INTEGER,
  started INTEGER NOT NULL,
  duration INTEGER NOT NULL,
  description TEXT,
  error_type TEXT,
  error_message TEXT,
  error_stack TEXT,
  external_report_url TEXT,
  ci_build_id INTEGER,
  task_id INTEGER NOT NULL,
  creation_time INTEGER NOT NULL
);
CREATE INDEX previous_runs_run ON previous_runs (run_id);

CREATE TABLE run_steps (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  run_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL,
  scenario TEXT,
  iteration TEXT,
  name TEXT NOT NULL,
  status TEXT,
  duration INTEGER,
  error_message TEXT,
  external_step_id TEXT,
  parameters TEXT
);
CREATE INDEX run_steps_run ON run_steps (run_id, position);

CREATE TABLE entity_links (
  workspace_id INTEGER NOT NULL,
  src_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  dst_id INTEGER NOT NULL,
  PRIMARY KEY (src_id, field, dst_id)
);
CREATE INDEX entity_links_dst ON entity_links (dst_id, field);
