-- Verdict schema v5: hostile input and account safety. Keep sqlite/ and
-- postgres/ in step.
-- Content-addressed blobs are counted: one reference per attachment row and
-- per Test Center event attachment or screenshot. The file is removed in the
-- transaction that drops the last reference (docs/security.md).
CREATE TABLE blobs (
  blob_key TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  refs BIGINT NOT NULL,
  created BIGINT NOT NULL
);
INSERT INTO blobs (blob_key, size, refs, created)
SELECT k, MAX(s), COUNT(*), 0 FROM (
  SELECT blob_key AS k, size AS s FROM attachments
  UNION ALL SELECT attachment_key AS k, 0 AS s FROM tc_events WHERE attachment_key IS NOT NULL
  UNION ALL SELECT screenshot_key AS k, 0 AS s FROM tc_events WHERE screenshot_key IS NOT NULL
) used GROUP BY k;
-- A disabled user signs in nowhere; sessions end, keys and tokens are refused.
ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX api_keys_user ON api_keys (user_id);
-- Work-item fields real clients send (JS SDK, Octane UI exports): phase,
-- severity and priority are list nodes; owner is a user id.
ALTER TABLE work_items ADD COLUMN phase_id BIGINT;
ALTER TABLE work_items ADD COLUMN severity_id BIGINT;
ALTER TABLE work_items ADD COLUMN priority_id BIGINT;
ALTER TABLE work_items ADD COLUMN owner_id BIGINT;
ALTER TABLE work_items ADD COLUMN story_points BIGINT;
