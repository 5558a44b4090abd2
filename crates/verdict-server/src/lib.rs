//! Verdict's HTTP server: the Octane protocol adapter (sign-in, test-results
//! injection, entity reads), authentication, and the workers that turn queued
//! payloads into tests and runs.
//!
//! [`Server::start`] binds, bootstraps the tenancy and returns once the
//! listener is bound, which is what tests use (`127.0.0.1:0`).

mod api;
mod app;
mod auth;
mod blobs;
mod bootstrap;
mod config;
mod error;
mod http;
mod limits;
pub mod metrics;
mod octane;
mod retention;
mod testcenter;
mod ui;
mod worker;

pub use app::{RunningServer, Server};
pub use auth::secrets::{generate_secret, hash_secret};
pub use auth::tokens::create_token;
pub use blobs::{Backend as BlobBackend, BlobError};
pub use bootstrap::bootstrap;
pub use config::{CiPipelines, ServerConfig};
pub use error::ApiError;
pub use retention::PruneReport;
pub use worker::process::process_claimed_task;

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
    store: &verdict_store::Store,
    workspace: Option<i64>,
    older_than_days: u32,
) -> Result<PruneReport, PruneError> {
    let backend = match &config.blob_url {
        Some(url) => blobs::Backend::from_url(url, &config.blob_options)?,
        None => blobs::Backend::Local(config.data_dir.join("blobs")),
    };
    let mine = backend.describe();
    if let Some(recorded) = store.setting(app::BLOB_LOCATION).await?
        && recorded != mine
        && (recorded.starts_with("s3://") || mine.starts_with("s3://"))
    {
        return Err(PruneError::Blobs(format!(
            "the server keeps blobs in {recorded}, not {mine}: give the same --blob-url (and AWS_* settings) as the server"
        )));
    }
    let blobs = blobs::BlobStore::without_staging(backend);
    let before = verdict_store::now_ms()
        .saturating_sub(i64::from(older_than_days).saturating_mul(86_400_000));
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
        retention::prune_workspace(store, &blobs, id, before, &mut report).await?;
    }
    report.blobs_removed += blobs
        .sweep(store)
        .await
        .map_err(|e| PruneError::Blobs(e.to_string()))?;
    Ok(report)
}
