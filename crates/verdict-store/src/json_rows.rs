//! Many rows through one value. The driver's cost is per value bound or
//! read (for SQLite a copy and a lock on its global allocator each, plus a
//! thread wake-up per row), so 10,000 rows of a look-up cost tens of
//! milliseconds as rows and a few as one aggregated text. Look-up keys go
//! the other way: one bound JSON array instead of thousands of parameters
//! (PostgreSQL also spent 5.6 ms planning a 2,000-literal `IN` list).
//! Rows of values a statement writes or probes with go through
//! `row_params`, in the form each backend reads fastest.

use std::fmt::Write as _;

use serde::de::DeserializeOwned;

use crate::bulk::Cell;
use crate::connect::Backend;
use crate::error::StoreError;

/// Rows (keys, pairs or value rows) per statement's JSON parameter: bounds
/// one statement's bound text.
pub(crate) const ROWS_PER_STATEMENT: usize = 10_000;

/// A select-list expression aggregating every row's `columns` into one JSON
/// array of arrays, read back with [`parse`]. Columns may be text or integer.
pub(crate) fn aggregate(backend: Backend, columns: &[&str]) -> String {
    let list = columns.join(", ");
    match backend {
        Backend::Sqlite => format!("json_group_array(json_array({list}))"),
        Backend::Postgres => format!("CAST(json_agg(json_build_array({list})) AS TEXT)"),
    }
}

/// The rows of an [`aggregate`] value (`None`: PostgreSQL's aggregate of no rows).
pub(crate) fn parse<T: DeserializeOwned>(text: Option<&str>) -> Result<Vec<T>, StoreError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    serde_json::from_str(text).map_err(|e| {
        StoreError::Database(sqlx::Error::Decode(
            format!("aggregated rows unreadable ({e}): '{text:.80}'").into(),
        ))
    })
}

/// The rows of the text keys in a JSON array parameter (made by [`keys`]),
/// each with its 0-based position in the array: a look-up by key returns
/// the position instead of the key's text, which is long (identities,
/// run keys) and would be written, escaped and parsed back once more.
/// SQLite's `json_each` comes first (its positional `?` is the first
/// parameter); its rows are probed one by one with `CROSS JOIN`, where an
/// `IN (SELECT …)` first copied the keys into a temporary index.
pub(crate) fn keyed(backend: Backend) -> (&'static str, &'static str, &'static str) {
    match backend {
        Backend::Sqlite => ("json_each(?) AS q", "q.key", "q.value"),
        Backend::Postgres => (
            "json_array_elements_text(CAST($1 AS json)) WITH ORDINALITY AS q(k, n)",
            "q.n - 1",
            "q.k",
        ),
    }
}

/// A look-up statement with its keys bound, ready for the other parameters.
pub(crate) type KeyedQuery<'q> =
    sqlx::query::QueryScalar<'q, sqlx::Any, Option<String>, sqlx::any::AnyArguments>;

/// Runs a [`keyed`] look-up of `keys` (distinct, [`ROWS_PER_STATEMENT`] per
/// statement): `sql` aggregates its rows ([`aggregate`]) with the key's
/// position first; `bind_rest` binds its parameters after the keys. Each
/// row comes back with the key it names.
pub(crate) async fn look_up<'q, 'k, R: DeserializeOwned>(
    conn: &mut sqlx::AnyConnection,
    sql: &'q str,
    keys: &[&'k str],
    position: impl Fn(&R) -> i64,
    bind_rest: impl Fn(KeyedQuery<'q>) -> KeyedQuery<'q>,
) -> Result<Vec<(&'k str, R)>, StoreError> {
    let mut found = Vec::new();
    for chunk in distinct(keys).chunks(ROWS_PER_STATEMENT) {
        let query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(self::keys(chunk));
        let text = bind_rest(query).fetch_one(&mut *conn).await?;
        for row in parse::<R>(text.as_deref())? {
            found.push((key_at(chunk, position(&row))?, row));
        }
    }
    Ok(found)
}

/// The key at `position` of the keys a look-up sent ([`keyed`]).
fn key_at<'k>(keys: &[&'k str], position: i64) -> Result<&'k str, StoreError> {
    usize::try_from(position)
        .ok()
        .and_then(|p| keys.get(p).copied())
        .ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(
                format!("look-up row names key position {position}, which was not sent").into(),
            ))
        })
}

