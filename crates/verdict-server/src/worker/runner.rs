//! Worker loops: claim a task, keep its lease alive while processing, mark
//! it `error` on a system fault. Woken at once by new pushes, and polling
//! now and then for tasks pushed to other nodes or whose lease expired.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use verdict_store::Store;

use super::demand::WriteDemand;
use super::process::process_reporting;
use super::progress::TaskProgress;
use crate::metrics::Metrics;

/// Claims of a task (its first included) after which a system fault ends it
/// `error` instead of requeueing it.
const MAX_ATTEMPTS: i64 = 5;

/// The pause before a task interrupted by a system fault is requeued,
/// times the claims it had.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// How often an idle worker looks for work it was not told about.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// What a node's workers share with its HTTP side.
#[derive(Clone)]
pub struct NodeShared {
    /// Notified on every accepted push.
    pub wake: Arc<Notify>,
    pub progress: Arc<TaskProgress>,
    pub demand: Arc<WriteDemand>,
    pub metrics: Arc<Metrics>,
}

/// Starts `count` workers (0: this node only accepts pushes); they stop
/// when `shutdown` is notified.
pub fn spawn_workers(
    store: Store,
    count: usize,
    lease: Duration,
    shared: &NodeShared,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let node = crate::auth::secrets::generate_secret(6).unwrap_or_else(|_| "node".to_owned());
    (0..count)
        .map(|i| {
            let owner = format!("{node}-{i}");
            tokio::spawn(work(
                store.clone(),
                owner,
                lease,
                shared.clone(),
                shutdown.clone(),
            ))
        })
        .collect()
}

async fn work(
    store: Store,
    owner: String,
    lease: Duration,
    shared: NodeShared,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let NodeShared {
        wake,
        progress,
        demand,
        metrics,
    } = shared;
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(60_000);
    loop {
        if *shutdown.borrow() {
            return;
        }
        match store.claim_task(&owner, lease_ms).await {
            Ok(Some(task)) => {
                // SQLite: this process is the only worker and the single writer is
                // busy with the task itself; orphans are requeued at start instead.
                let renew = (store.backend() == verdict_store::Backend::Postgres).then(|| {
                    tokio::spawn(keep_lease(store.clone(), task.id, owner.clone(), lease))
                });
                let started = std::time::Instant::now();
                let result =
                    process_reporting(&store, &task, &owner, lease_ms, &progress, &demand).await;
                if let Some(renew) = renew {
                    renew.abort();
                }
                let seconds = started.elapsed().as_secs_f64();
                match result {
                    Ok(true) => {
                        tracing::info!(
                            task = task.id,
                            elapsed_ms = started.elapsed().as_millis(),
                            "task processed"
                        );
                        match store.task(task.id).await {
                            Ok(Some(done)) => metrics.task_finished(
                                done.state.as_str(),
                                done.items_total,
                                seconds,
                            ),
                            Ok(None) => {}
                            Err(e) => {
                                tracing::warn!(task = task.id, error = %e, "metrics: reading a finished task failed")
                            }
                        }
                    }
                    Ok(false) => {
                        tracing::warn!(task = task.id, "lease lost; another worker owns the task")
                    }
                    Err(e) => {
                        // A database fault: resume from the last checkpoint a
                        // few times rather than end the task part-applied; with
                        // none committed, start over when the fault may pass
                        // (a restart, a cut connection, a lock held past the
                        // busy timeout, a full disk) rather than end a task
                        // whose payload was accepted `error`.
                        let resumable = e.may_resume()
                            && task.attempts < MAX_ATTEMPTS
                            && (e.may_pass()
                                || matches!(store.task_checkpoint(task.id).await, Ok(Some(_))));
                        if resumable {
                            tracing::warn!(task = task.id, error = %e, attempts = task.attempts, "task interrupted by a system error; it resumes from its last checkpoint, or starts over");
                            // Give a restarting database time before the next claim.
                            let pause = RETRY_PAUSE
                                .saturating_mul(u32::try_from(task.attempts).unwrap_or(1));
                            tokio::select! {
                                () = tokio::time::sleep(pause) => {}
                                _ = shutdown.changed() => {}
                            }
                            if let Err(e) = store.requeue_task(task.id, &owner).await {
                                tracing::error!(task = task.id, error = %e, "could not requeue the task; its lease expires");
                            }
                        } else {
                            tracing::error!(task = task.id, error = %e, "task failed with a system error");
                            metrics.task_finished("error", None, seconds);
                            let details = match &e {
                                super::process::ProcessError::Resume(why) => {
                                    format!("global: the task could not resume: {why}")
                                }
                                _ => "system error while processing; see server log".to_owned(),
                            };
                            if let Err(e) =
                                store.fail_task_with_error(task.id, &owner, &details).await
                            {
                                tracing::error!(task = task.id, error = %e, "could not mark task as error");
                            }
                        }
                    }
                }
                refresh_summaries(&store).await;
                // A push may have arrived meanwhile; look again before sleeping.
                wake.notify_one();
            }
            Ok(None) => {
                refresh_summaries(&store).await;
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    _ = shutdown.changed() => return,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming a task failed; retrying");
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
}

/// Renews the lease at a third of its length until aborted.
/// Brings the cached comparison counts of changed result sets up to date
/// (lists read them; a set's own page computes them live).
async fn refresh_summaries(store: &Store) {
    if let Err(e) = store.refresh_stale_summaries(100).await {
        tracing::warn!(error = %e, "refreshing result-set summaries failed");
    }
}

async fn keep_lease(store: Store, task_id: i64, owner: String, lease: Duration) {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(60_000);
    loop {
        tokio::time::sleep(lease / 3).await;
        match store.renew_lease(task_id, &owner, lease_ms).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(task = task_id, error = %e, "lease renewal failed"),
        }
    }
}
