//! Many rows of values sent with one statement, read by it as a table
//! (`FROM (…) v`, columns `c0`, `c1`, …), the form each backend reads fastest:
//!
//! - PostgreSQL: one `jsonb` parameter, a JSON array of arrays. A `VALUES`
//!   list of parameters made it plan for 4.7 ms per 500 rows and hash-join
//!   against a scan of the whole table; the array's rows are probed by key.
//! - SQLite: a `VALUES` list of bound `?` parameters. Its JSON functions
//!   render every element of an array of arrays back to text and parse it
//!   again for each column read: updating 10,000 last runs through
//!   `json_each` took 51 ms, through bound `VALUES` 21 ms (the statement
//!   text is the same for every full chunk, so it is prepared once).
//!
//! A statement's parameters are only these rows, so SQLite's positional `?`
//! never mixes with other parameters.

use sqlx::Row;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::bulk::Cell;
use crate::connect::Backend;
use crate::error::StoreError;
use crate::json_rows;

/// The type a column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
}

/// SQLite rows per statement: more gains little (measured 2,000 against
/// 500 rows for the last-run update) and stays under 32,766 parameters.
const SQLITE_ROWS: usize = 500;
const SQLITE_PARAMS: usize = 30_000;

/// A statement's rows are sent once their texts reach this size: a run's
/// texts may hold up to 1 MiB each (docs/security.md), PostgreSQL refuses a
/// parameter over 1 GB, and the rows' copy in the driver stays bounded.
pub(crate) const MAX_BYTES: usize = 16 << 20;

/// The subquery reading `rows` rows of `kinds` columns as `c0`, `c1`, …
pub(crate) fn source(backend: Backend, kinds: &[Kind], rows: usize) -> String {
    match backend {
        Backend::Sqlite => {
            let picks: Vec<String> = (0..kinds.len())
                .map(|i| format!("column{} AS c{i}", i + 1))
                .collect();
            let row = format!("({})", vec!["?"; kinds.len()].join(","));
            format!(
                "SELECT {} FROM (VALUES {})",
                picks.join(", "),
                vec![row; rows.max(1)].join(",")
            )
        }
        Backend::Postgres => {
            let picks: Vec<String> = kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| match kind {
                    Kind::Int => format!("CAST(e->>{i} AS BIGINT) AS c{i}"),
                    Kind::Text => format!("e->>{i} AS c{i}"),
                })
                .collect();
            format!(
                "SELECT {} FROM jsonb_array_elements(CAST($1 AS jsonb)) AS e",
                picks.join(", ")
            )
        }
    }
}

/// A join that finds, for every row of a [`source`], the one row of
/// `table` (as `alias`) meeting `condition` — a unique key — by probing
/// its index row by row on both backends. SQLite keeps `CROSS JOIN`'s
/// order (the other order re-read the rows once per table row);
/// PostgreSQL, which believes a `jsonb` array holds 100 rows, chose a hash
/// join over every row of the workspace instead (measured on 10,000 recent
/// outcomes: the whole context read for every 2,000 looked up), so each
/// probe is a `LATERAL` subquery.
pub(crate) fn probe_unique(backend: Backend, table: &str, alias: &str, condition: &str) -> String {
    match backend {
        Backend::Sqlite => format!("CROSS JOIN {table} {alias} ON ({condition})"),
        Backend::Postgres => format!(
            "CROSS JOIN LATERAL (SELECT * FROM {table} {alias} WHERE {condition} LIMIT 1) {alias}"
        ),
    }
}

