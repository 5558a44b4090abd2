//! Opening a store from a URL: pools, pragmas and migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

use crate::error::StoreError;
use crate::migrate;

/// Which database a [`Store`] talks to; SQL branches on it where dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database. Cheap to clone (pools are reference-counted).
///
/// SQLite allows one writer at a time, so it gets a dedicated single-connection
/// write pool beside a read pool (and its write transactions take the lock
/// at `BEGIN`: [`begin_write`]); PostgreSQL uses one pool for both.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
    pub(crate) url: String,
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    /// SQLite: a reader copies the WAL back (the server's loop), not the
    /// writer at commit; see [`Store::take_over_wal_checkpoints`].
    pub(crate) wal_by_reader: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// SQLite: the log's length at the last checkpoint (`wal.rs`).
    pub(crate) wal_size: crate::wal::WalSize,
}

/// SQLite's busy timeout on every connection.
pub(crate) const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout=10000;";

/// Begins a write transaction on `pool`. On SQLite it takes the write lock
/// at once (`BEGIN IMMEDIATE`), waiting up to the busy timeout while another
/// process writes (`verdict admin` beside a running server): a deferred
/// transaction that read first fails at its first write, without waiting,
/// when that process committed in between (`SQLITE_BUSY_SNAPSHOT`) —
/// measured, 15 of 300 pushes' tasks ended `error` beside a loop of
/// `verdict admin workspace retain`. PostgreSQL's `BEGIN` waits on locks.
pub(crate) async fn begin_write(
    backend: Backend,
    pool: &AnyPool,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

impl Store {
    /// A write transaction on the writer pool ([`begin_write`]).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        begin_write(self.backend, &self.write).await
    }

    /// Opens (creating if needed) the database at `url` and applies migrations.
    ///
    /// # Errors
    /// Unsupported URL, unreachable database, or a failed migration.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let store = match backend {
            Backend::Sqlite => Self::open_sqlite(url).await?,
            Backend::Postgres => Self::open_postgres(url).await?,
        };
        migrate::apply(&store).await?;
        store.backfill_insight().await?;
        Ok(store)
    }

    async fn open_sqlite(url: &str) -> Result<Self, StoreError> {
        let url = if url.contains('?') {
            url.to_owned()
        } else {
            format!("{url}?mode=rwc")
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let wal_by_reader = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let by_reader = wal_by_reader.clone();
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .test_before_acquire(true)
            .before_acquire(outside_transaction)
            .after_connect(move |conn, meta| {
                let by_reader = by_reader.load(std::sync::atomic::Ordering::Relaxed);
                sqlite_writer_pragmas(conn, meta, by_reader)
            })
            .connect_with(options.clone())
            .await?;
        let read = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(sqlite_pragmas)
            .connect_with(options)
            .await?;
        Ok(Self {
            backend: Backend::Sqlite,
            url,
            read,
            write,
            wal_by_reader,
            wal_size: crate::wal::WalSize::default(),
        })
    }

    async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(true)
            .before_acquire(outside_transaction)
            .connect_with(options)
            .await?;
        Ok(Self {
            backend: Backend::Postgres,
            url: url.to_owned(),
            read: pool.clone(),
            write: pool,
            wal_by_reader: std::sync::Arc::default(),
            wal_size: crate::wal::WalSize::default(),
        })
    }

    /// The URL this store was opened with.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which backend this store uses.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness probe: one round trip to the database.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Closes both pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Whether a pooled connection may be handed out: not when the driver still
/// counts it as inside a transaction. That happens when the database ended a
/// transaction by itself (SQLite does on a full disk at commit) and the
/// driver's ROLLBACK on drop then failed: every later `BEGIN` on it would
/// fail, and with SQLite's single writer every write until a restart. The
/// pool pings a connection before this check, which runs a rollback queued
/// when a transaction was dropped; a refused connection is closed and a new
/// one opened.
fn outside_transaction(
    conn: &mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_core_box::BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        let usable = !conn.is_in_transaction();
        if !usable {
            tracing::warn!(
                "a pooled connection was left inside a transaction the database had ended; it is replaced"
            );
        }
        Ok(usable)
    })
}

/// Per-connection SQLite settings: WAL so readers never block the writer,
/// a busy timeout instead of instant `SQLITE_BUSY`, and enforced foreign keys.
fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_core_box::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        conn.execute(sqlx::AssertSqlSafe(format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; {SQLITE_BUSY_TIMEOUT} \
             PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; \
             PRAGMA journal_size_limit={};",
            crate::wal::KEPT_BYTES
        )))
        .await?;
        Ok(())
    })
}

/// The writer's settings; with `by_reader` it does not copy the WAL back
/// into the database on commit (the connection that commits pays for that,
/// so a short commit after a big one would): the server's loop calls
/// [`Store::checkpoint_wal`] from a reader instead.
fn sqlite_writer_pragmas(
    conn: &mut sqlx::AnyConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
    by_reader: bool,
) -> futures_core_box::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        sqlite_pragmas(conn, meta).await?;
        if by_reader {
            conn.execute("PRAGMA wal_autocheckpoint=0;").await?;
        }
        Ok(())
    })
}

impl Store {
    /// From now on the writer leaves WAL checkpoints to
    /// [`Store::checkpoint_wal`], which the caller runs every few hundred
    /// milliseconds (the server; other processes keep SQLite's default).
    ///
    /// # Errors
    /// Database failure.
    pub async fn take_over_wal_checkpoints(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.wal_by_reader
                .store(true, std::sync::atomic::Ordering::Relaxed);
            let mut conn = self.write.acquire().await?;
            conn.execute("PRAGMA wal_autocheckpoint=0;").await?;
        }
        Ok(())
    }

    /// Copies committed WAL frames into the SQLite database without blocking
    /// the writer (`PRAGMA wal_checkpoint(PASSIVE)` on a reader); the server
    /// runs it every few hundred milliseconds. No-op on PostgreSQL.
    ///
    /// # Errors
    /// Database failure.
    pub async fn checkpoint_wal(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            let mut conn = self.read.acquire().await?;
            let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut *conn)
                .await?;
            self.wal_size.set(frames);
        }
        Ok(())
    }
}

/// `BoxFuture` without pulling in `futures`: the pool callback needs this exact shape.
mod futures_core_box {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

/// Takes the lock that puts a workspace's writers in turn for the rest of the
/// transaction (ingest, Test Center writes, retention): a PostgreSQL
/// advisory lock on the workspace id; SQLite has one writer anyway.
pub(crate) async fn lock_workspace(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(workspace_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test, with its message.
    #![allow(clippy::unwrap_used)]

    /// A transaction SQLite ended by itself — as it does when the disk fills
    /// at commit (seen: a push onto a full disk) — leaves the driver's
    /// ROLLBACK failing and the connection counted as inside a transaction,
    /// so every later write transaction on the single writer failed
    /// ("begin_with at non-zero transaction depth") until a restart. Here
    /// the transaction is ended under the driver's feet by a bare ROLLBACK.
    #[tokio::test]
    async fn a_transaction_sqlite_ended_itself_does_not_wedge_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/v.db", dir.path().display());
        let store = crate::Store::open(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&store.write)
            .await
            .unwrap();
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        drop(tx);
        for n in 2..4 {
            let mut tx = store.begin_write().await.unwrap();
            sqlx::query("INSERT INTO t VALUES ($1)")
                .bind(n)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&store.read)
            .await
            .unwrap();
        assert_eq!(rows, [2, 3]);
        store.close().await;
    }
}
