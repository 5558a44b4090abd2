//! Blob storage for attachments and Test Center files: content-addressed
//! bytes (`ab/cd/<sha256>`) in this node's data directory or in a shared
//! S3-compatible bucket ([`Backend`]). Uploads stream to a local temporary
//! file while being hashed ([`StagedBlob`]), so no blob is ever whole in
//! memory and a refused request leaves nothing (the staged file is deleted
//! when dropped). Writing and deleting bytes is ordered around the
//! reference counts (`verdict_store::blob_refs`): pinned and written before
//! the using transaction, removed after the one that drops the last use.

mod backend;

pub use backend::{Backend, BlobError, BlobUrlError, file_stream};

use std::io::{Read, Write};
use std::path::PathBuf;

use axum::body::Body;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use verdict_store::Store;

use crate::auth::secrets::hex;
use crate::error::ApiError;

/// Content-addressed blobs: where they live and where uploads are staged.
#[derive(Debug, Clone)]
pub struct BlobStore {
    /// Uploads being hashed (this node's disk, whatever the backend).
    staging: PathBuf,
    backend: Backend,
}

impl BlobStore {
    /// Blobs live in `backend`; uploads are staged in `staging` (created
    /// when missing, emptied of a dead process's leftovers).
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(staging: PathBuf, backend: Backend) -> std::io::Result<Self> {
        Self::clear_staging(&staging)?;
        Ok(Self { staging, backend })
    }

    /// For a process that removes but never uploads (`verdict admin
    /// prune`): it must not touch the staging directory of a server that
    /// may be running on the same data directory.
    #[must_use]
    pub fn without_staging(backend: Backend) -> Self {
        Self {
            staging: std::env::temp_dir(),
            backend,
        }
    }

    fn clear_staging(staging: &std::path::Path) -> std::io::Result<()> {
        // Staged uploads of a process that died: nothing references them.
        if staging.is_dir() {
            for entry in std::fs::read_dir(staging)?.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        std::fs::create_dir_all(staging)
    }

    /// Streams a request body into a staged file. 413 past `max`.
    pub async fn stage(&self, body: Body, max: u64) -> Result<StagedBlob, ApiError> {
        self.stage_stream(body.into_data_stream(), max).await
    }

    /// Streams any byte stream (a request body, a multipart field) into a
    /// staged file, hashing it on the way.
    pub async fn stage_stream<S, E>(&self, mut stream: S, max: u64) -> Result<StagedBlob, ApiError>
    where
        S: futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp = tempfile::NamedTempFile::new_in(&self.staging).map_err(ApiError::internal)?;
        let mut out = tokio::fs::File::from_std(tmp.reopen().map_err(ApiError::internal)?);
        let mut hasher = Sha256::new();
        let mut size = 0_u64;
        while let Some(frame) = stream.next().await {
            let frame = frame.map_err(|e| {
                ApiError::bad_request(
                    "platform.invalid_request",
                    format!("reading the upload failed: {e}"),
                )
            })?;
            size += frame.len() as u64;
            if size > max {
                return Err(ApiError::PayloadTooLarge(format!(
                    "attachment exceeds {max} bytes"
                )));
            }
            hasher.update(&frame);
            out.write_all(&frame).await.map_err(ApiError::internal)?;
        }
        out.sync_all().await.map_err(ApiError::internal)?;
        drop(out);
        Ok(StagedBlob {
            key: hex(&hasher.finalize()),
            size,
            // Closes the handle: thousands of staged parts hold no descriptors.
            path: tmp.into_temp_path(),
        })
    }

