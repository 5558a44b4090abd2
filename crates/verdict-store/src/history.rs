//! A test's run history in time order: Test Center runs (each upload is a run,
//! with its report and batch) and Octane runs (the last run and its previous runs).

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;

/// One entry of a test's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub run_id: i64,
    /// `passed`, `failed`, `skipped`, `planned`.
    pub status: String,
    pub started: i64,
    pub duration: i64,
    pub batch: Option<String>,
    pub report_id: Option<i64>,
    /// Extra tries the framework made for this result.
    pub retries: i64,
    /// Passed after a failed try.
    pub flaky: bool,
}

impl Store {
    /// The timeline of a test of the workspace, oldest first; `None` if no such test.
    ///
    /// # Errors
    /// Database failure.
    pub async fn test_history(
        &self,
        workspace_id: i64,
        test_id: i64,
    ) -> Result<Option<Vec<HistoryEntry>>, StoreError> {
        let exists: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM tests WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(test_id)
                .fetch_one(&self.read)
                .await?;
        if exists == 0 {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT r.id, r.status, r.started, r.duration, b.name, r.report_id, r.retries, r.flaky FROM runs r \
             LEFT JOIN tc_reports rep ON rep.id = r.report_id LEFT JOIN tc_batches b ON b.id = rep.batch_id \
             WHERE r.workspace_id = $1 AND r.test_id = $2 \
             UNION ALL \
             SELECT p.run_id, p.status, p.started, p.duration, NULL, NULL, p.retries, p.flaky FROM previous_runs p JOIN runs r ON r.id = p.run_id \
             WHERE r.workspace_id = $1 AND r.test_id = $2 \
             ORDER BY 3, 1",
        )
        .bind(workspace_id)
        .bind(test_id)
        .fetch_all(&self.read)
        .await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(HistoryEntry {
                    run_id: r.try_get(0)?,
                    status: r.try_get(1)?,
                    started: r.try_get(2)?,
                    duration: r.try_get(3)?,
                    batch: r.try_get(4)?,
                    report_id: r.try_get(5)?,
                    retries: r.try_get(6)?,
                    flaky: r.try_get::<i64, _>(7)? != 0,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(entries))
    }
}
