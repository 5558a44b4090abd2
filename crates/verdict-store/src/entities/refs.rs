//! Naming the references of a page: multi-references from `entity_links`,
//! names (and logical names, categories, concrete types) of every referenced
//! entity in one query per collection, and `ref{field,…}` sub-fields.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use verdict_domain::query::Expr;

use super::catalog::{Collection, Field, FieldKind, collection_of_table};
use super::read::{
    EntityQuery, EntityRow, FieldValue, RefValue, bare_ref, refs_in, set_field, table_of_type,
};
use crate::connect::Store;
use crate::error::StoreError;

impl Store {
    /// Fills multi-references and names every reference of the page.
    pub(super) async fn resolve_references(
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
    pub(super) async fn add_ref_fields(
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
            current_user: None,
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
