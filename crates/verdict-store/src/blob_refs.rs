//! Reference counts of content-addressed blobs (`blobs` table, schema v5,
//! pins since v13).
//!
//! Blob bytes are shared by content: an attachment of one tenant and a Test
//! Center screenshot of another may be the same object. Every use takes a
//! reference in the transaction that writes the using row. The bytes may
//! live in shared object storage, which no transaction covers, so their
//! life is ordered around the row instead:
//!
//! 1. an upload **pins** its key in a transaction of its own (the row is
//!    created with no reference if new), and only then writes the bytes;
//! 2. the using transaction takes its reference; the uploader unpins after
//!    it, whether it committed or not;
//! 3. a row with no reference and no live pin is **removed**: one
//!    transaction deletes the row, the caller deletes the bytes, then it
//!    commits ([`BlobRemoval`]).
//!
//! A pin that waits for a removal's row lock (one writer on SQLite, a row
//! lock on PostgreSQL) therefore writes its bytes after they were deleted,
//! never before; a removal never sees a pinned or referenced row. A pin
//! older than the caller's cut-off (a node that died mid-upload) no longer
//! protects its key.

use sqlx::AnyConnection;

use crate::error::StoreError;

/// Takes one reference to `key`, which the caller pinned (and wrote)
/// before. A row that is gone means the pin was taken for stale and the
/// bytes removed: the request fails rather than reference missing bytes.
pub(crate) async fn take(conn: &mut AnyConnection, key: &str, size: i64) -> Result<(), StoreError> {
    let taken = sqlx::query(
        "UPDATE blobs SET refs = refs + 1, size = CASE WHEN size < $2 THEN $2 ELSE size END \
         WHERE blob_key = $1 AND (refs > 0 OR pins > 0)",
    )
    .bind(key)
    .bind(size)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if taken == 1 {
        Ok(())
    } else {
        Err(StoreError::Retry(format!(
            "the upload's bytes ({key}) are no longer stored; send the request again"
        )))
    }
}

/// Records the size of a blob whose first reference was taken before its
/// size was known.
pub(crate) async fn record_size(
    conn: &mut AnyConnection,
    key: &str,
    size: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE blobs SET size = $2 WHERE blob_key = $1 AND size < $2")
        .bind(key)
        .bind(size)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Drops one reference to `key`; true when it was the last. The row stays
/// (with no reference) until a removal takes it and the bytes after the
/// caller's commit. A key without a row (never counted) is kept: leaking
/// bytes is better than losing them.
pub(crate) async fn release(conn: &mut AnyConnection, key: &str) -> Result<bool, StoreError> {
    let left: Option<i64> =
        sqlx::query_scalar("UPDATE blobs SET refs = refs - 1 WHERE blob_key = $1 RETURNING refs")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(matches!(left, Some(n) if n <= 0))
}

/// References held on `key`.
pub(crate) async fn count(conn: &mut AnyConnection, key: &str) -> Result<i64, StoreError> {
    let n: Option<i64> = sqlx::query_scalar("SELECT refs FROM blobs WHERE blob_key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(n.unwrap_or(0).max(0))
}

/// A blob row deleted in an open transaction: delete the bytes, then
/// [`commit`](Self::commit). Dropped without a commit, the row comes back
/// and a later sweep tries again.
pub struct BlobRemoval {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The key whose bytes go.
    pub key: String,
}

impl std::fmt::Debug for BlobRemoval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRemoval")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl BlobRemoval {
    /// Ends the removal once the bytes are gone.
    ///
    /// # Errors
    /// Database failure (the row then stays, pointing at no bytes, and the
    /// next sweep removes it again, which is harmless).
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl crate::Store {
    /// References held on a blob; 0 for an unknown key.
    ///
    /// # Errors
    /// Database failure.
    pub async fn blob_refs(&self, key: &str) -> Result<i64, StoreError> {
        let mut conn = self.read.acquire().await?;
        count(&mut conn, key).await
    }

    /// Pins every key (step 1 of the module's order) in one committed
    /// transaction, in key order so two uploads never wait on each other in
    /// a cycle. Call before writing the bytes.
    ///
    /// # Errors
    /// Database failure.
    pub async fn pin_blobs(&self, keys: &[(&str, i64)]) -> Result<(), StoreError> {
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        sorted.dedup_by(|a, b| a.0 == b.0);
        let now = crate::now_ms();
        // A node whose clock is behind never moves a pin back in time.
        let latest = match self.backend {
            crate::connect::Backend::Sqlite => "MAX(blobs.pinned_at, excluded.pinned_at)",
            crate::connect::Backend::Postgres => "GREATEST(blobs.pinned_at, excluded.pinned_at)",
        };
        let sql = format!(
            "INSERT INTO blobs (blob_key, size, refs, created, pins, pinned_at) \
             VALUES ($1, $2, 0, $3, 1, $3) \
             ON CONFLICT (blob_key) DO UPDATE SET pins = blobs.pins + 1, pinned_at = {latest}"
        );
        let mut tx = self.begin_write().await?;
        for (key, size) in sorted {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(key)
                .bind(size)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives pins back (step 2, after the using transaction ended either
    /// way); returns the keys left with no reference and no pin, for the
    /// caller to remove.
    ///
    /// # Errors
    /// Database failure (the pins then expire on their own).
    pub async fn unpin_blobs(&self, keys: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut tx = self.begin_write().await?;
        let mut unused = Vec::new();
        for key in sorted {
            let left: Option<(i64, i64)> = sqlx::query_as(
                "UPDATE blobs SET pins = CASE WHEN pins > 0 THEN pins - 1 ELSE 0 END \
                 WHERE blob_key = $1 RETURNING refs, pins",
            )
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if matches!(left, Some((refs, pins)) if refs <= 0 && pins <= 0) {
                unused.push(key.to_owned());
            }
        }
        tx.commit().await?;
        Ok(unused)
    }

    /// Starts removing `key` (step 3) when nothing references it and no pin
    /// newer than `pins_before` (ms) protects it; `None` otherwise.
    ///
    /// # Errors
    /// Database failure.
    pub async fn begin_blob_removal(
        &self,
        key: &str,
        pins_before: i64,
    ) -> Result<Option<BlobRemoval>, StoreError> {
        let mut tx = self.begin_write().await?;
        let gone: Option<String> = sqlx::query_scalar(
            "DELETE FROM blobs WHERE blob_key = $1 AND refs <= 0 \
             AND (pins <= 0 OR pinned_at < $2) RETURNING blob_key",
        )
        .bind(key)
        .bind(pins_before)
        .fetch_optional(&mut *tx)
        .await?;
        Ok(gone.map(|key| BlobRemoval { tx, key }))
    }

    /// Up to `limit` keys a sweep may remove: no reference, and no pin newer
    /// than `pins_before` (ms).
    ///
    /// # Errors
    /// Database failure.
    pub async fn unreferenced_blobs(
        &self,
        pins_before: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT blob_key FROM blobs WHERE refs <= 0 AND (pins <= 0 OR pinned_at < $1) \
             ORDER BY blob_key LIMIT $2",
        )
        .bind(pins_before)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }
}
