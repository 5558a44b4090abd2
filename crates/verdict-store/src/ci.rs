//! CI integration state (protocol §4.5, §6): which workspaces know a CI
//! server, CI jobs and builds reported by plugins, pipelines.

use crate::connect::Store;
use crate::error::StoreError;
use crate::ids;

/// A build as a plugin reports it (`PUT …/analytics/ci/builds`, CI events).
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    pub build_ci_id: String,
    pub name: Option<String>,
    pub number: Option<String>,
    pub start_time: Option<i64>,
    pub duration: Option<i64>,
    pub status: Option<String>,
    pub result: Option<String>,
    /// JSON text.
    pub parameters: Option<String>,
    /// JSON text.
    pub causes: Option<String>,
    /// JSON text: the SCM data (repository, revision, commits) of the build.
    pub scm_data: Option<String>,
}

/// Finds the job `ci_id` of a CI server, or creates it named `name`; with
/// `rename`, an existing job takes the new name.
pub(crate) async fn find_or_create_job(
    backend: crate::connect::Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    server_id: i64,
    ci_id: &str,
    name: Option<&str>,
    rename: bool,
) -> Result<i64, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM ci_jobs WHERE ci_server_id = $1 AND ci_id = $2")
            .bind(server_id)
            .bind(ci_id)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(id) = found {
        if let (true, Some(name)) = (rename, name) {
            sqlx::query("UPDATE ci_jobs SET name = $2 WHERE id = $1")
                .bind(id)
                .bind(name)
                .execute(&mut *conn)
                .await?;
        }
        return Ok(id);
    }
    let id = ids::allocate(backend, conn, 1)
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    sqlx::query("INSERT INTO ci_jobs (id, workspace_id, ci_server_id, ci_id, name, creation_time) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(workspace_id)
        .bind(server_id)
        .bind(ci_id)
        .bind(name.unwrap_or(ci_id))
        .bind(crate::now_ms())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

impl Store {
    /// Workspaces of a shared space whose CI server has `instance_id`; when
    /// some of them also know job `job_ci_id`, only those (§4.5 steps 1–2).
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_workspaces(
        &self,
        shared_space_id: i64,
        instance_id: &str,
        job_ci_id: Option<&str>,
    ) -> Result<Vec<i64>, StoreError> {
        let all: Vec<i64> = sqlx::query_scalar(
            "SELECT s.workspace_id FROM ci_servers s JOIN workspaces w ON w.id = s.workspace_id \
             WHERE w.shared_space_id = $1 AND s.instance_id = $2 ORDER BY s.workspace_id",
        )
        .bind(shared_space_id)
        .bind(instance_id)
        .fetch_all(&self.read)
        .await?;
        let Some(job) = job_ci_id.filter(|j| !j.is_empty()) else {
            return Ok(all);
        };
        let with_job: Vec<i64> = sqlx::query_scalar(
            "SELECT s.workspace_id FROM ci_servers s JOIN workspaces w ON w.id = s.workspace_id \
             JOIN ci_jobs j ON j.ci_server_id = s.id \
             WHERE w.shared_space_id = $1 AND s.instance_id = $2 AND j.ci_id = $3 ORDER BY s.workspace_id",
        )
        .bind(shared_space_id)
        .bind(instance_id)
        .bind(job)
        .fetch_all(&self.read)
        .await?;
        Ok(if with_job.is_empty() { all } else { with_job })
    }

    /// The CI server with `instance_id` in a workspace.
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_server_id(
        &self,
        workspace_id: i64,
        instance_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let id = sqlx::query_scalar(
            "SELECT id FROM ci_servers WHERE workspace_id = $1 AND instance_id = $2",
        )
        .bind(workspace_id)
        .bind(instance_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(id)
    }

    /// Finds or creates the CI job `ci_id` of a server; a new name replaces the old.
    ///
    /// # Errors
    /// Database failure.
    pub async fn upsert_ci_job(
        &self,
        workspace_id: i64,
        server_id: i64,
        ci_id: &str,
        name: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = find_or_create_job(
            self.backend,
            &mut tx,
            workspace_id,
            server_id,
            ci_id,
            name,
            true,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Finds or creates a build of a job and overwrites the values given.
    ///
    /// # Errors
    /// Database failure.
    pub async fn upsert_ci_build(
        &self,
        workspace_id: i64,
        job_id: i64,
        b: &BuildReport,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM ci_builds WHERE ci_job_id = $1 AND build_ci_id = $2",
        )
        .bind(job_id)
        .bind(&b.build_ci_id)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match found {
            Some(id) => id,
            None => {
                let id = ids::allocate(self.backend, &mut tx, 1)
                    .await?
                    .first()
                    .copied()
                    .unwrap_or_default();
                sqlx::query(
                    "INSERT INTO ci_builds (id, workspace_id, ci_job_id, build_ci_id, name, creation_time) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(workspace_id)
                .bind(job_id)
                .bind(&b.build_ci_id)
                .bind(b.name.as_deref().unwrap_or(&b.build_ci_id))
                .bind(crate::now_ms())
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        sqlx::query(
            "UPDATE ci_builds SET name = COALESCE($2, name), number = COALESCE($3, number), start_time = COALESCE($4, start_time), \
             duration = COALESCE($5, duration), status = COALESCE($6, status), result = COALESCE($7, result), \
             parameters = COALESCE($8, parameters), causes = COALESCE($9, causes), scm_data = COALESCE($10, scm_data) WHERE id = $1",
        )
        .bind(id)
        .bind(b.name.as_deref())
        .bind(b.number.as_deref())
        .bind(b.start_time)
        .bind(b.duration)
        .bind(b.status.as_deref())
        .bind(b.result.as_deref())
        .bind(b.parameters.as_deref())
        .bind(b.causes.as_deref())
        .bind(b.scm_data.as_deref())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Keeps a CI payload the server does not interpret (pull requests, pipeline updates).
    ///
    /// # Errors
    /// Database failure.
    pub async fn keep_raw_ci_event(
        &self,
        shared_space_id: i64,
        kind: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO ci_raw_events (shared_space_id, kind, body, received_at) VALUES ($1, $2, $3, $4)")
            .bind(shared_space_id)
            .bind(kind)
            .bind(body)
            .bind(crate::now_ms())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A CI server of a workspace by display name (the documented pipeline
    /// shape names the server by name when it has no instance id).
    ///
    /// # Errors
    /// Database failure.
    pub async fn read_ci_server_by_name(
        &self,
        workspace_id: i64,
        name: &str,
    ) -> Result<Option<i64>, StoreError> {
        let id = sqlx::query_scalar(
            "SELECT id FROM ci_servers WHERE workspace_id = $1 AND name = $2 ORDER BY id LIMIT 1",
        )
        .bind(workspace_id)
        .bind(name)
        .fetch_optional(&self.read)
        .await?;
        Ok(id)
    }
}