    /// Stages what a blocking reader yields (an inflating reader over a
    /// spooled request body), hashing it on the way; 413 past `max`. Call it
    /// from `spawn_blocking`.
    pub fn stage_reader(&self, reader: &mut impl Read, max: u64) -> Result<StagedBlob, ApiError> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.staging).map_err(ApiError::internal)?;
        let mut hasher = Sha256::new();
        let mut size = 0_u64;
        let mut buf = vec![0_u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| {
                ApiError::bad_request(
                    "platform.invalid_request",
                    format!("reading the upload failed: {e}"),
                )
            })?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > max {
                return Err(ApiError::PayloadTooLarge(format!(
                    "the upload exceeds {max} bytes"
                )));
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(ApiError::internal)?;
        }
        tmp.as_file().sync_all().map_err(ApiError::internal)?;
        Ok(StagedBlob {
            key: hex(&hasher.finalize()),
            size,
            path: tmp.into_temp_path(),
        })
    }

    /// Pins the staged uploads' keys and writes their bytes (steps 1 of
    /// `verdict_store::blob_refs`): call before the transaction that takes
    /// their references, and give the [`Pinned`] to [`Self::unpin`] after it,
    /// whatever it returned.
    ///
    /// # Errors
    /// Database or blob storage failure (the pins are given back).
    pub async fn pin_and_put(
        &self,
        store: &Store,
        staged: &[&StagedBlob],
    ) -> Result<Pinned, ApiError> {
        let keys: Vec<(&str, i64)> = staged
            .iter()
            .map(|s| (s.key.as_str(), i64::try_from(s.size).unwrap_or(i64::MAX)))
            .collect();
        store.pin_blobs(&keys).await?;
        let pinned = Pinned {
            keys: keys.iter().map(|(k, _)| (*k).to_owned()).collect(),
        };
        for one in staged {
            if let Err(e) = self.backend.put(one).await {
                tracing::error!(key = %one.key, error = %e, "writing a blob failed");
                self.unpin(store, pinned).await;
                return Err(ApiError::internal(e));
            }
        }
        Ok(pinned)
    }

    /// Gives pins back and removes what nothing uses (an upload whose
    /// transaction was refused). Failures are logged: the pins expire and
    /// the sweep removes the rest.
    pub async fn unpin(&self, store: &Store, pinned: Pinned) {
        let keys: Vec<&str> = pinned.keys.iter().map(String::as_str).collect();
        match store.unpin_blobs(&keys).await {
            Ok(unused) => {
                self.remove_unused(store, &unused).await;
            }
            Err(e) => tracing::warn!(error = %e, "giving blob pins back failed; they expire"),
        }
    }

    /// Removes the bytes of keys whose last reference a committed
    /// transaction dropped, unless a new use took them meanwhile. Failures
    /// are logged (the sweep tries again); returns how many went.
    pub async fn remove_unused(&self, store: &Store, keys: &[String]) -> u64 {
        let mut removed = 0;
        for key in keys {
            match self.remove_one(store, key).await {
                Ok(true) => removed += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(%key, error = %e, "removing an unused blob failed"),
            }
        }
        removed
    }

    async fn remove_one(&self, store: &Store, key: &str) -> Result<bool, ApiError> {
        let Some(removal) = store.begin_blob_removal(key, pins_before()).await? else {
            return Ok(false);
        };
        // The row is held (deleted, uncommitted) while the bytes go, so a
        // new upload of them waits and writes them again afterwards; bounded,
        // since on SQLite that row is the only writer.
        match tokio::time::timeout(REMOVAL_TIMEOUT, self.backend.delete(key)).await {
            Ok(done) => done.map_err(ApiError::internal)?,
            Err(_) => {
                return Err(ApiError::Unavailable(format!(
                    "deleting blob {key} took over {} s; the sweep tries again",
                    REMOVAL_TIMEOUT.as_secs()
                )));
            }
        }
        removal.commit().await?;
        Ok(true)
    }

    /// Removes every blob nothing references and no live pin protects (left
    /// by a crash between a commit and its removal, or by a node that died
    /// mid-upload); returns how many went.
    ///
    /// # Errors
    /// Database failure listing them.
    pub async fn sweep(&self, store: &Store) -> Result<u64, ApiError> {
        let mut removed = 0;
        loop {
            let keys = store.unreferenced_blobs(pins_before(), SWEEP_BATCH).await?;
            let batch = self.remove_unused(store, &keys).await;
            removed += batch;
            // A batch where nothing could go (storage failing) ends the
            // round rather than spinning on the same keys.
            if keys.len() < usize::try_from(SWEEP_BATCH).unwrap_or(usize::MAX) || batch == 0 {
                return Ok(removed);
            }
        }
    }

    /// A blob's bytes as a response body, streamed.
    ///
    /// # Errors
    /// 404 when the bytes are missing.
    pub async fn open_blob(&self, key: &str) -> Result<Body, ApiError> {
        self.backend.get(key).await.map_err(|e| match e {
            BlobError::NotFound(_) => {
                ApiError::NotFound("attachment content is missing".to_owned())
            }
            other => ApiError::internal(other),
        })
    }

    /// Where the bytes live.
    #[must_use]
    pub fn backend(&self) -> &Backend {
        &self.backend
    }
}

/// Keys pinned by [`BlobStore::pin_and_put`]; give them to
/// [`BlobStore::unpin`] once the using transaction has ended.
#[must_use = "pins are given back with BlobStore::unpin"]
#[derive(Debug)]
pub struct Pinned {
    keys: Vec<String>,
}

/// A pin older than this (ms) no longer protects its key: the node that
/// took it died mid-upload. Far longer than any upload's write.
const PIN_TTL_MS: i64 = 3600 * 1000;
/// Longest a removal may hold its row while the bytes are deleted.
const REMOVAL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Keys a sweep looks at per query.
const SWEEP_BATCH: i64 = 500;

fn pins_before() -> i64 {
    verdict_store::now_ms().saturating_sub(PIN_TTL_MS)
}

/// An upload hashed into a temporary file, not yet a blob: dropping it
/// deletes the file, so every refused request cleans up after itself.
#[derive(Debug)]
pub struct StagedBlob {
    pub key: String,
    pub size: u64,
    path: tempfile::TempPath,
}

/// How often a node sweeps for blobs nothing uses.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Sweeps at start and every [`SWEEP_EVERY`] until shutdown.
pub fn spawn_sweeper(
    blobs: BlobStore,
    store: Store,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match blobs.sweep(&store).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed blobs nothing uses"),
                Err(e) => tracing::warn!(error = %e, "blob sweep failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}
