//! Blob storage for attachments: content-addressed files under the data
//! directory (`blobs/ab/cd/<sha256>`). Uploads stream to a temporary file
//! while being hashed, then move into place, so no blob is ever whole in
//! memory and a half-written upload is never visible.
//! (S3-compatible storage for multi-node set-ups is not implemented yet.)

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
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root })
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        // Keys are our own hex digests; anything else never becomes a path.
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(self.root.join(&key[..2]).join(&key[2..4]).join(key))
    }

    /// Streams a request body into the store; returns (key, size). 413 past `max`.
    pub async fn put(&self, body: Body, max: u64) -> Result<(String, u64), ApiError> {
        self.put_stream(body.into_data_stream(), max).await
    }

    /// Streams any byte stream (a request body, a multipart field) into the store.
    pub async fn put_stream<S, E>(&self, mut stream: S, max: u64) -> Result<(String, u64), ApiError>
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
        let key = hex(&hasher.finalize());
        let dest = self
            .path_of(&key)
            .ok_or_else(|| ApiError::internal(std::io::Error::other("bad blob key")))?;
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(ApiError::internal)?;
        }
        tmp.persist(&dest)
            .map_err(|e| ApiError::internal(e.error))?;
        Ok((key, size))
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

    /// Removes a blob no attachment uses any more.
    pub async fn remove(&self, key: &str) {
        if let Some(path) = self.path_of(key)
            && let Err(e) = tokio::fs::remove_file(&path).await
        {
            tracing::warn!(key, error = %e, "could not remove blob");
        }
    }
}
