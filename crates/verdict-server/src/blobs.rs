//! Blob storage for attachments: content-addressed files under the data
//! directory (`blobs/ab/cd/<sha256>`). Uploads stream to a temporary file
//! while being hashed ([`StagedBlob`]); the file moves into place only inside
//! the database transaction that takes a reference to it
//! (`verdict_store::blob_refs`), so no blob is ever whole in memory, a
//! half-written upload is never visible, and a refused request leaves
//! nothing on disk (the staged file is deleted when dropped).
//! (S3-compatible storage for multi-node set-ups is not implemented yet.)

use std::io::{Read, Write};
use std::path::PathBuf;

use axum::body::Body;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::auth::secrets::hex;
use crate::error::ApiError;

/// A directory of content-addressed blobs.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Blobs live in `root` (created when missing).
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(root: PathBuf) -> std::io::Result<Self> {
        let tmp = root.join("tmp");
        // Staged uploads of a process that died: nothing references them.
        if tmp.is_dir() {
            for entry in std::fs::read_dir(&tmp)?.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        std::fs::create_dir_all(tmp)?;
        Ok(Self { root })
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        // Keys are our own hex digests; anything else never becomes a path.
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(self.root.join(&key[..2]).join(&key[2..4]).join(key))
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
        let tmp =
            tempfile::NamedTempFile::new_in(self.root.join("tmp")).map_err(ApiError::internal)?;
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
        let mut tmp =
            tempfile::NamedTempFile::new_in(self.root.join("tmp")).map_err(ApiError::internal)?;
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

    /// Moves a staged upload to its content address unless the same bytes
    /// are already there. Called by the store inside the transaction that
    /// holds the blob's reference.
    ///
    /// # Errors
    /// The file cannot be moved.
    pub fn place(&self, staged: &StagedBlob) -> std::io::Result<()> {
        let dest = self
            .path_of(&staged.key)
            .ok_or_else(|| std::io::Error::other("bad blob key"))?;
        if dest.exists() {
            return Ok(());
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&staged.path, &dest)
    }

    /// Removes the file of a blob whose last reference is being dropped
    /// (called by the store before that transaction commits).
    ///
    /// # Errors
    /// The file exists but cannot be removed.
    pub fn remove_now(&self, key: &str) -> std::io::Result<()> {
        let Some(path) = self.path_of(key) else {
            return Ok(());
        };
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Opens a blob for streaming.
    pub async fn open_blob(&self, key: &str) -> Result<tokio::fs::File, ApiError> {
        let path = self
            .path_of(key)
            .ok_or_else(|| ApiError::NotFound("blob not found".to_owned()))?;
        tokio::fs::File::open(&path)
            .await
            .map_err(|_| ApiError::NotFound("attachment content is missing".to_owned()))
    }
}

/// An upload hashed into a temporary file, not yet a blob: dropping it
/// deletes the file, so every refused request cleans up after itself.
#[derive(Debug)]
pub struct StagedBlob {
    pub key: String,
    pub size: u64,
    path: tempfile::TempPath,
}
