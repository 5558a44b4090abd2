//! The write side of processing one test-results task: one transaction per
//! task, batched inserts, and a finish that commits only if this worker still
//! owns the task's lease (so a reclaimed task is applied exactly once).

mod checkpoint;
mod lookups;
mod runs;
mod tests;

use sqlx::{Any, Transaction};

use crate::bulk::{self, Cell};
use crate::connect::{Backend, Store};
use crate::error::StoreError;
use crate::ids;
use crate::tasks::TaskState;

pub use checkpoint::TaskCheckpoint;
pub(crate) use lookups::build_names;
pub use lookups::{BuildNames, CiBuildSpec, ReleaseInfo, SuiteInfo};
pub use runs::{ExistingRun, NewPreviousRun, NewRun, NewStep, RunUpdate};
pub use tests::{ExistingTest, NewTest, TestUpdate};

/// An open processing transaction for one task in one workspace; a
/// checkpoint commits it and opens the next (`None` only in between).
pub struct IngestTx {
    pub(crate) backend: Backend,
    pub(crate) tx: Option<Transaction<'static, Any>>,
    /// Where the next transaction comes from after a checkpoint.
    pub(crate) pool: sqlx::AnyPool,
    pub(crate) workspace_id: i64,
    pub(crate) task_id: i64,
    /// Tests created in this transaction (the flaky ranking's bookkeeping
    /// skips look-ups for their first results).
    pub(crate) new_in_tx: crate::insight::recent::NewInTx,
    /// SQLite: the log's length, restarted between two of the task's
    /// transactions when long (`wal.rs`).
    pub(crate) wal: Option<crate::wal::WalSize>,
}

impl Store {
    /// Begins processing `task_id` in `workspace_id`. On PostgreSQL the
    /// workspace is locked for the transaction so two nodes never create the
    /// same test twice; SQLite has a single writer anyway.
    ///
    /// # Errors
    /// Database failure.
    pub async fn begin_ingest(
        &self,
        workspace_id: i64,
        task_id: i64,
    ) -> Result<IngestTx, StoreError> {
        let mut tx = self.begin_write().await?;
        crate::connect::lock_workspace(self.backend, &mut tx, workspace_id).await?;
        Ok(IngestTx {
            backend: self.backend,
            tx: Some(tx),
            pool: self.write.clone(),
            workspace_id,
            task_id,
            new_in_tx: crate::insight::recent::NewInTx::default(),
            wal: (self.backend == Backend::Sqlite).then(|| self.wal_size.clone()),
        })
    }
}

/// The open transaction of an [`IngestTx`].
pub(crate) fn open<'a>(
    tx: &'a mut Option<Transaction<'static, Any>>,
) -> Result<&'a mut sqlx::AnyConnection, StoreError> {
    tx.as_deref_mut().ok_or(StoreError::TransactionClosed)
}

/// Takes the open transaction out to end it.
pub(crate) fn take(
    tx: &mut Option<Transaction<'static, Any>>,
) -> Result<Transaction<'static, Any>, StoreError> {
    tx.take().ok_or(StoreError::TransactionClosed)
}

impl IngestTx {
    /// The task being applied.
    #[must_use]
    pub fn task_id(&self) -> i64 {
        self.task_id
    }

    /// Moves the transaction on to another workspace (a CI push fanned out to
    /// several workspaces is still one transaction).
    ///
    /// # Errors
    /// Database failure.
    pub async fn switch_workspace(&mut self, workspace_id: i64) -> Result<(), StoreError> {
        crate::connect::lock_workspace(self.backend, open(&mut self.tx)?, workspace_id).await?;
        self.workspace_id = workspace_id;
        Ok(())
    }

    /// Fresh entity ids for rows about to be inserted.
    ///
    /// # Errors
    /// Database failure.
    pub async fn allocate_ids(&mut self, n: usize) -> Result<Vec<i64>, StoreError> {
        ids::allocate(self.backend, open(&mut self.tx)?, n).await
    }

    /// Adds multi-valued links (`src.field -> dst`); existing ones are kept.
    ///
    /// # Errors
    /// Database failure.
    pub async fn add_links(&mut self, links: &[(i64, &str, i64)]) -> Result<(), StoreError> {
        let ws = self.workspace_id;
        let rows: Vec<Vec<Cell<'_>>> = links
            .iter()
            .map(|(src, field, dst)| {
                vec![
                    Cell::Int(Some(ws)),
                    Cell::Int(Some(*src)),
                    Cell::Text(Some(field)),
                    Cell::Int(Some(*dst)),
                ]
            })
            .collect();
        bulk::insert_rows(
            self.backend,
            open(&mut self.tx)?,
            "entity_links",
            &["workspace_id", "src_id", "field", "dst_id"],
            &rows,
            true,
        )
        .await
    }

    /// Replaces all links of `field` from each of `src_ids` (used for a run's
    /// taxonomies and test types when the run is overwritten).
    ///
    /// # Errors
    /// Database failure.
    pub async fn clear_links(&mut self, src_ids: &[i64], field: &str) -> Result<(), StoreError> {
        for chunk in src_ids.chunks(500) {
            let sql = format!(
                "DELETE FROM entity_links WHERE field = {} AND src_id IN ({})",
                bulk::placeholder(self.backend, 1),
                bulk::placeholders(self.backend, 2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(field);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(open(&mut self.tx)?).await?;
        }
        Ok(())
    }

    /// Ends the task with its final status, committing every write of the
    /// task, provided `owner` still holds the lease. Returns false (and rolls
    /// back) when another worker took the task over.
    ///
    /// # Errors
    /// Database failure.
    pub async fn finish(
        mut self,
        owner: &str,
        state: TaskState,
        error_details: Option<&str>,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE tasks SET state = $3, error_details = $4, finished_at = $5, lease_owner = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(self.task_id)
        .bind(owner)
        .bind(state.as_str())
        .bind(error_details)
        .bind(crate::now_ms())
        .execute(open(&mut self.tx)?)
        .await?
        .rows_affected();
        if updated != 1 {
            take(&mut self.tx)?.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM payload_chunks WHERE task_id = $1")
            .bind(self.task_id)
            .execute(open(&mut self.tx)?)
            .await?;
        sqlx::query("DELETE FROM task_checkpoints WHERE task_id = $1")
            .bind(self.task_id)
            .execute(open(&mut self.tx)?)
            .await?;
        take(&mut self.tx)?.commit().await?;
        self.restart_wal_if_large().await;
        Ok(true)
    }

    /// Between two transactions: restarts SQLite's log when it grew long.
    /// Never fails: the task's work is committed by then, and a log left
    /// long is tried again after the next commit.
    pub(crate) async fn restart_wal_if_large(&mut self) {
        if let Some(size) = &self.wal
            && let Err(e) = crate::wal::restart_if_large(&self.pool, size).await
        {
            tracing::warn!(error = %e, "restarting the SQLite WAL failed; retried after the next commit");
        }
    }

    /// Abandons every write of the task.
    ///
    /// # Errors
    /// Database failure.
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        take(&mut self.tx)?.rollback().await?;
        Ok(())
    }
}
