//! Reference counts of content-addressed blobs (`blobs` table, schema v5).
//!
//! Blob files are shared by content: an attachment of one tenant and a Test
//! Center screenshot of another may be the same file. Every use takes a
//! reference in the transaction that writes the using row, and the file is
//! made visible (`place`) while that transaction holds the row; dropping the
//! last reference removes the file (`remove`) before the transaction commits.
//! A concurrent upload of the same bytes therefore waits on the row (one
//! writer on SQLite, a row lock on PostgreSQL) and re-creates the file after
//! the delete, never before it.

use sqlx::AnyConnection;

use crate::error::StoreError;

/// Takes one reference to `key` (creating its row at the first use).
pub(crate) async fn take(conn: &mut AnyConnection, key: &str, size: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO blobs (blob_key, size, refs, created) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (blob_key) DO UPDATE SET refs = blobs.refs + 1",
    )
    .bind(key)
    .bind(size)
    .bind(crate::now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
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

/// Drops one reference to `key`; true when it was the last (the row is gone
/// and the caller removes the file before committing). A key without a row
/// (never counted) is kept: leaking a file is better than losing one.
pub(crate) async fn release(conn: &mut AnyConnection, key: &str) -> Result<bool, StoreError> {
    let left: Option<i64> =
        sqlx::query_scalar("UPDATE blobs SET refs = refs - 1 WHERE blob_key = $1 RETURNING refs")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    match left {
        Some(n) if n <= 0 => {
            sqlx::query("DELETE FROM blobs WHERE blob_key = $1")
                .bind(key)
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// References held on `key` (tests and the blob sweep).
pub(crate) async fn count(conn: &mut AnyConnection, key: &str) -> Result<i64, StoreError> {
    let n: Option<i64> = sqlx::query_scalar("SELECT refs FROM blobs WHERE blob_key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(n.unwrap_or(0))
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
}
