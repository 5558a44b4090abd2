//! Rules of entity writes that need no transaction of their own: which
//! fields a body may set, references that must exist, the subtype and the
//! default columns a new row gets, and how values become SQL cells.

use super::catalog::{Collection, FieldKind, collection_of_table};
use super::write::{EntityInput, FailureKind, InputValue, WriteFailure, failure};
use crate::bulk::Cell;
use crate::error::StoreError;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Read-only fields, and references that point at nothing, are refused.
pub(super) async fn check_fields(
    tx: &mut Tx,
    c: &Collection,
    workspace_id: i64,
    index: usize,
    input: &EntityInput,
) -> Result<Result<(), WriteFailure>, StoreError> {
    let read_only = c.write.map_or(&[][..], |w| w.read_only);
    for (field, value) in &input.fields {
        if read_only.contains(&field.name) || matches!(field.kind, FieldKind::Id) {
            return Ok(Err(failure(
                index,
                FailureKind::IllegalValue,
                format!("field '{}' is read-only", field.name),
            )));
        }
        let (target, ids): (&str, Vec<i64>) = match (field.kind, value) {
            (FieldKind::Ref { target, .. }, InputValue::Ref(Some(id))) => (target, vec![*id]),
            (FieldKind::MultiRef { target, .. }, InputValue::Multi(ids)) => (target, ids.clone()),
            _ => continue,
        };
        for id in ids {
            let sql = format!("SELECT COUNT(*) FROM {target} WHERE workspace_id = $1 AND id = $2");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(workspace_id)
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
            if n == 0 {
                let what = collection_of_table(target).map_or(target, |t| t.entity_type);
                let message = format!("field '{}': {what} {id} not found", field.name);
                return Ok(Err(failure(index, FailureKind::IllegalValue, message)));
            }
        }
    }
    Ok(Ok(()))
}

/// The subtype a new entity gets: the collection's, else the body's, else
/// (taxonomy nodes) item when it names a category.
pub(super) fn subtype_for(c: &Collection, input: &EntityInput) -> Option<String> {
    if let Some(first) = c.subtypes.first() {
        return Some((*first).to_owned());
    }
    if let Some(explicit) = &input.subtype {
        return Some(explicit.clone());
    }
    match c.table {
        "taxonomy_nodes" => Some(
            if matches!(input.get("category"), Some(InputValue::Ref(Some(_)))) {
                "taxonomy_item_node"
            } else {
                "taxonomy_category_node"
            }
            .to_owned(),
        ),
        "executors" => Some("executor".to_owned()),
        _ => None,
    }
}

/// Columns a table needs that the body may leave out.
pub(super) fn defaults<'a>(
    table: &str,
    input: &'a EntityInput,
    now: i64,
    name_key: Option<&'a str>,
    identity_key: &'a str,
) -> Vec<(&'static str, Cell<'a>)> {
    let mut out = Vec::new();
    if table != "taxonomy_nodes" {
        out.push(("creation_time", Cell::Int(Some(now))));
    }
    match table {
        "tests" => {
            out.push(("last_modified", Cell::Int(Some(now))));
            out.push(("identity_key", Cell::Text(Some(identity_key))));
        }
        "taxonomy_nodes" => out.push(("name_key", Cell::Text(name_key))),
        "ci_servers" => {
            out.push(("instance_id", Cell::Text(input.text("name"))));
            out.push(("server_type", Cell::Text(Some("unknown"))));
        }
        "ci_jobs" => out.push(("name", Cell::Text(input.text("ci_id")))),
        _ => {}
    }
    out
}

pub(super) fn column_of(kind: FieldKind) -> Option<&'static str> {
    match kind {
        FieldKind::Text(c) | FieldKind::Int(c) | FieldKind::Bool(c) | FieldKind::Date(c) => Some(c),
        FieldKind::Ref { column, .. } => Some(column),
        FieldKind::Id | FieldKind::MultiRef { .. } => None,
    }
}

pub(super) fn cell_of(value: &InputValue) -> Cell<'_> {
    match value {
        InputValue::Null | InputValue::Ref(None) | InputValue::Multi(_) => Cell::Int(None),
        InputValue::Text(t) => Cell::Text(Some(t)),
        InputValue::Int(i) | InputValue::Date(i) | InputValue::Ref(Some(i)) => Cell::Int(Some(*i)),
        InputValue::Bool(b) => Cell::Int(Some(i64::from(*b))),
    }
}

pub(super) async fn insert_link(
    tx: &mut Tx,
    workspace_id: i64,
    src: i64,
    field: &str,
    dst: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO entity_links (workspace_id, src_id, field, dst_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(workspace_id)
        .bind(src)
        .bind(field)
        .bind(dst)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
