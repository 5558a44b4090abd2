//! Creating, changing and deleting entities through the entity API
//! (protocol §7.3–§7.5). One request is one transaction: a bulk request
//! either applies whole or reports every failing entity by index.

use std::collections::HashSet;

use super::catalog::{Collection, Field, FieldKind};
use super::write_rules::{cell_of, check_fields, column_of, defaults, insert_link, subtype_for};
use crate::bulk::Cell;
use crate::connect::Store;
use crate::error::StoreError;
use crate::ids;

/// A field value from a request body, already typed by the catalog.
#[derive(Debug, Clone, PartialEq)]
pub enum InputValue {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    /// Epoch milliseconds.
    Date(i64),
    Ref(Option<i64>),
    Multi(Vec<i64>),
}

/// One entity of a request body.
#[derive(Debug, Clone, Default)]
pub struct EntityInput {
    pub subtype: Option<String>,
    pub fields: Vec<(&'static Field, InputValue)>,
}

impl EntityInput {
    pub(super) fn get(&self, name: &str) -> Option<&InputValue> {
        self.fields
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v)
    }

    pub(super) fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(InputValue::Text(t)) => Some(t),
            _ => None,
        }
    }
}

/// Why one entity of a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Breaks a uniqueness rule (a business error, 409).
    Duplicate,
    /// Missing required field, read-only field, or a reference to nothing (400).
    IllegalValue,
    /// The entity to change does not exist (404).
    NotFound,
}

/// One refused entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    pub index: usize,
    pub kind: FailureKind,
    pub message: String,
}

