//! Schema migrations: numbered SQL files per backend, embedded in the binary,
//! applied in order and recorded in `schema_migrations`.

use sqlx::Executor;

use crate::connect::{Backend, Store};
use crate::error::StoreError;

/// (version, sqlite SQL, postgres SQL). Both sets keep the same numbering.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/postgres/0001_init.sql"),
)];

/// Applies every migration newer than the database's version, each in its own
/// transaction. On PostgreSQL an advisory lock keeps concurrent nodes apart.
pub(crate) async fn apply(store: &Store) -> Result<(), StoreError> {
    let mut conn = store.write.acquire().await?;
    if store.backend == Backend::Postgres {
        conn.execute("SELECT pg_advisory_lock(7301)").await?;
    }
    let result = apply_locked(store, &mut conn).await;
    if store.backend == Backend::Postgres {
        conn.execute("SELECT pg_advisory_unlock(7301)").await?;
    }
    result
}

async fn apply_locked(store: &Store, conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut *conn)
            .await?;
    let current = current.unwrap_or(0);
    for (version, sqlite_sql, postgres_sql) in MIGRATIONS {
        if *version <= current {
            continue;
        }
        let sql = match store.backend {
            Backend::Sqlite => *sqlite_sql,
            Backend::Postgres => *postgres_sql,
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        tx.execute(sql).await?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(crate::now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
    }
    Ok(())
}

/// The embedded migrations, for the schema-comparison test.
#[cfg(test)]
pub(crate) fn all() -> &'static [(i64, &'static str, &'static str)] {
    MIGRATIONS
}
