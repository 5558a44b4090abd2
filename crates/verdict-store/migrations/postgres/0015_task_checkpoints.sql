-- Verdict schema v15 (PostgreSQL). Keep in step with sqlite/0015_task_checkpoints.sql.
-- A large task is applied in short transactions, each committed with the
-- point to resume from (docs/adr/0004-task-checkpoints.md): the workspace of
-- a CI fan-out, the next item, and what the task has collected so far.
CREATE TABLE task_checkpoints (
  task_id BIGINT PRIMARY KEY,
  workspace_pos BIGINT NOT NULL,
  next_index BIGINT NOT NULL,
  state TEXT NOT NULL,
  at BIGINT NOT NULL
);
