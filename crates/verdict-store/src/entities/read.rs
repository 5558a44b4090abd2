//! Paged reads of a collection: count, page, then one query per referenced
//! collection to name the references (no N+1).

use std::collections::{BTreeMap, BTreeSet};

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
        let mut b = SqlBuilder::after(vec![Param::Int(q.workspace_id)]);
        let mut clauses = vec!["t0.workspace_id = $1".to_owned()];
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
        let count_sql = format!("SELECT COUNT(*) FROM {} t0 WHERE {where_sql}", c.table);
        let total_count: i64 = bind_all(
            sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)),
            &b.params,
        )
        .fetch_one(&self.read)
        .await?;

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

    /// Fills multi-references and names every reference of the page.
    async fn resolve_references(
        &self,
        c: &Collection,
        selected: &[&'static Field],
        page: &mut [EntityRow],
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = page.iter().map(|r| r.id).collect();
        for field in selected {
            if let FieldKind::MultiRef { link, target } = field.kind {
                let links = self.links_of(&ids, link).await?;
                for row in page.iter_mut() {
                    let refs = links
                        .get(&row.id)
                        .map(|dsts| dsts.iter().map(|d| bare_ref(target, *d)).collect())
                        .unwrap_or_default();
                    set_field(row, field.name, FieldValue::Multi(refs));
                }
            }
        }
        let mut wanted: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
        for row in page.iter() {
            for (_, v) in &row.fields {
                for r in refs_in(v) {
                    wanted
                        .entry(table_of_type(r.entity_type, c))
                        .or_default()
                        .insert(r.id);
                }
            }
        }
        let mut named: BTreeMap<i64, RefValue> = BTreeMap::new();
        for (table, ids) in wanted {
            for r in self
                .name_refs(table, &ids.into_iter().collect::<Vec<_>>())
                .await?
            {
                named.insert(r.id, r);
            }
        }
        for row in page.iter_mut() {
            for (_, v) in &mut row.fields {
                match v {
                    FieldValue::Ref(Some(r)) => {
                        if let Some(n) = named.get(&r.id) {
                            *r = n.clone();
                        }
                    }
                    FieldValue::Multi(list) => {
                        for r in list.iter_mut() {
                            if let Some(n) = named.get(&r.id) {
                                *r = n.clone();
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Reads `subs` of the entities `field` points at and attaches them to the references.
    async fn add_ref_fields(
        &self,
        c: &Collection,
        workspace_id: i64,
        field: &str,
        subs: &[String],
        page: &mut [EntityRow],
    ) -> Result<(), StoreError> {
        let Some(target) = c.field(field).and_then(|f| match f.kind {
            FieldKind::Ref { target, .. } | FieldKind::MultiRef { target, .. } => {
                collection_of_table(target)
            }
            _ => None,
        }) else {
            return Ok(());
        };
        let wanted: Vec<String> = subs
            .iter()
            .filter(|s| !matches!(s.as_str(), "id" | "type" | "name"))
            .cloned()
            .collect();
        let ids: BTreeSet<i64> = page
            .iter()
            .flat_map(|r| {
                r.fields
                    .iter()
                    .filter(|(n, _)| *n == field)
                    .flat_map(|(_, v)| refs_in(v))
            })
            .map(|r| r.id)
            .collect();
        if wanted.is_empty() || ids.is_empty() {
            return Ok(());
        }
        let filter = Expr::Cond(verdict_domain::query::Condition {
            field: "id".to_owned(),
            op: verdict_domain::query::Op::In,
            values: ids
                .iter()
                .map(|id| verdict_domain::query::Value::Number(*id))
                .collect(),
            position: 0,
        });
        let query = EntityQuery {
            collection: target,
            workspace_id,
            filter: Some(&filter),
            fields: Some(wanted.clone()),
            order_by: Vec::new(),
            limit: i64::try_from(ids.len()).unwrap_or(i64::MAX),
            offset: 0,
            ref_fields: Vec::new(),
        };
        let rows = self.read_entities(&query).await?.rows;
        for row in page.iter_mut() {
            for (name, value) in &mut row.fields {
                if *name != field {
                    continue;
                }
                let refs: Vec<&mut RefValue> = match value {
                    FieldValue::Ref(Some(r)) => vec![r],
                    FieldValue::Multi(list) => list.iter_mut().collect(),
                    _ => Vec::new(),
                };
                for r in refs {
                    if let Some(target_row) = rows.iter().find(|t| t.id == r.id) {
                        r.extra = target_row
                            .fields
                            .iter()
                            .filter(|(n, _)| wanted.iter().any(|w| w == n))
                            .cloned()
                            .collect();
                    }
                }
            }
        }
        Ok(())
    }

    async fn links_of(
        &self,
        ids: &[i64],
        link: &str,
    ) -> Result<BTreeMap<i64, Vec<i64>>, StoreError> {
        let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT src_id, dst_id FROM entity_links WHERE field = {} AND src_id IN ({}) ORDER BY src_id, dst_id",
                crate::bulk::placeholder(self.backend, 1),
                crate::bulk::placeholders(self.backend, 2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(link);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.read).await? {
                out.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// Names (and for list nodes / taxonomies, logical names / categories) of referenced ids.
    async fn name_refs(
        &self,
        table: &'static str,
        ids: &[i64],
    ) -> Result<Vec<RefValue>, StoreError> {
        let Some(target) = collection_of_table(table) else {
            return Ok(Vec::new());
        };
        let extra = match table {
            "list_nodes" => ", logical_name, NULL",
            "taxonomy_nodes" => ", NULL, category_id",
            _ => ", NULL, NULL",
        };
        let subtype = target.subtype_column.unwrap_or("NULL");
        let name = target.name_column.unwrap_or("NULL");
        let mut out = Vec::new();
        let mut categories = BTreeSet::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, {name}{extra}, {subtype} FROM {table} WHERE id IN ({})",
                crate::bulk::placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.read).await? {
                let category: Option<i64> = r.try_get(3)?;
                if let Some(cat) = category {
                    categories.insert(cat);
                }
                out.push(RefValue {
                    entity_type: target.entity_type,
                    subtype: r.try_get(4)?,
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    logical_name: r.try_get(2)?,
                    category: category.map(|id| Box::new(bare_ref("taxonomy_nodes", id))),
                    extra: Vec::new(),
                });
            }
        }
        if !categories.is_empty() {
            let cats = Box::pin(self.name_refs(
                "taxonomy_nodes",
                &categories.into_iter().collect::<Vec<_>>(),
            ))
            .await?;
            for r in &mut out {
                if let Some(cat) = &mut r.category
                    && let Some(named) = cats.iter().find(|c| c.id == cat.id)
                {
                    **cat = named.clone();
                }
            }
        }
        Ok(out)
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

fn bare_ref(table: &str, id: i64) -> RefValue {
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

fn table_of_type(entity_type: &str, fallback: &Collection) -> &'static str {
    super::catalog::COLLECTIONS
        .iter()
        .find(|c| c.entity_type == entity_type)
        .map_or(fallback.table, |c| c.table)
}

fn refs_in(v: &FieldValue) -> Vec<&RefValue> {
    match v {
        FieldValue::Ref(Some(r)) => vec![r],
        FieldValue::Multi(list) => list.iter().collect(),
        _ => Vec::new(),
    }
}

fn set_field(row: &mut EntityRow, name: &str, value: FieldValue) {
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
