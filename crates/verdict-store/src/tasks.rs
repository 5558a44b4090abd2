//! The durable test-results queue: a task row plus its payload, committed in
//! one transaction before the client hears 202; payload-hash de-duplication
//! kept in the database so it holds across restarts and nodes; claiming with
//! a lease so a task whose worker died is picked up again.

use sqlx::Row;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::connect::{Backend, Store};
use crate::error::StoreError;

/// Lifecycle of a task, spelled on the wire in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Queued,
    Running,
    Success,
    Warning,
    Failed,
    Error,
}

impl TaskState {
    /// The wire and storage spelling (`queued`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Failed => "failed",
            Self::Error => "error",
        }
    }

    /// From [`Self::as_str`]'s spelling; anything else is `Error`.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "success" => Self::Success,
            "warning" => Self::Warning,
            "failed" => Self::Failed,
            _ => Self::Error,
        }
    }
}

/// Where a CI push goes (protocol §4.5): resolved to workspaces when processed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CiTarget {
    pub shared_space_id: i64,
    pub instance_id: String,
    pub job_ci_id: String,
    pub build_ci_id: String,
}

/// A task as the status endpoint reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    pub id: i64,
    /// 0 for a CI push (its workspaces are found when it is processed).
    pub workspace_id: i64,
    /// Set for CI pushes.
    pub shared_space_id: Option<i64>,
    pub state: TaskState,
    pub skip_errors: bool,
    pub accepted_at: i64,
    pub error_details: Option<String>,
    /// Items (test runs) the payload holds, when counted at validation.
    pub items_total: Option<i64>,
}

/// What the push handler knows once the payload is validated and spooled.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub workspace_id: i64,
    pub skip_errors: bool,
    /// `identity` or `gzip`: how the stored chunks are encoded.
    pub payload_encoding: &'static str,
    pub payload_size: i64,
    /// Hex SHA-256 of the inflated payload plus target and skip-errors.
    pub dedupe_key: String,
    pub dedupe_window_ms: i64,
    pub accepted_at: i64,
    /// `Some` for the CI endpoint's pushes.
    pub ci: Option<CiTarget>,
    /// The user whose credential pushed (a plain push's series, insight.md).
    pub pushed_by: Option<String>,
    /// Items (test runs) the validator counted.
    pub items_total: Option<i64>,
}

/// Result of [`Store::enqueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Accepted { task_id: i64 },
    Duplicate { task: TaskRecord, until_ms: i64 },
}

/// A task handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedTask {
    pub id: i64,
    pub workspace_id: i64,
    pub ci: Option<CiTarget>,
    pub skip_errors: bool,
    pub accepted_at: i64,
    pub payload_encoding: String,
    pub attempts: i64,
    /// The user whose credential pushed.
    pub pushed_by: Option<String>,
}

/// Payload chunk size: large enough to be cheap, small enough to stream.
const CHUNK_BYTES: usize = 1 << 20;

const TASK_COLUMNS: &str = "id, workspace_id, state, skip_errors, accepted_at, error_details, shared_space_id, items_total";

fn task_from_row(r: &sqlx::any::AnyRow) -> Result<TaskRecord, StoreError> {
    Ok(TaskRecord {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        state: TaskState::parse(&r.try_get::<String, _>(2)?),
        skip_errors: r.try_get::<i64, _>(3)? != 0,
        accepted_at: r.try_get(4)?,
        error_details: r.try_get(5)?,
        shared_space_id: r.try_get(6)?,
        items_total: r.try_get(7)?,
    })
}

