//! Retention: each workspace's history older than its policy (its own days,
//! or the server's `--retain-days`) is pruned every hour by every node, and
//! on demand by `verdict admin prune`. The store deletes the rows in small
//! transactions; the bytes of blobs nothing uses any more go after.

use std::time::Duration;

use verdict_store::{PruneCounts, Retention, Store, StoreError};

use crate::blobs::{self, BlobStore};
use crate::config::ServerConfig;

/// How often a node applies the retention policies.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const DAY_MS: i64 = 86_400_000;

/// What a prune removed, over every workspace it touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub workspaces: u64,
    pub previous_runs: u64,
    pub tc_reports: u64,
    pub tc_runs: u64,
    pub tc_events: u64,
    pub attachments: u64,
    pub tasks: u64,
    /// Blobs whose bytes were deleted.
    pub blobs_removed: u64,
}

impl PruneReport {
    fn add(&mut self, workspace: i64, counts: &PruneCounts, blobs_removed: u64) {
        // 0 holds CI pushes' tasks, not a workspace anyone sees.
        if workspace != 0 {
            self.workspaces += 1;
        }
        self.previous_runs += counts.previous_runs;
        self.tc_reports += counts.tc_reports;
        self.tc_runs += counts.tc_runs;
        self.tc_events += counts.tc_events;
        self.attachments += counts.attachments;
        self.tasks += counts.tasks;
        self.blobs_removed += blobs_removed;
    }
}

/// Prunes one workspace's history from before `before` (ms) and removes the
/// bytes nothing uses any more.
///
/// # Errors
/// Database failure.
pub async fn prune_workspace(
    store: &Store,
    blobs: &BlobStore,
    workspace: i64,
    before: i64,
    report: &mut PruneReport,
) -> Result<(), StoreError> {
    let counts = store.prune_workspace(workspace, before).await?;
    let removed = blobs.remove_unused(store, &counts.unused_blobs).await;
    report.add(workspace, &counts, removed);
    Ok(())
}

/// The cut-off (ms) for a workspace under `policy`, or `None` to keep all.
fn cutoff(policy: Retention, server_days: Option<u32>, now: i64) -> Option<i64> {
    let days = match policy {
        Retention::Forever => return None,
        Retention::Days(d) => d,
        Retention::ServerDefault => server_days?,
    };
    Some(days_ago(days, now))
}

/// `now` (ms) less `days` days.
fn days_ago(days: u32, now: i64) -> i64 {
    now.saturating_sub(i64::from(days).saturating_mul(DAY_MS))
}

/// Applies every workspace's policy once.
///
/// # Errors
/// Database failure.
pub async fn apply_policies(
    store: &Store,
    blobs: &BlobStore,
    server_days: Option<u32>,
) -> Result<PruneReport, StoreError> {
    let now = verdict_store::now_ms();
    let mut report = PruneReport::default();
    let policies = store.retention_policies().await?;
    // CI pushes' tasks belong to no workspace (0): the server's days apply.
    let ci_tasks = std::iter::once((0, Retention::ServerDefault));
    for (workspace, policy) in policies.into_iter().chain(ci_tasks) {
        if let Some(before) = cutoff(policy, server_days, now) {
            prune_workspace(store, blobs, workspace, before, &mut report).await?;
        }
    }
    Ok(report)
}

/// Applies the policies at start and every [`PRUNE_EVERY`] until shutdown.
pub fn spawn_pruner(
    store: Store,
    blobs: BlobStore,
    server_days: Option<u32>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match apply_policies(&store, &blobs, server_days).await {
                Ok(r) if r.previous_runs + r.tc_reports + r.tasks > 0 => tracing::info!(
                    previous_runs = r.previous_runs,
                    tc_reports = r.tc_reports,
                    tc_runs = r.tc_runs,
                    tasks = r.tasks,
                    blobs_removed = r.blobs_removed,
                    "retention pruned old history"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention prune failed; retried in an hour"),
            }
            tokio::select! {
                () = tokio::time::sleep(PRUNE_EVERY) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

/// Why `verdict admin prune` could not run.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    BlobUrl(#[from] blobs::BlobUrlError),
    #[error(transparent)]
    Store(#[from] verdict_store::StoreError),
    #[error("{0}")]
    Blobs(String),
}

/// `verdict admin prune`: deletes the history older than `older_than_days`
/// of one workspace or of all, then sweeps unused blobs; safe while servers
/// run (the blob order of `docs/adr/0003-blob-storage.md` holds across
/// processes). Blobs are found as the server's `config` says.
///
/// # Errors
/// Database or blob storage failure.
pub async fn prune_now(
    config: &ServerConfig,
    store: &Store,
    workspace: Option<i64>,
    older_than_days: u32,
) -> Result<PruneReport, PruneError> {
    let backend = blobs::Backend::for_config(config)?;
    let mine = backend.describe();
    if let Some(recorded) = store.setting(crate::app::BLOB_LOCATION).await?
        && recorded != mine
        && (recorded.starts_with("s3://") || mine.starts_with("s3://"))
    {
        return Err(PruneError::Blobs(format!(
            "the server keeps blobs in {recorded}, not {mine}: give the same --blob-url (and AWS_* settings) as the server"
        )));
    }
    let blobs = blobs::BlobStore::without_staging(backend);
    let before = days_ago(older_than_days, verdict_store::now_ms());
    let mut report = PruneReport::default();
    let workspaces: Vec<i64> = match workspace {
        Some(id) => vec![id],
        None => store
            .retention_policies()
            .await?
            .into_iter()
            .map(|(id, _)| id)
            // CI pushes' tasks belong to no workspace until processed.
            .chain(std::iter::once(0))
            .collect(),
    };
    for id in workspaces {
        prune_workspace(store, &blobs, id, before, &mut report).await?;
    }
    report.blobs_removed += blobs
        .sweep(store)
        .await
        .map_err(|e| PruneError::Blobs(e.to_string()))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_follow_the_workspace_then_the_server() {
        let now = 100 * DAY_MS;
        assert_eq!(cutoff(Retention::Forever, Some(1), now), None);
        assert_eq!(cutoff(Retention::ServerDefault, None, now), None);
        assert_eq!(
            cutoff(Retention::ServerDefault, Some(30), now),
            Some(70 * DAY_MS)
        );
        assert_eq!(cutoff(Retention::Days(7), None, now), Some(93 * DAY_MS));
        assert_eq!(cutoff(Retention::Days(7), Some(30), now), Some(93 * DAY_MS));
        assert!(cutoff(Retention::Days(u32::MAX), None, now).is_some_and(|c| c < 0));
    }
}
