//! Durable resume points of a task applied in several transactions
//! (docs/adr/0004-task-checkpoints.md): each commit of a task's work carries
//! where to resume, so a task cut off by a crash or a lost lease goes on
//! from its last commit, and nothing is applied twice.

use super::{IngestTx, open, take};
use crate::connect::Store;
use crate::error::StoreError;

/// Where a task resumes, and what it had collected (opaque to the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCheckpoint {
    /// Which workspace of a CI fan-out (0 otherwise).
    pub workspace_pos: i64,
    /// The first item not applied yet.
    pub next_index: u64,
    /// The processing state, serialised by the worker.
    pub state: String,
}

impl Store {
    /// The task's last committed checkpoint.
    ///
    /// # Errors
    /// Database failure.
    pub async fn task_checkpoint(
        &self,
        task_id: i64,
    ) -> Result<Option<TaskCheckpoint>, StoreError> {
        let row: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT workspace_pos, next_index, state FROM task_checkpoints WHERE task_id = $1",
        )
        .bind(task_id)
        .fetch_optional(&self.write)
        .await?;
        Ok(
            row.map(|(workspace_pos, next_index, state)| TaskCheckpoint {
                workspace_pos,
                next_index: next_index.max(0).unsigned_abs(),
                state,
            }),
        )
    }
}

impl IngestTx {
    /// Commits the task's writes so far together with `checkpoint`, provided
    /// `owner` still holds the lease (extended by `lease_ms`), then opens the
    /// next transaction — after the writers that waited meanwhile. False
    /// (and everything since the last checkpoint rolled back) when another
    /// worker took the task over.
    ///
    /// # Errors
    /// Database failure; the task then resumes from its last checkpoint.
    pub async fn checkpoint(
        &mut self,
        owner: &str,
        lease_ms: i64,
        checkpoint: &TaskCheckpoint,
    ) -> Result<bool, StoreError> {
        let now = crate::now_ms();
        let owned = sqlx::query(
            "UPDATE tasks SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(self.task_id)
        .bind(owner)
        .bind(now.saturating_add(lease_ms))
        .execute(open(&mut self.tx)?)
        .await?
        .rows_affected();
        if owned != 1 {
            take(&mut self.tx)?.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO task_checkpoints (task_id, workspace_pos, next_index, state, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (task_id) DO UPDATE SET \
             workspace_pos = excluded.workspace_pos, next_index = excluded.next_index, \
             state = excluded.state, at = excluded.at",
        )
        .bind(self.task_id)
        .bind(checkpoint.workspace_pos)
        .bind(i64::try_from(checkpoint.next_index).unwrap_or(i64::MAX))
        .bind(&checkpoint.state)
        .bind(now)
        .execute(open(&mut self.tx)?)
        .await?;
        take(&mut self.tx)?.commit().await?;
        self.restart_wal_if_large().await;
        // Another task may create tests between two transactions.
        self.new_in_tx = crate::insight::recent::NewInTx::default();
        let mut next = crate::connect::begin_write(self.backend, &self.pool).await?;
        crate::connect::lock_workspace(self.backend, &mut next, self.workspace_id).await?;
        self.tx = Some(next);
        Ok(true)
    }
}
