//! Shared spaces and workspaces: Verdict's tenancy model (a Test Center
//! project is a workspace too).

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;
use crate::seed;

/// A shared space row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSpaceRecord {
    pub id: i64,
    pub name: String,
}

/// A workspace row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRecord {
    pub id: i64,
    pub shared_space_id: i64,
    pub name: String,
}

impl Store {
    /// Creates the shared space when it does not exist yet (idempotent).
    ///
    /// # Errors
    /// Database failure.
    pub async fn ensure_shared_space(&self, id: i64, name: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO shared_spaces (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Creates the workspace, with its seeded lists and taxonomies, when it does
    /// not exist yet (idempotent). Returns true when it was created.
    ///
    /// # Errors
    /// Database failure, or a name already used in the shared space.
    pub async fn ensure_workspace(
        &self,
        shared_space_id: i64,
        id: i64,
        name: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO workspaces (id, shared_space_id, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(shared_space_id)
        .bind(name)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            seed::seed_workspace(self.backend, &mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(inserted == 1)
    }

    /// All shared spaces, by id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn shared_spaces(&self) -> Result<Vec<SharedSpaceRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, name FROM shared_spaces ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SharedSpaceRecord {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                })
            })
            .collect()
    }

    /// One shared space, if it exists.
    ///
    /// # Errors
    /// Database failure.
    pub async fn shared_space(&self, id: i64) -> Result<Option<SharedSpaceRecord>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM shared_spaces WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(SharedSpaceRecord {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
            })
        })
        .transpose()
    }

    /// One workspace of a shared space, if it exists there.
    ///
    /// # Errors
    /// Database failure.
    pub async fn workspace(
        &self,
        shared_space_id: i64,
        id: i64,
    ) -> Result<Option<WorkspaceRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, shared_space_id, name FROM workspaces WHERE id = $1 AND shared_space_id = $2",
        )
        .bind(id)
        .bind(shared_space_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| workspace_from_row(&r)).transpose()
    }

    /// The workspaces of a shared space, by id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn workspaces(
        &self,
        shared_space_id: i64,
    ) -> Result<Vec<WorkspaceRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, shared_space_id, name FROM workspaces WHERE shared_space_id = $1 ORDER BY id",
        )
        .bind(shared_space_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(workspace_from_row).collect()
    }
}

fn workspace_from_row(r: &sqlx::any::AnyRow) -> Result<WorkspaceRecord, StoreError> {
    Ok(WorkspaceRecord {
        id: r.try_get(0)?,
        shared_space_id: r.try_get(1)?,
        name: r.try_get(2)?,
    })
}
