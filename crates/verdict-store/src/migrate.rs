//! Schema migrations: numbered SQL files per backend, embedded in the binary,
//! applied in order and recorded in `schema_migrations`.

use sqlx::Executor;

use crate::connect::{Backend, Store};
use crate::error::StoreError;

/// (version, sqlite SQL, postgres SQL). Both sets keep the same numbering.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_entities_ci.sql"),
        include_str!("../migrations/postgres/0002_entities_ci.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_testcenter.sql"),
        include_str!("../migrations/postgres/0003_testcenter.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_retries.sql"),
        include_str!("../migrations/postgres/0004_retries.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_safety.sql"),
        include_str!("../migrations/postgres/0005_safety.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_insight.sql"),
        include_str!("../migrations/postgres/0006_insight.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_recent_outcomes.sql"),
        include_str!("../migrations/postgres/0007_recent_outcomes.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_failure_details.sql"),
        include_str!("../migrations/postgres/0008_failure_details.sql"),
    ),
    (
        9,
        include_str!("../migrations/sqlite/0009_task_items.sql"),
        include_str!("../migrations/postgres/0009_task_items.sql"),
    ),
    (
        10,
        include_str!("../migrations/sqlite/0010_ci_plugins.sql"),
        include_str!("../migrations/postgres/0010_ci_plugins.sql"),
    ),
    (
        11,
        include_str!("../migrations/sqlite/0011_entity_counts.sql"),
        include_str!("../migrations/postgres/0011_entity_counts.sql"),
    ),
    (
        12,
        include_str!("../migrations/sqlite/0012_runs_fillfactor.sql"),
        include_str!("../migrations/postgres/0012_runs_fillfactor.sql"),
    ),
    (
        13,
        include_str!("../migrations/sqlite/0013_blob_pins.sql"),
        include_str!("../migrations/postgres/0013_blob_pins.sql"),
    ),
    (
        14,
        include_str!("../migrations/sqlite/0014_retention.sql"),
        include_str!("../migrations/postgres/0014_retention.sql"),
    ),
    (
        15,
        include_str!("../migrations/sqlite/0015_task_checkpoints.sql"),
        include_str!("../migrations/postgres/0015_task_checkpoints.sql"),
    ),
];

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
    let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
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

#[cfg(test)]
mod tests {
    /// Both migration sets describe the same schema: the PostgreSQL file is the
    /// SQLite one with only the type names (and the id sequence) changed, and
    /// a table's storage options (SQLite's `WITHOUT ROWID`, PostgreSQL's
    /// `fillfactor`), which change no column, key or index.
    #[test]
    fn backends_share_one_schema() {
        for (version, sqlite, postgres) in super::all() {
            let normalised: Vec<String> = postgres
                .lines()
                .filter(|l| !l.starts_with("CREATE SEQUENCE entity_ids"))
                .map(|l| {
                    l.replace(
                        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                        "INTEGER PRIMARY KEY AUTOINCREMENT",
                    )
                    .replace("BIGINT", "INTEGER")
                    .replace("BYTEA", "BLOB")
                    .replace(") WITH (fillfactor = 80);", ") WITHOUT ROWID;")
                    .replace("ALTER TABLE runs SET (fillfactor = 70);", "SELECT 1;")
                })
                .skip(2)
                .collect();
            let sqlite: Vec<&str> = sqlite.lines().skip(2).collect();
            assert_eq!(
                normalised, sqlite,
                "migration {version} differs between backends"
            );
        }
    }
}
