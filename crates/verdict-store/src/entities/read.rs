//! Paged reads of a collection: count, page, then one query per referenced
//! collection to name the references (no N+1).

use sqlx::Row;
use verdict_domain::query::{Expr, OrderKey};

use super::catalog::{Collection, Field, FieldKind, collection_of_table};
use super::filter::{Param, SqlBuilder};
use crate::connect::Store;
use crate::error::StoreError;

/// What to read.
#[derive(Debug, Clone)]
pub struct EntityQuery<'a> {
    pub collection: &'static Collection,
    pub workspace_id: i64,
    pub filter: Option<&'a Expr>,
    /// Field names to render (`None`: all fields).
    pub fields: Option<Vec<String>>,
    pub order_by: Vec<OrderKey>,
    pub limit: i64,
    pub offset: i64,
    /// Extra fields wanted on references (`ci_job{ci_id}` → `("ci_job", ["ci_id"])`).
    pub ref_fields: Vec<(String, Vec<String>)>,
    /// The signed-in user, for `[current_user]` in the filter.
    pub current_user: Option<i64>,
}

/// A reference to another entity, as rendered inside an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefValue {
    pub entity_type: &'static str,
    /// The concrete type (`defect`, `test_automated`), which Octane puts in `type`.
    pub subtype: Option<String>,
    pub id: i64,
    pub name: Option<String>,
    /// List nodes carry their logical name.
    pub logical_name: Option<String>,
    /// Taxonomy items carry their category.
    pub category: Option<Box<RefValue>>,
    /// Fields asked for with `ref{field,…}`.
    pub extra: Vec<(&'static str, FieldValue)>,
}

/// A rendered field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    /// Epoch milliseconds.
    Date(i64),
    Ref(Option<RefValue>),
    Multi(Vec<RefValue>),
}

/// One entity: its id, subtype (if any) and the requested fields in catalog order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRow {
    pub entity_type: &'static str,
    /// The concrete type (`defect`, `run_automated`), which Octane puts in `type`.
    pub subtype: Option<String>,
    pub id: i64,
    pub fields: Vec<(&'static str, FieldValue)>,
}

/// A page and the number of matching entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityPage {
    pub total_count: i64,
    pub rows: Vec<EntityRow>,
}

impl Store {
    /// Reads one page of a collection.
    ///
    /// # Errors
    /// Unknown field in `fields`/`order_by`/filter, or a database failure.
    pub async fn read_entities(&self, q: &EntityQuery<'_>) -> Result<EntityPage, StoreError> {
        let c = q.collection;
        let selected = selected_fields(c, q.fields.as_deref())?;
        let mut b = SqlBuilder::new(self.backend, q.workspace_id, q.current_user);
        let mut clauses = vec![b.in_workspace("t0")];
        if !c.subtypes.is_empty() {
            let list: Vec<String> = c
                .subtypes
                .iter()
                .map(|s| b.bind(Param::Text((*s).to_owned())))
                .collect();
            clauses.push(format!("t0.subtype IN ({})", list.join(",")));
        }
        if let Some(expr) = q.filter {
            clauses.push(b.expr(c, "t0", expr)?);
        }
        let where_sql = clauses.join(" AND ");
        let total_count = if q.filter.is_none() && c.table == "previous_runs" {
            // Kept at ingest (schema v11): counting a million rows took
            // 25–95 ms per page, even along an index.
            let kept: Option<i64> = sqlx::query_scalar(
                "SELECT n FROM entity_counts WHERE workspace_id = $1 AND collection = 'previous_runs'",
            )
            .bind(q.workspace_id)
            .fetch_optional(&self.read)
            .await?;
            kept.unwrap_or(0)
        } else {
            let count_sql = format!("SELECT COUNT(*) FROM {} t0 WHERE {where_sql}", c.table);
            bind_all(
                sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)),
                &b.params,
            )
            .fetch_one(&self.read)
            .await?
        };

        let columns = select_columns(c, &selected);
        let order = order_sql(c, &q.order_by)?;
        let page_sql = format!(
            "SELECT {columns} FROM {} t0 WHERE {where_sql} ORDER BY {order} LIMIT {} OFFSET {}",
            c.table,
            q.limit.max(0),
            q.offset.max(0)
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)), &b.params)
            .fetch_all(&self.read)
            .await?;
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            page.push(row_values(c, &selected, row)?);
        }
        self.resolve_references(c, &selected, &mut page).await?;
        for (field, subs) in &q.ref_fields {
            Box::pin(self.add_ref_fields(c, q.workspace_id, field, subs, &mut page)).await?;
        }
        Ok(EntityPage {
            total_count,
            rows: page,
        })
    }
}

fn selected_fields(
    c: &Collection,
    names: Option<&[String]>,
) -> Result<Vec<&'static Field>, StoreError> {
    let all: Vec<&'static Field> = c.fields.iter().collect();
    let Some(names) = names else {
        return Ok(all);
    };
    let mut out = Vec::new();
    for field in all {
        if field.name == "id" || field.name == "subtype" || names.iter().any(|n| n == field.name) {
            out.push(field);
        }
    }
    if let Some(unknown) = names.iter().find(|n| c.field(n).is_none()) {
        return Err(StoreError::InvalidQuery {
            position: 0,
            message: format!("unknown field '{unknown}' of {} in fields", c.name),
        });
    }
    Ok(out)
}

