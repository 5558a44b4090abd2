//! Attachment rows: a name, an owner (work item, test or run) and the key of
//! the blob holding the bytes (the blob store is the server's).

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;
use crate::ids;

/// Which kind of entity owns an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentOwner {
    WorkItem(i64),
    Test(i64),
    Run(i64),
    /// A CI build (its console log, coverage reports).
    CiBuild(i64),
}

impl AttachmentOwner {
    /// The owner's entity id.
    #[must_use]
    pub fn id(self) -> i64 {
        self.column_and_table().2
    }

    fn column_and_table(self) -> (&'static str, &'static str, i64) {
        match self {
            Self::WorkItem(id) => ("owner_work_item_id", "work_items", id),
            Self::Test(id) => ("owner_test_id", "tests", id),
            Self::Run(id) => ("owner_run_id", "runs", id),
            Self::CiBuild(id) => ("owner_ci_build_id", "ci_builds", id),
        }
    }
}

/// What the download needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentBlob {
    pub name: String,
    pub size: i64,
    pub blob_key: String,
}

impl Store {
    /// True when the owner exists in the workspace: checked before an upload
    /// is read, so a refused attachment costs no bytes on disk.
    ///
    /// # Errors
    /// Database failure.
    pub async fn attachment_owner_exists(
        &self,
        workspace_id: i64,
        owner: AttachmentOwner,
    ) -> Result<bool, StoreError> {
        let mut conn = self.read.acquire().await?;
        owner_exists(&mut conn, workspace_id, owner).await
    }

    /// Records an uploaded attachment and takes a reference to its blob
    /// (pinned and written before: see `blob_refs`). `NotFound` when the
    /// owner does not exist.
    ///
    /// # Errors
    /// Unknown owner or database failure.
    pub async fn create_attachment(
        &self,
        workspace_id: i64,
        owner: AttachmentOwner,
        name: &str,
        size: i64,
        blob_key: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_attachment(
            self.backend,
            &mut tx,
            workspace_id,
            owner,
            name,
            size,
            blob_key,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a file of an owner that keeps one file per name (a CI build's
    /// log, sent again when the plugin retries): the new attachment takes its
    /// blob reference before the old one of that name is dropped, so the same
    /// bytes sent twice are never removed in between. Returns the new id and
    /// the keys nothing uses any more, for the caller to remove.
    ///
    /// # Errors
    /// Unknown owner or database failure.
    pub async fn replace_attachment(
        &self,
        workspace_id: i64,
        owner: AttachmentOwner,
        name: &str,
        size: i64,
        blob_key: &str,
    ) -> Result<(i64, Vec<String>), StoreError> {
        let (column, table, owner_id) = owner.column_and_table();
        let mut tx = self.begin_write().await?;
        if self.backend == crate::connect::Backend::Postgres {
            // Two replacements of one owner's file (two nodes, a retry) take
            // turns, so neither reads an old row the other is deleting.
            let lock = format!("SELECT id FROM {table} WHERE id = $1 FOR UPDATE");
            sqlx::query(sqlx::AssertSqlSafe(lock))
                .bind(owner_id)
                .execute(&mut *tx)
                .await?;
        }
        let sql = format!(
            "SELECT id, blob_key FROM attachments WHERE workspace_id = $1 AND {column} = $2 AND name = $3"
        );
        let old: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(owner_id)
            .bind(name)
            .fetch_all(&mut *tx)
            .await?;
        let id = insert_attachment(
            self.backend,
            &mut tx,
            workspace_id,
            owner,
            name,
            size,
            blob_key,
        )
        .await?;
        let mut unused = Vec::new();
        for (old_id, old_key) in old {
            drop_attachment(&mut tx, old_id, &old_key, &mut unused).await?;
        }
        tx.commit().await?;
        Ok((id, unused))
    }

    /// The blob behind an attachment of the workspace.
    ///
    /// # Errors
    /// Database failure.
    pub async fn attachment_blob(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<Option<AttachmentBlob>, StoreError> {
        let row = sqlx::query(
            "SELECT name, size, blob_key FROM attachments WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(AttachmentBlob {
                name: r.try_get(0)?,
                size: r.try_get(1)?,
                blob_key: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Deletes an attachment and drops its blob reference. `None` when the
    /// attachment does not exist in the workspace; otherwise the key when
    /// that was its last use anywhere (attachments and Test Center events
    /// alike), for the caller to remove.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_attachment(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let key: Option<String> = sqlx::query_scalar(
            "SELECT blob_key FROM attachments WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(key) = key else {
            return Ok(None);
        };
        let mut unused = Vec::new();
        if !drop_attachment(&mut tx, id, &key, &mut unused).await? {
            // Deleted meanwhile by another request, which gave the reference back.
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(unused))
    }
}

async fn owner_exists(
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    owner: AttachmentOwner,
) -> Result<bool, StoreError> {
    let (_, table, owner_id) = owner.column_and_table();
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1 AND id = $2");
    owner_count(conn, &sql, workspace_id, owner_id)
        .await
        .map(|n| n > 0)
}

/// The owner row, locked against deletion until the caller commits
/// (PostgreSQL; SQLite has one writer): an attachment never outlives a run
/// that retention deletes meanwhile.
async fn owner_locked(
    conn: &mut sqlx::AnyConnection,
    backend: crate::connect::Backend,
    workspace_id: i64,
    owner: AttachmentOwner,
) -> Result<bool, StoreError> {
    let (_, table, owner_id) = owner.column_and_table();
    let lock = if backend == crate::connect::Backend::Postgres {
        " FOR SHARE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT id FROM {table} WHERE workspace_id = $1 AND id = $2{lock}) o"
    );
    owner_count(conn, &sql, workspace_id, owner_id)
        .await
        .map(|n| n > 0)
}

async fn owner_count(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    workspace_id: i64,
    owner_id: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(workspace_id)
        .bind(owner_id)
        .fetch_one(&mut *conn)
        .await?)
}

/// Inserts an attachment row and takes its blob reference (the owner is
/// checked in the same transaction: `NotFound` when it is gone).
async fn insert_attachment(
    backend: crate::connect::Backend,
    tx: &mut sqlx::AnyConnection,
    workspace_id: i64,
    owner: AttachmentOwner,
    name: &str,
    size: i64,
    blob_key: &str,
) -> Result<i64, StoreError> {
    let (column, _, owner_id) = owner.column_and_table();
    if !owner_locked(tx, backend, workspace_id, owner).await? {
        return Err(StoreError::NotFound(format!("owner {owner_id} not found")));
    }
    let id = ids::allocate(backend, tx, 1)
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    let sql = format!(
        "INSERT INTO attachments (id, workspace_id, name, {column}, size, blob_key, creation_time) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(workspace_id)
        .bind(name)
        .bind(owner_id)
        .bind(size)
        .bind(blob_key)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
    crate::blob_refs::take(tx, blob_key, size).await?;
    Ok(id)
}

/// Deletes an attachment row and gives its blob reference back, adding the
/// key to `unused` when that was the last use. Only a row really deleted
/// here gives a reference back: false when it was gone.
pub(crate) async fn drop_attachment(
    tx: &mut sqlx::AnyConnection,
    id: i64,
    blob_key: &str,
    unused: &mut Vec<String>,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM attachments WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Ok(false);
    }
    if crate::blob_refs::release(tx, blob_key).await? {
        unused.push(blob_key.to_owned());
    }
    Ok(true)
}
