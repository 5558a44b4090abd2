-- A test's page shows its failures with what they left behind: an Octane
-- run's attachments, and a Test Center case's events anywhere below it.
CREATE INDEX attachments_run ON attachments (owner_run_id) WHERE owner_run_id IS NOT NULL;
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