fn select_columns(_c: &Collection, selected: &[&'static Field]) -> String {
    let mut cols = vec!["t0.id".to_owned()];
    for f in selected {
        match f.kind {
            FieldKind::Id | FieldKind::MultiRef { .. } => cols.push("NULL".to_owned()),
            FieldKind::Text(col)
            | FieldKind::Int(col)
            | FieldKind::Bool(col)
            | FieldKind::Date(col) => {
                cols.push(format!("t0.{col}"));
            }
            FieldKind::Ref { column, .. } => cols.push(format!("t0.{column}")),
        }
    }
    cols.join(", ")
}

fn order_sql(c: &Collection, keys: &[OrderKey]) -> Result<String, StoreError> {
    let mut parts = Vec::new();
    for key in keys {
        let field = c
            .field(&key.field)
            .ok_or_else(|| StoreError::InvalidQuery {
                position: 0,
                message: format!("unknown field '{}' of {} in order_by", key.field, c.name),
            })?;
        let col = match field.kind {
            FieldKind::Id => "t0.id".to_owned(),
            FieldKind::Text(col)
            | FieldKind::Int(col)
            | FieldKind::Bool(col)
            | FieldKind::Date(col) => {
                format!("t0.{col}")
            }
            FieldKind::Ref { column, .. } => format!("t0.{column}"),
            FieldKind::MultiRef { .. } => {
                return Err(StoreError::InvalidQuery {
                    position: 0,
                    message: format!("cannot order by multi-valued field '{}'", key.field),
                });
            }
        };
        parts.push(format!(
            "{col} {}",
            if key.descending { "DESC" } else { "ASC" }
        ));
    }
    parts.push("t0.id ASC".to_owned());
    Ok(parts.join(", "))
}

fn row_values(
    c: &Collection,
    selected: &[&'static Field],
    row: &sqlx::any::AnyRow,
) -> Result<EntityRow, StoreError> {
    let id: i64 = row.try_get(0)?;
    let mut fields = Vec::with_capacity(selected.len());
    for (i, f) in selected.iter().enumerate() {
        let at = i + 1;
        let value = match f.kind {
            FieldKind::Id => FieldValue::Text(id.to_string()),
            FieldKind::Text(_) => row
                .try_get::<Option<String>, _>(at)?
                .map_or(FieldValue::Null, FieldValue::Text),
            FieldKind::Int(_) => row
                .try_get::<Option<i64>, _>(at)?
                .map_or(FieldValue::Null, FieldValue::Int),
            FieldKind::Bool(_) => {
                FieldValue::Bool(row.try_get::<Option<i64>, _>(at)?.unwrap_or(0) != 0)
            }
            FieldKind::Date(_) => row
                .try_get::<Option<i64>, _>(at)?
                .map_or(FieldValue::Null, FieldValue::Date),
            FieldKind::Ref { target, .. } => FieldValue::Ref(
                row.try_get::<Option<i64>, _>(at)?
                    .map(|id| bare_ref(target, id)),
            ),
            FieldKind::MultiRef { .. } => FieldValue::Multi(Vec::new()),
        };
        fields.push((f.name, value));
    }
    let subtype = fields.iter().find_map(|(name, v)| match (name, v) {
        (&"subtype", FieldValue::Text(t)) => Some(t.clone()),
        _ => None,
    });
    Ok(EntityRow {
        entity_type: c.entity_type,
        subtype,
        id,
        fields,
    })
}

pub(super) fn bare_ref(table: &str, id: i64) -> RefValue {
    RefValue {
        entity_type: collection_of_table(table).map_or("entity", |c| c.entity_type),
        subtype: None,
        id,
        name: None,
        logical_name: None,
        category: None,
        extra: Vec::new(),
    }
}

pub(super) fn table_of_type(entity_type: &str, fallback: &Collection) -> &'static str {
    super::catalog::COLLECTIONS
        .iter()
        .find(|c| c.entity_type == entity_type)
        .map_or(fallback.table, |c| c.table)
}

pub(super) fn refs_in(v: &FieldValue) -> Vec<&RefValue> {
    match v {
        FieldValue::Ref(Some(r)) => vec![r],
        FieldValue::Multi(list) => list.iter().collect(),
        _ => Vec::new(),
    }
}

pub(super) fn set_field(row: &mut EntityRow, name: &str, value: FieldValue) {
    if let Some(slot) = row.fields.iter_mut().find(|(n, _)| *n == name) {
        slot.1 = value;
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;
type AnyScalar<'q, T> = sqlx::query::QueryScalar<'q, sqlx::Any, T, sqlx::any::AnyArguments>;

trait BindAll: Sized {
    fn bind_param(self, p: &Param) -> Self;
}

impl BindAll for AnyQuery<'_> {
    fn bind_param(self, p: &Param) -> Self {
        match p {
            Param::Int(v) => self.bind(*v),
            Param::Text(v) => self.bind(v.clone()),
        }
    }
}

impl<T> BindAll for AnyScalar<'_, T> {
    fn bind_param(self, p: &Param) -> Self {
        match p {
            Param::Int(v) => self.bind(*v),
            Param::Text(v) => self.bind(v.clone()),
        }
    }
}

fn bind_all<Q: BindAll>(mut q: Q, params: &[Param]) -> Q {
    for p in params {
        q = q.bind_param(p);
    }
    q
}
