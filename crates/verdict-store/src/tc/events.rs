//! Events of Test Center runs: stored in bulk, and each verdict rolls up into
//! its run's result and every ancestor's (the worst verdict wins; results
//! only ever get worse, so the walk stops at the first ancestor already as bad).

use std::collections::BTreeMap;

use sqlx::Row;
use verdict_domain::testcenter::status_of_rank;

use super::runs::status_ids;
use crate::bulk::{self, Cell};
use crate::connect::Store;
use crate::error::StoreError;
use crate::ids;
use crate::insight::FailureInfo;

/// One event to store; its files are already pinned and written by the
/// caller (see `blob_refs`), which knows their sizes.
#[derive(Debug, Clone, Default)]
pub struct NewTcEvent {
    pub run_id: i64,
    pub event_type: &'static str,
    /// Severity from `EventType::rank` (0: no verdict).
    pub rank: i64,
    pub message: Option<String>,
    pub detail: Option<String>,
    /// JSON text of `trace`, `location`, `vp`.
    pub trace: Option<String>,
    pub location: Option<String>,
    pub vp: Option<String>,
    pub attachment: Option<(String, String, String)>,
    pub screenshot: Option<(String, String)>,
}

impl Store {
    /// Stores events of one workspace and updates run results; `size_of`
    /// gives the size of each file's blob.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_add_events(
        &self,
        workspace_id: i64,
        events: &[NewTcEvent],
        size_of: impl FnMut(&str) -> std::io::Result<u64>,
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        // the same lock as ingest: the flaky ranking's rows are read,
        // changed and written back, so writers of a workspace go in turn
        crate::connect::lock_workspace(self.backend, &mut tx, workspace_id).await?;
        // Checked under the lock retention takes too: a run pruned since the
        // request found it gets no orphan event (nor a blob reference).
        let mut runs: Vec<i64> = events.iter().map(|e| e.run_id).collect();
        runs.sort_unstable();
        runs.dedup();
        for run in runs {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM runs WHERE id = $1")
                .bind(run)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound(format!("run {run} not found")));
            }
        }
        add_events_in(self.backend, &mut tx, workspace_id, events, size_of).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// [`Store::tc_add_events`] inside a transaction: rows, blob references
/// (one per attachment and screenshot; `size_of` is called once per distinct
/// blob), and the roll-up of verdicts.
pub(crate) async fn add_events_in(
    backend: crate::connect::Backend,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    workspace_id: i64,
    events: &[NewTcEvent],
    mut size_of: impl FnMut(&str) -> std::io::Result<u64>,
) -> Result<(), StoreError> {
    {
        let now = crate::now_ms();
        let event_ids = ids::allocate(backend, tx, events.len()).await?;
        let rows: Vec<Vec<Cell<'_>>> = events
            .iter()
            .zip(&event_ids)
            .map(|(e, id)| {
                vec![
                    Cell::Int(Some(*id)),
                    Cell::Int(Some(workspace_id)),
                    Cell::Int(Some(e.run_id)),
                    Cell::Text(Some(e.event_type)),
                    Cell::Text(e.message.as_deref()),
                    Cell::Text(e.detail.as_deref()),
                    Cell::Text(e.trace.as_deref()),
                    Cell::Text(e.location.as_deref()),
                    Cell::Text(e.vp.as_deref()),
                    Cell::Text(e.attachment.as_ref().map(|a| a.0.as_str())),
                    Cell::Text(e.attachment.as_ref().map(|a| a.1.as_str())),
                    Cell::Text(e.attachment.as_ref().map(|a| a.2.as_str())),
                    Cell::Text(e.screenshot.as_ref().map(|s| s.0.as_str())),
                    Cell::Text(e.screenshot.as_ref().map(|s| s.1.as_str())),
                    Cell::Int(Some(now)),
                ]
            })
            .collect();
        let columns = [
            "id",
            "workspace_id",
            "run_id",
            "event_type",
            "message",
            "detail",
            "trace",
            "location",
            "vp",
            "attachment_name",
            "attachment_key",
            "attachment_type",
            "screenshot_name",
            "screenshot_key",
            "created",
        ];
        bulk::insert_rows(backend, tx, "tc_events", &columns, &rows, false).await?;
        let mut placed: BTreeMap<&str, i64> = BTreeMap::new();
        // References in key order: two requests sharing files never wait on
        // each other's blob rows in a cycle (PostgreSQL).
        let mut keys: Vec<&str> = events
            .iter()
            .flat_map(|e| {
                [
                    e.attachment.as_ref().map(|a| a.1.as_str()),
                    e.screenshot.as_ref().map(|s| s.1.as_str()),
                ]
                .into_iter()
                .flatten()
            })
            .collect();
        keys.sort_unstable();
        for key in keys {
            crate::blob_refs::take(tx, key, 0).await?;
            if !placed.contains_key(key) {
                let size = i64::try_from(size_of(key)?).unwrap_or(i64::MAX);
                crate::blob_refs::record_size(tx, key, size).await?;
                placed.insert(key, size);
            }
        }
        let mut worst: BTreeMap<i64, (i64, Option<&NewTcEvent>)> = BTreeMap::new();
        for e in events.iter().filter(|e| e.rank > 0) {
            let slot = worst.entry(e.run_id).or_default();
            slot.0 = slot.0.max(e.rank);
            // the first failure of the run names its failure group
            if e.rank >= FAILING_RANK && slot.1.is_none() {
                slot.1 = Some(e);
            }
        }
        for (run, (rank, failing)) in worst {
            let failure =
                failing.map(|e| FailureInfo::of(None, e.message.as_deref(), e.detail.as_deref()));
            roll_up(backend, tx, workspace_id, run, rank, now, failure.as_ref()).await?;
        }
        Ok(())
    }
}

/// Ranks from which a verdict is a failure (FAIL, ERROR, FATAL, XPASS).
const FAILING_RANK: i64 = 4;

/// Raises `run`'s result to `rank`, then its ancestors', while they are
/// better; each raised run's insight result follows (a failing step fails
/// its case with the step's signature).
async fn roll_up(
    backend: crate::connect::Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    run: i64,
    rank: i64,
    now: i64,
    failure: Option<&FailureInfo>,
) -> Result<(), StoreError> {
    let status = status_of_rank(rank);
    let (status_id, native_id) = status_ids(conn, workspace_id, status.display_name()).await?;
    let mut current = Some(run);
    while let Some(id) = current {
        let raised = sqlx::query(
            "UPDATE runs SET tc_result = $2, status = $3, status_id = $4, native_status_id = $5, last_modified = $6 \
             WHERE id = $1 AND COALESCE(tc_result, 0) < $2",
        )
        .bind(id)
        .bind(rank)
        .bind(status.key())
        .bind(status_id)
        .bind(native_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if raised == 0 {
            break;
        }
        crate::insight::tc::run_raised(backend, conn, workspace_id, id, rank, failure).await?;
        let row = sqlx::query("SELECT parent_run_id FROM runs WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        current = row.try_get(0)?;
    }
    Ok(())
}
