-- Verdict schema v13 (SQLite). Keep in step with postgres/0013_blob_pins.sql.
-- Blobs may live in shared object storage (S3), which no database transaction
-- covers, so a blob's bytes are written before the transaction that takes its
-- reference and removed after the one that drops the last: an upload pins the
-- key first (pins + 1, pinned_at), and a row left with no reference and no
-- live pin is what the sweep removes, bytes first, in one transaction that
-- holds the row (see blob_refs.rs and docs/adr/0003-blob-storage.md).
ALTER TABLE blobs ADD COLUMN pins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN pinned_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX blobs_unreferenced ON blobs (pinned_at) WHERE refs <= 0;
