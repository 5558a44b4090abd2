-- Verdict schema v10 (SQLite): what the Octane CI plugins send by default.
-- Keep in step with postgres/0010_ci_plugins.sql.
-- A CI server as last seen by its task polls and events (type, URL, plugin
-- version), kept before and after the server is registered in a workspace.
CREATE TABLE ci_server_sightings (
  shared_space_id INTEGER NOT NULL,
  instance_id TEXT NOT NULL,
  server_type TEXT,
  url TEXT,
  plugin_version TEXT,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (shared_space_id, instance_id)
);
INSERT INTO ci_server_sightings (shared_space_id, instance_id, server_type, last_seen)
  SELECT e.shared_space_id, substr(e.kind, 13), e.body, e.received_at FROM ci_raw_events e
  WHERE e.kind LIKE 'server_type:%'
    AND e.id = (SELECT MAX(o.id) FROM ci_raw_events o WHERE o.shared_space_id = e.shared_space_id AND o.kind = e.kind);
DELETE FROM ci_raw_events WHERE kind LIKE 'server_type:%';
-- Build logs and coverage reports are attachments of a CI build.
ALTER TABLE attachments ADD COLUMN owner_ci_build_id INTEGER;
CREATE INDEX attachments_ci_build ON attachments (owner_ci_build_id) WHERE owner_ci_build_id IS NOT NULL;
-- The SCM data (repository, revision, commits) a plugin reports for a build, as JSON.
ALTER TABLE ci_builds ADD COLUMN scm_data TEXT;