/// `rows` split into the statements that send them: by count (SQLite's
/// parameter limit, [`json_rows::ROWS_PER_STATEMENT`] on PostgreSQL) and by
/// the size of their texts ([`MAX_BYTES`]).
fn chunks<'r, 'c>(
    backend: Backend,
    columns: usize,
    rows: &'r [Vec<Cell<'c>>],
) -> Vec<&'r [Vec<Cell<'c>>]> {
    let per_statement = match backend {
        Backend::Sqlite => (SQLITE_PARAMS / columns.max(1)).clamp(1, SQLITE_ROWS),
        Backend::Postgres => json_rows::ROWS_PER_STATEMENT,
    };
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, row) in rows.iter().enumerate() {
        bytes += row
            .iter()
            .map(|c| match c {
                Cell::Text(Some(t)) => t.len(),
                _ => 8,
            })
            .sum::<usize>();
        if i + 1 - start == per_statement || bytes >= MAX_BYTES {
            out.push(&rows[start..=i]);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// Binds one chunk of rows as [`source`] reads them.
fn bind<'q>(
    backend: Backend,
    mut query: Query<'q, sqlx::Any, AnyArguments>,
    rows: &[Vec<Cell<'q>>],
) -> Query<'q, sqlx::Any, AnyArguments> {
    match backend {
        Backend::Sqlite => {
            for row in rows {
                for cell in row {
                    query = match cell {
                        Cell::Int(v) => query.bind(*v),
                        Cell::Text(v) => query.bind(*v),
                    };
                }
            }
            query
        }
        Backend::Postgres => {
            let mut json = String::from("[");
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json_rows::push_cells(&mut json, row);
            }
            json.push(']');
            query.bind(json)
        }
    }
}

/// Runs `sql_for(source)` once per chunk of `rows` (columns of `kinds`),
/// `source` being the subquery that reads the chunk ([`source`]).
pub(crate) async fn execute(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    kinds: &[Kind],
    rows: &[Vec<Cell<'_>>],
    sql_for: impl Fn(&str) -> String,
) -> Result<(), StoreError> {
    for chunk in chunks(backend, kinds.len(), rows) {
        let sql = sql_for(&source(backend, kinds, chunk.len()));
        bind(backend, sqlx::query(sqlx::AssertSqlSafe(sql)), chunk)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// As [`execute`], for a statement answering one text value (an aggregate
/// of its rows): the value of each chunk.
pub(crate) async fn fetch_texts(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    kinds: &[Kind],
    rows: &[Vec<Cell<'_>>],
    sql_for: impl Fn(&str) -> String,
) -> Result<Vec<Option<String>>, StoreError> {
    let mut out = Vec::new();
    for chunk in chunks(backend, kinds.len(), rows) {
        let sql = sql_for(&source(backend, kinds, chunk.len()));
        let row = bind(backend, sqlx::query(sqlx::AssertSqlSafe(sql)), chunk)
            .fetch_one(&mut *conn)
            .await?;
        out.push(row.try_get(0)?);
    }
    Ok(out)
}

/// Integer rows as cells.
pub(crate) fn int_cells<const N: usize>(
    rows: impl Iterator<Item = [i64; N]>,
) -> Vec<Vec<Cell<'static>>> {
    rows.map(|r| r.iter().map(|v| Cell::Int(Some(*v))).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_columns_alike_on_both_backends() {
        assert_eq!(
            source(Backend::Sqlite, &[Kind::Int, Kind::Text], 2),
            "SELECT column1 AS c0, column2 AS c1 FROM (VALUES (?,?),(?,?))"
        );
        assert_eq!(
            source(Backend::Postgres, &[Kind::Int, Kind::Text], 2),
            "SELECT CAST(e->>0 AS BIGINT) AS c0, e->>1 AS c1 FROM jsonb_array_elements(CAST($1 AS jsonb)) AS e"
        );
    }

    #[test]
    fn probes_keep_the_rows_order_on_sqlite_and_go_lateral_on_postgres() {
        assert_eq!(
            probe_unique(Backend::Sqlite, "runs", "r", "r.id = m.c1"),
            "CROSS JOIN runs r ON (r.id = m.c1)"
        );
        assert_eq!(
            probe_unique(Backend::Postgres, "runs", "r", "r.id = m.c1"),
            "CROSS JOIN LATERAL (SELECT * FROM runs r WHERE r.id = m.c1 LIMIT 1) r"
        );
    }

    #[test]
    fn chunks_split_by_count_and_by_bytes() {
        let rows = int_cells((0..1201).map(|i| [i, i]));
        let sizes: Vec<usize> = chunks(Backend::Sqlite, 2, &rows)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, vec![500, 500, 201]);
        assert_eq!(chunks(Backend::Postgres, 2, &rows).len(), 1);
        let big = "x".repeat(MAX_BYTES / 2);
        let rows: Vec<Vec<Cell<'_>>> = (0..5).map(|_| vec![Cell::Text(Some(&big))]).collect();
        let sizes: Vec<usize> = chunks(Backend::Postgres, 1, &rows)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, vec![2, 2, 1]);
        assert!(chunks(Backend::Sqlite, 3, &[]).is_empty());
    }
}
