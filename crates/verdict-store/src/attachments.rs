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
}

impl AttachmentOwner {
    fn column_and_table(self) -> (&'static str, &'static str, i64) {
        match self {
            Self::WorkItem(id) => ("owner_work_item_id", "work_items", id),
            Self::Test(id) => ("owner_test_id", "tests", id),
            Self::Run(id) => ("owner_run_id", "runs", id),
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
    /// Records an uploaded attachment; `NotFound` when the owner does not exist.
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
        let (column, table, owner_id) = owner.column_and_table();
        let mut tx = self.write.begin().await?;
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1 AND id = $2");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(owner_id)
            .fetch_one(&mut *tx)
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("owner {owner_id} not found")));
        }
        let id = ids::allocate(self.backend, &mut tx, 1)
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
        tx.commit().await?;
        Ok(id)
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

    /// Deletes an attachment; returns its blob key and whether any other
    /// attachment still uses that blob (blobs are content-addressed).
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_attachment(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<Option<(String, bool)>, StoreError> {
        let mut tx = self.write.begin().await?;
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
        sqlx::query("DELETE FROM attachments WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let others: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE blob_key = $1")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Some((key, others > 0)))
    }
}
