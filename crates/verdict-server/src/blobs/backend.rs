//! Where blob bytes live: a directory of this node (the default) or an
//! S3-compatible bucket shared by every node (`--blob-url s3://bucket/prefix`).
//! Both keep a blob at `<root>/ab/cd/<sha256>`; neither knows about
//! references (`super` orders writes and deletes around them).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncReadExt;

use super::StagedBlob;

/// S3 parts (and the buffer before an upload turns multipart): the
/// smallest part S3 accepts. One part buffered while one is in flight: a
/// 50 MiB upload grows the server's peak memory by 14–16 MiB (3–5 MiB with
/// local blobs), whatever the blob's size (tests/large_attachment.rs).
const PART_BYTES: usize = 5 << 20;
const PARTS_IN_FLIGHT: usize = 1;
/// Read size when streaming a staged file to the bucket.
const READ_BYTES: usize = 1 << 20;

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(String),
    #[error("blob storage i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage: {0}")]
    Object(#[from] object_store::Error),
}

/// A blob storage location, as `--blob-url` names it.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A directory of this node.
    Local(PathBuf),
    /// A bucket, and the prefix of our keys in it (no trailing slash).
    Object {
        store: Arc<dyn ObjectStore>,
        prefix: String,
        url: String,
    },
}

/// Why `--blob-url` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BlobUrlError {
    #[error(
        "unsupported blob URL '{0}': use s3://bucket[/prefix] or file:///absolute/path (without --blob-url, blobs live in DATA_DIR/blobs)"
    )]
    Unsupported(String),
    #[error("cannot set up object storage for {url}: {source}")]
    Object {
        url: String,
        source: object_store::Error,
    },
}

