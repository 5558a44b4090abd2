//! Pipelines (protocol §6): created through the entity API, or for a job
//! that reports on its own when the server runs with `--ci-pipelines auto`,
//! and the root jobs the Java CI SDK asks for (`pipeline-roots`), which
//! decide which jobs' events and results it sends at all.

use sqlx::AnyConnection;

use crate::ci::find_or_create_job;
use crate::connect::{Backend, Store};
use crate::error::StoreError;
use crate::ids;

/// A pipeline to create with its jobs.
#[derive(Debug, Clone, Default)]
pub struct NewPipeline {
    pub name: String,
    pub ci_server_id: i64,
    pub root_job_ci_id: String,
    /// (ci id, display name, parameters JSON) of each job.
    pub jobs: Vec<(String, String, Option<String>)>,
}

/// Inserts a pipeline whose name is known to be free, with its jobs (found
/// or created) and one node per job; the root job is always among them.
async fn insert_pipeline(
    backend: Backend,
    conn: &mut AnyConnection,
    shared_space_id: i64,
    workspace_id: i64,
    p: &NewPipeline,
) -> Result<i64, StoreError> {
    let id = ids::allocate(backend, conn, 1)
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    let now = crate::now_ms();
    sqlx::query(
        "INSERT INTO pipelines (id, workspace_id, shared_space_id, name, ci_server_id, creation_time) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(workspace_id)
    .bind(shared_space_id)
    .bind(&p.name)
    .bind(p.ci_server_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let mut jobs = p.jobs.clone();
    if !jobs.iter().any(|(ci, _, _)| *ci == p.root_job_ci_id) {
        jobs.insert(
            0,
            (p.root_job_ci_id.clone(), p.root_job_ci_id.clone(), None),
        );
    }
    for (ci_id, name, parameters) in &jobs {
        let job = find_or_create_job(
            backend,
            conn,
            workspace_id,
            p.ci_server_id,
            ci_id,
            Some(name),
            false,
        )
        .await?;
        sqlx::query("UPDATE ci_jobs SET pipeline_id = $2, parameters = COALESCE($3, parameters) WHERE id = $1")
            .bind(job)
            .bind(id)
            .bind(parameters.as_deref())
            .execute(&mut *conn)
            .await?;
        let node = ids::allocate(backend, conn, 1)
            .await?
            .first()
            .copied()
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO pipeline_nodes (id, workspace_id, pipeline_id, ci_job_id, name, creation_time) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING",
        )
        .bind(node)
        .bind(workspace_id)
        .bind(id)
        .bind(job)
        .bind(name)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if *ci_id == p.root_job_ci_id {
            sqlx::query("UPDATE pipelines SET root_job_id = $2 WHERE id = $1")
                .bind(id)
                .bind(job)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(id)
}

async fn name_taken(
    conn: &mut AnyConnection,
    shared_space_id: i64,
    name: &str,
) -> Result<bool, StoreError> {
    let taken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pipelines WHERE shared_space_id = $1 AND name = $2",
    )
    .bind(shared_space_id)
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    Ok(taken > 0)
}

impl Store {
    /// Creates a pipeline with its jobs and nodes; `Conflict` when the name is
    /// taken in the shared space.
    ///
    /// # Errors
    /// Duplicate name or database failure.
    pub async fn create_pipeline(
        &self,
        shared_space_id: i64,
        workspace_id: i64,
        p: &NewPipeline,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        if name_taken(&mut tx, shared_space_id, &p.name).await? {
            return Err(StoreError::Conflict(format!(
                "a pipeline named '{}' already exists in the shared space",
                p.name
            )));
        }
        let id = insert_pipeline(self.backend, &mut tx, shared_space_id, workspace_id, p).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The pipeline of a CI job, created with the job as its root when the
    /// job has none (`--ci-pipelines auto`). The pipeline is named after the
    /// job; when another pipeline of the shared space has that name, after
    /// the job and its server, then numbered (`Conflict` past 100 tries).
    /// Two nodes seeing the job's first build at once create one pipeline:
    /// the job's row is locked first (PostgreSQL; SQLite has one writer).
    ///
    /// # Errors
    /// Database failure.
    pub async fn ensure_job_pipeline(
        &self,
        shared_space_id: i64,
        workspace_id: i64,
        job_id: i64,
        job_name: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let lock = match self.backend {
            Backend::Postgres => {
                "SELECT j.pipeline_id, j.ci_id, j.ci_server_id, s.name FROM ci_jobs j \
                 JOIN ci_servers s ON s.id = j.ci_server_id WHERE j.id = $1 FOR UPDATE OF j"
            }
            Backend::Sqlite => {
                "SELECT j.pipeline_id, j.ci_id, j.ci_server_id, s.name FROM ci_jobs j \
                 JOIN ci_servers s ON s.id = j.ci_server_id WHERE j.id = $1"
            }
        };
        let row: Option<(Option<i64>, String, i64, String)> = sqlx::query_as(lock)
            .bind(job_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((pipeline, ci_id, server_id, server_name)) = row else {
            return Err(StoreError::NotFound(format!("ci job {job_id} not found")));
        };
        if let Some(pipeline) = pipeline {
            return Ok(pipeline);
        }
        let mut name = job_name.to_owned();
        let mut n = 1;
        while name_taken(&mut tx, shared_space_id, &name).await? {
            n += 1;
            if n > 100 {
                return Err(StoreError::Conflict(format!(
                    "no free pipeline name for job '{job_name}'"
                )));
            }
            name = if n == 2 {
                format!("{job_name} ({server_name})")
            } else {
                format!("{job_name} ({server_name}) {n}")
            };
        }
        let p = NewPipeline {
            name,
            ci_server_id: server_id,
            root_job_ci_id: ci_id.clone(),
            jobs: vec![(ci_id, job_name.to_owned(), None)],
        };
        let id = insert_pipeline(self.backend, &mut tx, shared_space_id, workspace_id, &p).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The root jobs of every pipeline of a CI server (by instance id, in
    /// any workspace of the shared space) as (workspace, job CI id): what
    /// the Java CI SDK's `pipeline-roots` wants, once the caller's
    /// workspaces are picked out.
    ///
    /// # Errors
    /// Database failure.
    pub async fn pipeline_roots(
        &self,
        shared_space_id: i64,
        instance_id: &str,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let roots = sqlx::query_as(
            "SELECT DISTINCT s.workspace_id, j.ci_id FROM pipelines p JOIN ci_jobs j ON j.id = p.root_job_id \
             JOIN ci_servers s ON s.id = j.ci_server_id JOIN workspaces w ON w.id = s.workspace_id \
             WHERE w.shared_space_id = $1 AND s.instance_id = $2",
        )
        .bind(shared_space_id)
        .bind(instance_id)
        .fetch_all(&self.read)
        .await?;
        Ok(roots)
    }
}
