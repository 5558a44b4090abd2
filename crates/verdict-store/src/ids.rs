//! Entity id allocation. Ids are allocated before rows are written so that
//! whole batches (tests, runs, links) can be inserted in one statement.
//! One id space serves every entity type, which keeps ids unique across
//! collections (links need no type column).

use crate::connect::Backend;
use crate::error::StoreError;

/// Allocates `n` fresh entity ids inside the caller's transaction.
///
/// SQLite (one writer) bumps a counter row; PostgreSQL draws from a sequence
/// so concurrent transactions never wait on each other.
pub(crate) async fn allocate(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    n: usize,
) -> Result<Vec<i64>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    match backend {
        Backend::Sqlite => {
            let next: i64 = sqlx::query_scalar(
                "UPDATE id_counter SET next_id = next_id + $1 WHERE singleton = 1 RETURNING next_id",
            )
            .bind(count)
            .fetch_one(&mut *conn)
            .await?;
            Ok((next - count..next).collect())
        }
        Backend::Postgres => {
            let ids: Vec<i64> =
                sqlx::query_scalar("SELECT nextval('entity_ids') FROM generate_series(1, $1)")
                    .bind(count)
                    .fetch_all(&mut *conn)
                    .await?;
            Ok(ids)
        }
    }
}