pub(super) fn failure(index: usize, kind: FailureKind, message: String) -> WriteFailure {
    WriteFailure {
        index,
        kind,
        message,
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// Creates entities; returns their ids in order, or every failure (nothing created).
    ///
    /// # Errors
    /// Database failure.
    pub async fn create_entities(
        &self,
        c: &'static Collection,
        workspace_id: i64,
        inputs: &[EntityInput],
    ) -> Result<Result<Vec<i64>, Vec<WriteFailure>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut failures = Vec::new();
        let mut names_in_request = HashSet::new();
        let mut created = Vec::with_capacity(inputs.len());
        for (index, input) in inputs.iter().enumerate() {
            if let Err(f) = self
                .check_create(
                    &mut tx,
                    c,
                    workspace_id,
                    index,
                    input,
                    &mut names_in_request,
                )
                .await?
            {
                failures.push(f);
                continue;
            }
            if failures.is_empty() {
                created.push(self.insert_entity(&mut tx, c, workspace_id, input).await?);
            }
        }
        if !failures.is_empty() {
            tx.rollback().await?;
            return Ok(Err(failures));
        }
        tx.commit().await?;
        Ok(Ok(created))
    }

    async fn check_create(
        &self,
        tx: &mut Tx,
        c: &'static Collection,
        workspace_id: i64,
        index: usize,
        input: &EntityInput,
        names: &mut HashSet<String>,
    ) -> Result<Result<(), WriteFailure>, StoreError> {
        let Some(rules) = c.write else {
            return Ok(Err(failure(
                index,
                FailureKind::IllegalValue,
                format!("{} cannot be created", c.name),
            )));
        };
        for required in rules.required {
            let given = match *required {
                "subtype" => input.subtype.is_some(),
                name => !matches!(
                    input.get(name),
                    None | Some(InputValue::Null | InputValue::Ref(None))
                ),
            };
            if !given {
                let message = format!("field '{required}' is required to create {}", c.entity_type);
                return Ok(Err(failure(index, FailureKind::IllegalValue, message)));
            }
        }
        if let Err(f) = check_fields(tx, c, workspace_id, index, input).await? {
            return Ok(Err(f));
        }
        if let Some(name) = input.text("name") {
            let taken = rules.unique_name
                && (names.contains(name)
                    || self.name_taken(tx, c, workspace_id, name, None).await?);
            if taken {
                let message = format!("{} with name '{name}' already exists", c.entity_type);
                return Ok(Err(failure(index, FailureKind::Duplicate, message)));
            }
            names.insert(name.to_owned());
        }
        if c.table == "ci_servers" {
            let instance = input
                .text("instance_id")
                .or_else(|| input.text("name"))
                .unwrap_or_default();
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM ci_servers WHERE workspace_id = $1 AND instance_id = $2",
            )
            .bind(workspace_id)
            .bind(instance)
            .fetch_one(&mut **tx)
            .await?;
            if n > 0 {
                let message = format!("ci_server with instance_id '{instance}' already exists");
                return Ok(Err(failure(index, FailureKind::Duplicate, message)));
            }
        }
        Ok(Ok(()))
    }

    async fn name_taken(
        &self,
        tx: &mut Tx,
        c: &Collection,
        workspace_id: i64,
        name: &str,
        except: Option<i64>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE workspace_id = $1 AND name = $2 AND id <> $3",
            c.table
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(name)
            .bind(except.unwrap_or(0))
            .fetch_one(&mut **tx)
            .await?;
        Ok(n > 0)
    }

    async fn insert_entity(
        &self,
        tx: &mut Tx,
        c: &'static Collection,
        workspace_id: i64,
        input: &EntityInput,
    ) -> Result<i64, StoreError> {
        let id = ids::allocate(self.backend, tx, 1)
            .await?
            .first()
            .copied()
            .unwrap_or_default();
        let now = crate::now_ms();
        let mut cells: Vec<(&str, Cell<'_>)> = vec![
            ("id", Cell::Int(Some(id))),
            ("workspace_id", Cell::Int(Some(workspace_id))),
        ];
        let subtype = subtype_for(c, input);
        if let Some(subtype) = &subtype {
            cells.push(("subtype", Cell::Text(Some(subtype))));
        }
        let name_key = input.text("name").map(crate::seed::name_key);
        let identity_key = format!("suite\u{1f}{id}");
        for (column, cell) in defaults(c.table, input, now, name_key.as_deref(), &identity_key) {
            cells.push((column, cell));
        }
        let mut links = Vec::new();
        for (field, value) in &input.fields {
            match (field.kind, value) {
                (FieldKind::MultiRef { link, .. }, InputValue::Multi(ids)) => {
                    links.extend(ids.iter().map(|d| (link, *d)));
                }
                (kind, value) => {
                    if let Some(column) = column_of(kind) {
                        cells.retain(|(c, _)| *c != column);
                        cells.push((column, cell_of(value)));
                    }
                }
            }
        }
        let columns: Vec<&str> = cells.iter().map(|(c, _)| *c).collect();
        let row: Vec<Cell<'_>> = cells.into_iter().map(|(_, v)| v).collect();
        crate::bulk::insert_rows(self.backend, tx, c.table, &columns, &[row], false).await?;
        for (link, dst) in links {
            insert_link(tx, workspace_id, id, link, dst).await?;
        }
        Ok(id)
    }

    /// Changes entities (`(id, fields)`), or reports every failure (nothing changed).
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_entities(
        &self,
        c: &'static Collection,
        workspace_id: i64,
        updates: &[(i64, EntityInput)],
    ) -> Result<Result<(), Vec<WriteFailure>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut failures = Vec::new();
        for (index, (id, input)) in updates.iter().enumerate() {
            if !self.entity_exists(&mut tx, c, workspace_id, *id).await? {
                failures.push(failure(
                    index,
                    FailureKind::NotFound,
                    format!("{} {id} not found", c.entity_type),
                ));
                continue;
            }
            if c.write.is_none() {
                failures.push(failure(
                    index,
                    FailureKind::IllegalValue,
                    format!("{} cannot be changed", c.name),
                ));
                continue;
            }
            if let Err(f) = check_fields(&mut tx, c, workspace_id, index, input).await? {
                failures.push(f);
                continue;
            }
            if let Some(name) = input.text("name")
                && c.write.is_some_and(|w| w.unique_name)
                && self
                    .name_taken(&mut tx, c, workspace_id, name, Some(*id))
                    .await?
            {
                let message = format!("{} with name '{name}' already exists", c.entity_type);
                failures.push(failure(index, FailureKind::Duplicate, message));
                continue;
            }
            if failures.is_empty() {
                self.apply_update(&mut tx, c, workspace_id, *id, input)
                    .await?;
            }
        }
        if !failures.is_empty() {
            tx.rollback().await?;
            return Ok(Err(failures));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn apply_update(
        &self,
        tx: &mut Tx,
        c: &Collection,
        workspace_id: i64,
        id: i64,
        input: &EntityInput,
    ) -> Result<(), StoreError> {
        let mut sets: Vec<String> = Vec::new();
        let mut values: Vec<Cell<'_>> = Vec::new();
        let name_key = input.text("name").map(crate::seed::name_key);
        for (field, value) in &input.fields {
            match (field.kind, value) {
                (FieldKind::MultiRef { link, .. }, InputValue::Multi(ids)) => {
                    sqlx::query("DELETE FROM entity_links WHERE src_id = $1 AND field = $2")
                        .bind(id)
                        .bind(link)
                        .execute(&mut **tx)
                        .await?;
                    for dst in ids {
                        insert_link(tx, workspace_id, id, link, *dst).await?;
                    }
                }
                (kind, value) => {
                    if let Some(column) = column_of(kind) {
                        values.push(cell_of(value));
                        sets.push(format!("{column} = ${}", values.len()));
                    }
                }
            }
        }
        if let Some(key) = &name_key
            && matches!(c.table, "taxonomy_nodes")
        {
            values.push(Cell::Text(Some(key)));
            sets.push(format!("name_key = ${}", values.len()));
        }
        if sets.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE {} SET {} WHERE id = ${}",
            c.table,
            sets.join(", "),
            values.len() + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = match v {
                Cell::Int(i) => q.bind(i),
                Cell::Text(t) => q.bind(t.map(str::to_owned)),
            };
        }
        q.bind(id).execute(&mut **tx).await?;
        Ok(())
    }

    async fn entity_exists(
        &self,
        tx: &mut Tx,
        c: &Collection,
        workspace_id: i64,
        id: i64,
    ) -> Result<bool, StoreError> {
        let subtype_clause = if c.subtypes.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = c.subtypes.iter().map(|s| format!("'{s}'")).collect();
            format!(" AND subtype IN ({})", list.join(","))
        };
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE workspace_id = $1 AND id = $2{subtype_clause}",
            c.table
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n > 0)
    }

    /// Deletes entities of the collection by id (links to and from them go too);
    /// returns the ids that existed.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_entities(
        &self,
        c: &'static Collection,
        workspace_id: i64,
        ids: &[i64],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut deleted = Vec::new();
        for id in ids {
            if !self.entity_exists(&mut tx, c, workspace_id, *id).await? {
                continue;
            }
            let sql = format!("DELETE FROM {} WHERE id = $1", c.table);
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(*id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM entity_links WHERE src_id = $1 OR dst_id = $1")
                .bind(*id)
                .execute(&mut *tx)
                .await?;
            deleted.push(*id);
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
