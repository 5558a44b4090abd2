//! Creating the entities that payloads link to: releases, milestones,
//! programs, work items, application modules, test suites and CI servers.
//! Names that must be unique are checked here and reported as conflicts.

use crate::connect::Store;
use crate::error::StoreError;
use crate::ids;

/// A release to create.
#[derive(Debug, Clone, Default)]
pub struct NewRelease {
    pub name: String,
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub is_default: bool,
    pub programs: Vec<i64>,
}

impl Store {
    async fn next_id(&self, conn: &mut sqlx::AnyConnection) -> Result<i64, StoreError> {
        ids::allocate(self.backend, conn, 1)
            .await?
            .first()
            .copied()
            .ok_or_else(|| StoreError::NotFound("no id allocated".to_owned()))
    }

    /// Creates a release (names are unique per workspace).
    ///
    /// # Errors
    /// Duplicate name ([`StoreError::Conflict`]) or database failure.
    pub async fn create_release(
        &self,
        workspace_id: i64,
        r: &NewRelease,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = self.next_id(&mut tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO releases (id, workspace_id, name, start_date, end_date, is_default, creation_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, name) DO NOTHING",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(&r.name)
        .bind(r.start_date)
        .bind(r.end_date)
        .bind(i64::from(r.is_default))
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a release named '{}' already exists",
                r.name
            )));
        }
        for program in &r.programs {
            sqlx::query("INSERT INTO entity_links (workspace_id, src_id, field, dst_id) VALUES ($1, $2, 'programs', $3)")
                .bind(workspace_id)
                .bind(id)
                .bind(*program)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Creates a milestone, optionally in a release.
    ///
    /// # Errors
    /// Database failure.
    pub async fn create_milestone(
        &self,
        workspace_id: i64,
        name: &str,
        release_id: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = self.next_id(&mut tx).await?;
        sqlx::query("INSERT INTO milestones (id, workspace_id, name, release_id, creation_time) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(workspace_id)
            .bind(name)
            .bind(release_id)
            .bind(crate::now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates a named entity in one of the simple tables: `programs`,
    /// `application_modules`, or `work_items` (with a subtype).
    ///
    /// # Errors
    /// Database failure.
    pub async fn create_named(
        &self,
        workspace_id: i64,
        table: NamedTable,
        name: &str,
    ) -> Result<i64, StoreError> {
        let (sql, subtype) = match table {
            NamedTable::Program => (
                "INSERT INTO programs (id, workspace_id, name, creation_time) VALUES ($1, $2, $3, $4)",
                None,
            ),
            NamedTable::ApplicationModule => (
                "INSERT INTO application_modules (id, workspace_id, name, creation_time) VALUES ($1, $2, $3, $4)",
                None,
            ),
            NamedTable::WorkItem(subtype) => (
                "INSERT INTO work_items (id, workspace_id, name, creation_time, subtype) VALUES ($1, $2, $3, $4, $5)",
                Some(subtype),
            ),
        };
        let mut tx = self.begin_write().await?;
        let id = self.next_id(&mut tx).await?;
        let mut q = sqlx::query(sql)
            .bind(id)
            .bind(workspace_id)
            .bind(name)
            .bind(crate::now_ms());
        if let Some(subtype) = subtype {
            q = q.bind(subtype);
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates a test suite (a test of subtype `test_suite`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn create_test_suite(
        &self,
        workspace_id: i64,
        name: &str,
        component: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = self.next_id(&mut tx).await?;
        let now = crate::now_ms();
        sqlx::query(
            "INSERT INTO tests (id, workspace_id, subtype, name, component, identity_key, creation_time, last_modified) \
             VALUES ($1, $2, 'test_suite', $3, $4, $5, $6, $6)",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(name)
        .bind(component)
        .bind(format!("suite\u{1f}{id}"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Registers a CI server in a workspace (`instance_id` unique there).
    ///
    /// # Errors
    /// Duplicate instance id ([`StoreError::Conflict`]) or database failure.
    pub async fn create_ci_server(
        &self,
        workspace_id: i64,
        name: &str,
        instance_id: &str,
        server_type: &str,
        url: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = self.next_id(&mut tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO ci_servers (id, workspace_id, name, instance_id, server_type, url, creation_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, instance_id) DO NOTHING",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(name)
        .bind(instance_id)
        .bind(server_type)
        .bind(url)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a ci server with instance id '{instance_id}' already exists"
            )));
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// Tables holding plain named entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedTable {
    Program,
    ApplicationModule,
    /// A work item of this subtype (`story`, `feature`, `defect`, `epic`, `quality_story`).
    WorkItem(&'static str),
}