impl Backend {
    /// Parses `--blob-url`. `s3://` takes endpoint, region and credentials
    /// from the usual `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); an
    /// `http://` endpoint (a test server, a MinIO on the LAN) is allowed
    /// because the operator named it. `options` (`aws_endpoint`, …) override
    /// the variables.
    ///
    /// # Errors
    /// Another scheme, an empty bucket, an unknown option, or a client that
    /// cannot be built.
    pub fn from_url(url: &str, options: &[(String, String)]) -> Result<Self, BlobUrlError> {
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(BlobUrlError::Unsupported(url.to_owned()));
            }
            return Ok(Self::Local(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(BlobUrlError::Unsupported(url.to_owned()));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        if bucket.is_empty() {
            return Err(BlobUrlError::Unsupported(url.to_owned()));
        }
        // The prefix as object keys spell it: refused at start, not at the
        // first upload (empty segments, `.`/`..`, control characters).
        if !prefix.is_empty() {
            object_store::path::Path::parse(prefix).map_err(|e| BlobUrlError::Object {
                url: url.to_owned(),
                source: e.into(),
            })?;
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in options {
            let key = key.parse().map_err(|source| BlobUrlError::Object {
                url: url.to_owned(),
                source,
            })?;
            builder = builder.with_config(key, value);
        }
        let http_endpoint = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .chain(
                options
                    .iter()
                    .filter(|(k, _)| k.contains("endpoint"))
                    .map(|(_, v)| v.clone()),
            )
            .any(|e| e.starts_with("http://"));
        if http_endpoint {
            builder = builder.with_allow_http(true);
        }
        // Short retries: a removal holds its database row while it deletes.
        let retry = object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(30),
            ..object_store::RetryConfig::default()
        };
        let store = builder
            .with_retry(retry)
            .build()
            .map_err(|source| BlobUrlError::Object {
                url: url.to_owned(),
                source,
            })?;
        Ok(Self::Object {
            store: Arc::new(store),
            prefix: prefix.to_owned(),
            url: url.to_owned(),
        })
    }

    /// The location a server's configuration names: `--blob-url`, else
    /// `DATA_DIR/blobs`.
    ///
    /// # Errors
    /// As [`Self::from_url`].
    pub fn for_config(config: &crate::ServerConfig) -> Result<Self, BlobUrlError> {
        match &config.blob_url {
            Some(url) => Self::from_url(url, &config.blob_options),
            None => Ok(Self::Local(config.data_dir.join("blobs"))),
        }
    }

    /// What the start-up log and errors call this location.
    pub fn describe(&self) -> String {
        match self {
            Self::Local(dir) => dir.display().to_string(),
            Self::Object { url, .. } => url.clone(),
        }
    }

    /// Checks that the location can be used (the bucket exists and the
    /// credentials may list it), so a typo fails the start, not an upload.
    ///
    /// # Errors
    /// The directory cannot be created or the bucket cannot be listed.
    pub async fn check(&self) -> Result<(), BlobError> {
        match self {
            Self::Local(dir) => Ok(std::fs::create_dir_all(dir)?),
            Self::Object { store, prefix, .. } => {
                let at = object_store::path::Path::parse(prefix.as_str())
                    .map_err(|e| BlobError::Object(e.into()))?;
                store.list_with_delimiter(Some(&at)).await?;
                Ok(())
            }
        }
    }

    /// Writes a staged upload under its key unless the same bytes are there.
    ///
    /// # Errors
    /// The bytes cannot be written.
    pub async fn put(&self, staged: &StagedBlob) -> Result<(), BlobError> {
        match self {
            Self::Local(dir) => {
                let dest = local_path(dir, &staged.key)?;
                if dest.exists() {
                    return Ok(());
                }
                if let Some(parent) = dest.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                if tokio::fs::rename(&staged.path, &dest).await.is_ok() {
                    return Ok(());
                }
                // Another file system (`file://` elsewhere, maybe shared by
                // nodes): copy to a name of our own beside the destination,
                // then move it into place whole.
                let parent = dest.parent().unwrap_or(dir).to_owned();
                let tmp =
                    tokio::task::spawn_blocking(move || tempfile::NamedTempFile::new_in(parent))
                        .await
                        .map_err(std::io::Error::other)??
                        .into_temp_path();
                tokio::fs::copy(&staged.path, &tmp).await?;
                tmp.persist(&dest).map_err(|e| e.error)?;
                Ok(())
            }
            Self::Object { store, prefix, .. } => {
                let at = object_path(prefix, &staged.key)?;
                match store.head(&at).await {
                    Ok(_) => return Ok(()),
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                let mut writer =
                    object_store::buffered::BufWriter::with_capacity(store.clone(), at, PART_BYTES)
                        .with_max_concurrency(PARTS_IN_FLIGHT);
                let mut file = tokio::fs::File::open(&staged.path).await?;
                let mut buf = vec![0_u8; READ_BYTES];
                loop {
                    let n = match file.read(&mut buf).await {
                        Ok(n) => n,
                        Err(e) => {
                            let _ = writer.abort().await;
                            return Err(e.into());
                        }
                    };
                    if n == 0 {
                        break;
                    }
                    if let Err(e) = writer.put(Bytes::copy_from_slice(&buf[..n])).await {
                        let _ = writer.abort().await;
                        return Err(e.into());
                    }
                }
                tokio::io::AsyncWriteExt::shutdown(&mut writer).await?;
                Ok(())
            }
        }
    }

    /// The bytes of `key` as a response body, streamed.
    ///
    /// # Errors
    /// `NotFound` when the bytes are missing; other failures.
    pub async fn get(&self, key: &str) -> Result<Body, BlobError> {
        match self {
            Self::Local(dir) => {
                let path = local_path(dir, key)?;
                let file = match tokio::fs::File::open(&path).await {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(BlobError::NotFound(key.to_owned()));
                    }
                    other => other?,
                };
                Ok(Body::from_stream(file_stream(file)))
            }
            Self::Object { store, prefix, .. } => {
                let at = object_path(prefix, key)?;
                let got = match store.get(&at).await {
                    Err(object_store::Error::NotFound { .. }) => {
                        return Err(BlobError::NotFound(key.to_owned()));
                    }
                    other => other?,
                };
                Ok(Body::from_stream(
                    got.into_stream().map(|r| r.map_err(std::io::Error::from)),
                ))
            }
        }
    }

    /// Deletes the bytes of `key`; a missing blob is no error.
    ///
    /// # Errors
    /// The bytes exist but cannot be deleted.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self {
            Self::Local(dir) => match tokio::fs::remove_file(local_path(dir, key)?).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
            Self::Object { store, prefix, .. } => {
                match store.delete(&object_path(prefix, key)?).await {
                    Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Whether the bytes of `key` are stored (tests, `verdict admin`).
    ///
    /// # Errors
    /// The location cannot be read.
    pub async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        match self {
            Self::Local(dir) => Ok(tokio::fs::try_exists(local_path(dir, key)?).await?),
            Self::Object { store, prefix, .. } => {
                match store.head(&object_path(prefix, key)?).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

impl Backend {
    /// Every stored key (tests, the nothing-left-behind checks; `verdict
    /// admin`). Lists the whole location: not for request paths.
    ///
    /// # Errors
    /// The location cannot be listed.
    pub async fn keys(&self) -> Result<Vec<String>, BlobError> {
        let mut out = Vec::new();
        match self {
            Self::Local(dir) => {
                let mut dirs = vec![dir.clone()];
                while let Some(d) = dirs.pop() {
                    let Ok(mut entries) = tokio::fs::read_dir(&d).await else {
                        continue;
                    };
                    while let Some(entry) = entries.next_entry().await? {
                        let path = entry.path();
                        let name = entry.file_name().to_string_lossy().into_owned();
                        if entry.file_type().await?.is_dir() {
                            dirs.push(path);
                        } else if checked(&name).is_ok() {
                            out.push(name);
                        }
                    }
                }
            }
            Self::Object { store, prefix, .. } => {
                let at = object_store::path::Path::parse(prefix.as_str())
                    .map_err(|e| BlobError::Object(e.into()))?;
                let mut listing = store.list(Some(&at));
                while let Some(meta) = listing.next().await {
                    if let Some(name) = meta?.location.filename() {
                        out.push(name.to_owned());
                    }
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }
}

/// Keys are our own hex digests; anything else never becomes a path.
fn checked(key: &str) -> Result<&str, BlobError> {
    if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(key)
    } else {
        Err(BlobError::NotFound(key.chars().take(80).collect()))
    }
}

fn local_path(dir: &Path, key: &str) -> Result<PathBuf, BlobError> {
    let key = checked(key)?;
    Ok(dir.join(&key[..2]).join(&key[2..4]).join(key))
}

fn object_path(prefix: &str, key: &str) -> Result<object_store::path::Path, BlobError> {
    let key = checked(key)?;
    let sub = format!("{}/{}/{key}", &key[..2], &key[2..4]);
    let full = if prefix.is_empty() {
        sub
    } else {
        format!("{prefix}/{sub}")
    };
    object_store::path::Path::parse(full).map_err(|e| BlobError::Object(e.into()))
}

/// A file as a stream of 64 KiB chunks (downloads here, uploads in the CLI).
pub fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
    futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0_u8; 1 << 16];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}
