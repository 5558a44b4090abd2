-- Verdict schema v11 (SQLite). Keep in step with postgres/0011_entity_counts.sql.
-- Kept counts of the largest read-only collection, so the entity API's
-- total_count of previous_runs does not count a million rows per request.
CREATE TABLE entity_counts (
  workspace_id INTEGER NOT NULL,
  collection TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, collection)
);
INSERT INTO entity_counts (workspace_id, collection, n)
  SELECT workspace_id, 'previous_runs', COUNT(*) FROM previous_runs GROUP BY workspace_id;