/// The distinct `keys`, in their first order.
fn distinct<'k>(keys: &[&'k str]) -> Vec<&'k str> {
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    keys.iter().copied().filter(|k| seen.insert(*k)).collect()
}

/// `keys` as one JSON array, bound as a single parameter.
pub(crate) fn keys(keys: &[&str]) -> String {
    serde_json::Value::from(keys.to_vec()).to_string()
}

/// Many small integer rows read as one text value: `a,b,…;a,b,…` (cheaper
/// to read than [`aggregate`]'s JSON when every column is an integer).
pub(crate) fn packed(columns: &[&str]) -> String {
    let fields: Vec<String> = columns
        .iter()
        .map(|c| format!("CAST({c} AS TEXT)"))
        .collect();
    format!("string_agg({}, ';')", fields.join(" || ',' || "))
}

/// The rows of a [`packed`] value.
pub(crate) fn unpack<const N: usize>(text: &str) -> Result<Vec<[i64; N]>, StoreError> {
    let bad = || {
        StoreError::Database(sqlx::Error::Decode(
            format!("packed row of {N} integers expected: '{text:.80}'").into(),
        ))
    };
    text.split(';')
        .filter(|r| !r.is_empty())
        .map(|r| {
            let mut row = [0_i64; N];
            let mut fields = r.split(',');
            for v in &mut row {
                *v = fields.next().and_then(|f| f.parse().ok()).ok_or_else(bad)?;
            }
            if fields.next().is_some() {
                return Err(bad());
            }
            Ok(row)
        })
        .collect()
}

pub(crate) fn join_ints(values: &[i64]) -> String {
    let mut s = String::with_capacity(values.len() * 8);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v}");
    }
    s
}

/// Appends one row of cells to `json` as a JSON array (texts escaped,
/// NULL as `null`).
pub(crate) fn push_cells(json: &mut String, cells: &[Cell<'_>]) {
    json.push('[');
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        match cell {
            Cell::Int(Some(v)) => {
                let _ = write!(json, "{v}");
            }
            Cell::Text(Some(t)) => json.push_str(&serde_json::Value::from(*t).to_string()),
            Cell::Int(None) | Cell::Text(None) => json.push_str("null"),
        }
    }
    json.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_escaped() {
        assert_eq!(
            keys(&distinct(&["a", "b\"c", "a", "ü"])),
            r#"["a","b\"c","ü"]"#
        );
    }

    #[test]
    fn positions_name_the_keys_sent() {
        assert_eq!(key_at(&["a", "b"], 1).unwrap(), "b");
        assert!(key_at(&["a"], 1).is_err());
        assert!(key_at(&["a"], -1).is_err());
    }

    #[test]
    fn aggregated_rows_parse_into_tuples() {
        let rows: Vec<(i64, String, Option<i64>)> =
            parse(Some(r#"[[1,"a\"b",null],[2,"c",7]]"#)).unwrap();
        assert_eq!(
            rows,
            vec![(1, "a\"b".into(), None), (2, "c".into(), Some(7))]
        );
        assert!(parse::<(i64,)>(None).unwrap().is_empty());
        assert!(parse::<(i64,)>(Some("[[\"x\"]]")).is_err());
    }

    #[test]
    fn cells_are_written_as_a_json_array() {
        let mut json = String::new();
        push_cells(
            &mut json,
            &[
                Cell::Int(Some(-1)),
                Cell::Int(None),
                Cell::Text(Some("a\"é")),
                Cell::Text(None),
            ],
        );
        assert_eq!(json, r#"[-1,null,"a\"é",null]"#);
    }

    #[test]
    fn packed_rows_round_trip() {
        assert_eq!(unpack::<2>("1,2;3,4").unwrap(), vec![[1, 2], [3, 4]]);
        assert!(unpack::<2>("1,2,3").is_err());
    }
}