impl Store {
    /// Stores the payload and its task durably, unless an identical push is
    /// still inside its de-duplication window (then returns that task).
    ///
    /// # Errors
    /// Database or read failure; nothing is stored then.
    pub async fn enqueue(
        &self,
        task: &NewTask,
        payload: &mut (dyn AsyncRead + Unpin + Send),
    ) -> Result<PushOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "INSERT INTO payload_hashes (dedupe_key, task_id, until_ms) VALUES ($1, 0, 0) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(&task.dedupe_key)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed
            && let Some(duplicate) = self
                .live_duplicate(&mut tx, &task.dedupe_key, task.accepted_at)
                .await?
        {
            tx.commit().await?;
            return Ok(duplicate);
        }
        let ci = task.ci.clone().unwrap_or_default();
        let task_id: i64 = sqlx::query_scalar(
            "INSERT INTO tasks (workspace_id, state, skip_errors, accepted_at, payload_encoding, payload_size, \
             kind, shared_space_id, ci_instance_id, ci_job_id, ci_build_id, pushed_by, items_total) \
             VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(task.workspace_id)
        .bind(i64::from(task.skip_errors))
        .bind(task.accepted_at)
        .bind(task.payload_encoding)
        .bind(task.payload_size)
        .bind(if task.ci.is_some() { "ci" } else { "workspace" })
        .bind(task.ci.as_ref().map(|c| c.shared_space_id))
        .bind(task.ci.as_ref().map(|_| ci.instance_id.as_str()))
        .bind(task.ci.as_ref().map(|_| ci.job_ci_id.as_str()))
        .bind(task.ci.as_ref().map(|_| ci.build_ci_id.as_str()))
        .bind(task.pushed_by.as_deref())
        .bind(task.items_total)
        .fetch_one(&mut *tx)
        .await?;
        let mut buffer = vec![0_u8; CHUNK_BYTES];
        let mut seq = 0_i64;
        loop {
            let filled = fill(payload, &mut buffer).await?;
            if filled == 0 {
                break;
            }
            sqlx::query("INSERT INTO payload_chunks (task_id, seq, data) VALUES ($1, $2, $3)")
                .bind(task_id)
                .bind(seq)
                .bind(&buffer[..filled])
                .execute(&mut *tx)
                .await?;
            seq += 1;
        }
        sqlx::query("UPDATE payload_hashes SET task_id = $2, until_ms = $3 WHERE dedupe_key = $1")
            .bind(&task.dedupe_key)
            .bind(task_id)
            .bind(task.accepted_at + task.dedupe_window_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(PushOutcome::Accepted { task_id })
    }

    /// The earlier task behind a dedupe key, if its window is still open and it
    /// is still queued or running or ended `success` or `warning`. A task that
    /// ended `failed` or `error` never answers a re-push: the cause may have
    /// been fixed since (a missing release created, a server fault gone).
    async fn live_duplicate(
        &self,
        tx: &mut sqlx::AnyConnection,
        dedupe_key: &str,
        now: i64,
    ) -> Result<Option<PushOutcome>, StoreError> {
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT task_id, until_ms FROM payload_hashes WHERE dedupe_key = $1{lock}"
        )))
        .bind(dedupe_key)
        .fetch_one(&mut *tx)
        .await?;
        let (task_id, until_ms): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        if until_ms <= now {
            return Ok(None);
        }
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        let task = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(task_id)
            .fetch_optional(&mut *tx)
            .await?;
        match task.map(|r| task_from_row(&r)).transpose()? {
            Some(task) if !matches!(task.state, TaskState::Error | TaskState::Failed) => {
                Ok(Some(PushOutcome::Duplicate { task, until_ms }))
            }
            _ => Ok(None),
        }
    }

    /// A workspace's tasks, newest first (the web UI's task list; by the
    /// index `tasks_workspace`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn workspace_tasks(
        &self,
        workspace_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<TaskRecord>, StoreError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// One task by id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn task(&self, id: i64) -> Result<Option<TaskRecord>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| task_from_row(&r)).transpose()
    }

    /// Claims the oldest queued task, or a running one whose lease expired.
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_task(
        &self,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Option<ClaimedTask>, StoreError> {
        let now = crate::now_ms();
        let skip_locked = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE tasks SET state = 'running', lease_until = $1, lease_owner = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM tasks WHERE state = 'queued' OR (state = 'running' AND lease_until < $3) \
             ORDER BY id LIMIT 1{skip_locked}) \
             RETURNING id, workspace_id, skip_errors, accepted_at, payload_encoding, attempts, \
             kind, shared_space_id, ci_instance_id, ci_job_id, ci_build_id, pushed_by"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now + lease_ms)
            .bind(owner)
            .bind(now)
            .fetch_optional(&self.write)
            .await?;
        row.map(|r| {
            Ok(ClaimedTask {
                id: r.try_get(0)?,
                workspace_id: r.try_get(1)?,
                skip_errors: r.try_get::<i64, _>(2)? != 0,
                accepted_at: r.try_get(3)?,
                payload_encoding: r.try_get(4)?,
                attempts: r.try_get(5)?,
                ci: if r.try_get::<String, _>(6)? == "ci" {
                    Some(CiTarget {
                        shared_space_id: r.try_get::<Option<i64>, _>(7)?.unwrap_or_default(),
                        instance_id: r.try_get::<Option<String>, _>(8)?.unwrap_or_default(),
                        job_ci_id: r.try_get::<Option<String>, _>(9)?.unwrap_or_default(),
                        build_ci_id: r.try_get::<Option<String>, _>(10)?.unwrap_or_default(),
                    })
                } else {
                    None
                },
                pushed_by: r.try_get(11)?,
            })
        })
        .transpose()
    }

    /// Extends a lease while a long task is processed; false when the lease
    /// was lost to another worker.
    ///
    /// # Errors
    /// Database failure.
    pub async fn renew_lease(
        &self,
        task_id: i64,
        owner: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tasks SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(owner)
        .bind(crate::now_ms() + lease_ms)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// Puts every `running` task back to `queued`. Only for the embedded
    /// SQLite store at start-up, where this process is the only worker, so
    /// work cut off by a crash resumes at once instead of after its lease.
    ///
    /// # Errors
    /// Database failure.
    pub async fn requeue_orphans(&self) -> Result<u64, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let n = sqlx::query(
            "UPDATE tasks SET state = 'queued', lease_owner = NULL WHERE state = 'running'",
        )
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// Marks a task `error` outside the (rolled back) processing transaction,
    /// if `owner` still holds it (a worker that lost its lease must not end
    /// the task another worker took over), and drops its checkpoint.
    ///
    /// # Errors
    /// Database failure.
    pub async fn fail_task_with_error(
        &self,
        task_id: i64,
        owner: &str,
        details: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let failed = sqlx::query(
            "UPDATE tasks SET state = 'error', error_details = $3, finished_at = $4, lease_owner = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(owner)
        .bind(details)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if failed == 1 {
            sqlx::query("DELETE FROM task_checkpoints WHERE task_id = $1")
                .bind(task_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives a task back to the queue after a system fault part-way, if
    /// `owner` still holds it: its committed chunks stay and the next claim
    /// resumes from its checkpoint. True when it was requeued.
    ///
    /// # Errors
    /// Database failure.
    pub async fn requeue_task(&self, task_id: i64, owner: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE tasks SET state = 'queued', lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(owner)
        .execute(&self.write)
        .await?
        .rows_affected()
            == 1)
    }

    /// One stored chunk of a task's payload (`None` past the last one).
    ///
    /// # Errors
    /// Database failure.
    pub async fn payload_chunk(
        &self,
        task_id: i64,
        seq: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let data =
            sqlx::query_scalar("SELECT data FROM payload_chunks WHERE task_id = $1 AND seq = $2")
                .bind(task_id)
                .bind(seq)
                .fetch_optional(&self.read)
                .await?;
        Ok(data)
    }
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
async fn fill(
    input: &mut (dyn AsyncRead + Unpin + Send),
    buffer: &mut [u8],
) -> Result<usize, StoreError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let n = input.read(&mut buffer[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}
