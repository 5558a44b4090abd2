//! Keeping SQLite's write-ahead log bounded while the writer never rests.
//!
//! A reader copies committed frames back into the database every few
//! hundred milliseconds ([`crate::Store::checkpoint_wal`]), but SQLite only
//! starts the log over when a write transaction begins at a moment when
//! every frame has been copied. A task commits a chunk and begins the next
//! at once, so under steady ingest that moment never came: measured, 100
//! pushes of 10,000 re-runs left a 2 GB log beside a 170 MB database, and
//! every page read searched an ever longer log index (the 100th push ran at
//! a third of the first one's rate). Between two of its transactions the
//! task's writer therefore restarts a log that has grown past
//! [`RESTART_FRAMES`]: it holds the write lock for that (most frames are
//! copied already) and waits at most [`RESTART_WAIT_MS`] for readers still
//! on older frames, else it tries again after the next commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::Executor;

use crate::error::StoreError;

/// Frames in the log (4 KiB pages plus a header each) above which the
/// writer restarts it: about 64 MiB.
pub(crate) const RESTART_FRAMES: i64 = 16_384;

/// How long a restart waits for readers on older frames (it holds the
/// write lock meanwhile).
const RESTART_WAIT_MS: u32 = 100;

/// The file is cut back to this size after a restart (`journal_size_limit`).
pub(crate) const KEPT_BYTES: i64 = 64 << 20;

/// Frames in the log at the reader's last checkpoint (shared by the store's clones).
#[derive(Debug, Clone, Default)]
pub(crate) struct WalSize(Arc<AtomicI64>);

impl WalSize {
    pub(crate) fn set(&self, frames: i64) {
        self.0.store(frames, Ordering::Relaxed);
    }

    fn frames(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Restarts the log from the writer pool's connection when it has grown
/// past [`RESTART_FRAMES`]; call between two write transactions.
pub(crate) async fn restart_if_large(
    pool: &sqlx::AnyPool,
    size: &WalSize,
) -> Result<(), StoreError> {
    if size.frames() < RESTART_FRAMES {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout={RESTART_WAIT_MS};"
    )))
    .await?;
    let restarted: Result<(i64, i64, i64), sqlx::Error> =
        sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&mut *conn)
            .await;
    conn.execute(crate::connect::SQLITE_BUSY_TIMEOUT).await?;
    let (busy, _, _) = restarted?;
    if busy == 0 {
        size.set(0);
    } else {
        tracing::debug!("WAL restart waited for readers in vain; retried after the next commit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that begins its next transaction before the reader's
    /// checkpoint has copied its last commit (a task between two chunks):
    /// without the restart the log held every byte ever written.
    #[tokio::test]
    async fn the_log_stays_bounded_under_a_writer_that_never_rests() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/v.db", dir.path().display());
        let store = crate::Store::open(&url).await.unwrap();
        store.take_over_wal_checkpoints().await.unwrap();
        sqlx::query("CREATE TABLE filler (b BLOB)")
            .execute(&store.write)
            .await
            .unwrap();
        let wal = dir.path().join("v.db-wal");
        let mut largest = 0;
        // 100 transactions of 1 MiB each: 100 MiB through a log kept near 64 MiB
        for _ in 0..100 {
            let mut tx = store.write.begin().await.unwrap();
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256) \
                 INSERT INTO filler SELECT randomblob(4096) FROM n",
            )
            .execute(&mut *tx)
            .await
            .unwrap();
            store.checkpoint_wal().await.unwrap();
            tx.commit().await.unwrap();
            restart_if_large(&store.write, &store.wal_size)
                .await
                .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
        let bound = u64::try_from(KEPT_BYTES).unwrap() + (8 << 20);
        assert!(
            largest < bound,
            "the log reached {largest} bytes (bound {bound})"
        );
        store.close().await;
    }
}
