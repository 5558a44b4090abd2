//! Request bodies of the push endpoints: spooled to a temporary file as they
//! arrive (constant memory), gunzipped when labelled or recognised as gzip,
//! with limits on the compressed size, the inflated size and the ratio
//! (protocol §2.6).

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_ENCODING;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;

/// A request body safely on disk.
pub struct Spooled {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub gzip: bool,
}

/// Limits for one body.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body: u64,
    pub max_inflated: u64,
}

/// Inflated bytes allowed per compressed byte once past 64 MiB (gzip bombs).
/// Deflate cannot exceed about 1032:1, so the guard must sit well below
/// that to ever fire; real reports compress 5–50:1.
const MAX_RATIO: u64 = 200;

/// Writes the body to a temporary file in `dir`; 413 past `max_body`.
pub async fn spool(
    body: Body,
    headers: &HeaderMap,
    dir: &Path,
    limits: Limits,
) -> Result<Spooled, ApiError> {
    let named = tempfile::NamedTempFile::new_in(dir).map_err(ApiError::internal)?;
    let mut out = tokio::fs::File::from_std(named.reopen().map_err(ApiError::internal)?);
    let mut stream = body.into_data_stream();
    let mut size = 0_u64;
    let mut head: Vec<u8> = Vec::with_capacity(2);
    while let Some(frame) = stream.next().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(
                "platform.invalid_request",
                format!("reading the request body failed: {e}"),
            )
        })?;
        size += frame.len() as u64;
        if size > limits.max_body {
            return Err(ApiError::PayloadTooLarge(format!(
                "request body exceeds the limit of {} bytes",
                limits.max_body
            )));
        }
        if head.len() < 2 {
            head.extend(frame.iter().take(2 - head.len()));
        }
        out.write_all(&frame).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    out.sync_all().await.map_err(ApiError::internal)?;
    let gzip = is_gzip_label(headers) || head == [0x1f, 0x8b];
    Ok(Spooled {
        file: named,
        size,
        gzip,
    })
}

fn is_gzip_label(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "gzip" | "x-gzip" | "application/gzip"
            )
        })
}

/// Why reading the inflated payload stopped.
#[derive(Debug, Default)]
pub struct InflateGuard {
    exceeded: AtomicBool,
}

impl InflateGuard {
    /// True when a limit cut the stream (→ 413 rather than 400).
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }
}

/// The inflated payload as a reader that also hashes what it yields and
/// stops at the limits.
pub fn inflated_reader(
    path: &Path,
    spooled_size: u64,
    gzip: bool,
    limits: Limits,
    guard: Arc<InflateGuard>,
) -> std::io::Result<HashingReader<Box<dyn Read + Send>>> {
    let file = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let inner: Box<dyn Read + Send> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let ratio_cap = spooled_size.saturating_mul(MAX_RATIO).max(64 << 20);
    Ok(HashingReader {
        inner,
        hasher: Sha256::new(),
        read: 0,
        cap: limits.max_inflated.min(ratio_cap),
        guard,
    })
}

/// Hashes (SHA-256) and counts bytes as they are read; errors past `cap`.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
    cap: u64,
    guard: Arc<InflateGuard>,
}

impl<R> HashingReader<R> {
    /// Drains what is left, so the hash covers the whole payload.
    pub fn finish(mut self) -> std::io::Result<([u8; 32], u64)>
    where
        R: Read,
    {
        let mut sink = [0_u8; 1 << 14];
        while self.read(&mut sink)? > 0 {}
        Ok((self.hasher.finalize().into(), self.read))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.cap {
            self.guard.exceeded.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other(format!(
                "inflated payload exceeds {} bytes",
                self.cap
            )));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// JSON bodies (sign-in, entity writes): gunzipped when they start with the
/// gzip magic, at most 64 MiB inflated.
pub fn inflate_small(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(64 << 20)
        .read_to_end(&mut out)
        .map_err(|e| {
            ApiError::bad_request(
                "platform.invalid_request",
                format!("body is not valid gzip: {e}"),
            )
        })?;
    Ok(out)
}
