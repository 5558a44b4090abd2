//! Insight: result sets, their comparison, a test's story, failure groups,
//! triage, mutes and flaky rankings (docs/insight.md). The write side runs
//! inside the ingest transactions; the read side goes by index only.

mod backfill;
mod choices;
mod clauses;
mod details;
mod read;
pub(crate) mod recent;
mod set_results;
mod summary;
pub(crate) mod tc;
mod triage;
mod write;

use crate::ingest_tx::open;
use std::collections::HashSet;

pub use choices::{Choice, FilterChoices};
pub use details::{FailureDetail, FailureFile, LinkedEntity, TestLinks};
pub use read::{
    FailureGroup, GroupFilter, GroupRun, ResultSetFilter, ResultSetRow, StoryResult, TestInfo,
};
pub use set_results::{MAX_CONTEXTS, SetResult, SetResultFilter};
pub use summary::{SetComparison, SummaryCounts};
pub use triage::{MuteRecord, TriageRecord};
pub use write::{ChangedResult, ContextSpec, FailureInfo, NewResult, ResultSetRef, ResultSetSpec};

use crate::error::StoreError;
use crate::ingest_tx::IngestTx;

impl IngestTx {
    /// Finds or creates the result set this task writes into.
    ///
    /// # Errors
    /// Database failure.
    pub async fn result_set(
        &mut self,
        spec: &ResultSetSpec,
        started: i64,
    ) -> Result<ResultSetRef, StoreError> {
        write::result_set(
            self.backend,
            open(&mut self.tx)?,
            self.workspace_id,
            spec,
            started,
        )
        .await
    }

    /// Stores results of one batch with their counters and failure groups.
    ///
    /// # Errors
    /// Database failure.
    pub async fn record_results(
        &mut self,
        set: ResultSetRef,
        new: Vec<NewResult>,
        changed: Vec<ChangedResult>,
        contexts: &[ContextSpec],
    ) -> Result<(), StoreError> {
        write::record(
            self.backend,
            open(&mut self.tx)?,
            self.workspace_id,
            self.task_id,
            set,
            new,
            changed,
            contexts,
            Some(&mut self.new_in_tx),
        )
        .await
    }

    /// Tests muted in the current workspace.
    ///
    /// # Errors
    /// Database failure.
    pub async fn active_mutes(&mut self) -> Result<HashSet<i64>, StoreError> {
        write::active_mutes(open(&mut self.tx)?, self.workspace_id).await
    }

    /// The set holding a stored result, if any.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_of_result(
        &mut self,
        test_id: i64,
        context_key: i64,
        started: i64,
        run_id: i64,
    ) -> Result<Option<ResultSetRef>, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT result_set_id, series_id FROM results WHERE test_id = $1 AND context_key = $2 AND started = $3 AND run_id = $4 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(test_id)
        .bind(context_key)
        .bind(started)
        .bind(run_id)
        .fetch_optional(open(&mut self.tx)?)
        .await?;
        Ok(row.map(|(id, series_id)| ResultSetRef { id, series_id }))
    }

    /// Links the task to the sets it wrote; marks the following sets stale.
    ///
    /// # Errors
    /// Database failure.
    pub async fn close_result_sets(&mut self, sets: &[ResultSetRef]) -> Result<(), StoreError> {
        write::close_sets(open(&mut self.tx)?, self.task_id, sets).await
    }
}
