//! Runs of the Test Center hierarchy: each upload creates a run of a test
//! (found or created by name under its parent test); only the newest run of
//! each level of a report is open for children and events.

use sqlx::Row;
use verdict_domain::testcenter::Level;

use crate::connect::Store;
use crate::error::StoreError;
use crate::ids;

/// The test an upload names.
#[derive(Debug, Clone, Default)]
pub struct TcTest {
    pub name: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// When the execution started (epoch ms), when known (imported reports);
    /// else the time of the call.
    pub started: Option<i64>,
    /// Duration in ms (imported reports; 0 for calls of the reporting API).
    pub duration: i64,
    /// Extra tries a framework made (imported reports).
    pub retries: i64,
    /// Passed after a failed try (imported reports).
    pub flaky: bool,
}

/// A run of the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcRun {
    pub id: i64,
    pub workspace_id: i64,
    pub report_id: i64,
    pub depth: i64,
    pub level: Level,
    pub test_id: i64,
    pub parent_run_id: Option<i64>,
}

impl Store {
    /// A run created through the Test Center API.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_run(&self, run_id: i64) -> Result<Option<TcRun>, StoreError> {
        let mut conn = self.read.acquire().await?;
        run_in(&mut conn, run_id).await
    }

    /// `None` when `run` and all its ancestors are the newest of their level
    /// in the report; otherwise the run that closed it (the newest at the
    /// first level where it is not).
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_closed_by(&self, run: &TcRun) -> Result<Option<(i64, i64)>, StoreError> {
        let mut current = Some((run.id, run.depth, run.parent_run_id));
        while let Some((id, depth, parent)) = current {
            let newest: i64 = sqlx::query_scalar(
                "SELECT MAX(id) FROM runs WHERE report_id = $1 AND tc_depth = $2",
            )
            .bind(run.report_id)
            .bind(depth)
            .fetch_one(&self.read)
            .await?;
            if newest != id {
                return Ok(Some((id, newest)));
            }
            current = match parent {
                Some(p) => {
                    let row = sqlx::query("SELECT tc_depth, parent_run_id FROM runs WHERE id = $1")
                        .bind(p)
                        .fetch_one(&self.read)
                        .await?;
                    Some((p, row.try_get(0)?, row.try_get(1)?))
                }
                None => None,
            };
        }
        Ok(None)
    }

    /// Creates a run of `test` at `level` under `parent` (or at the top of the
    /// report), finding or creating the test by name under the parent's test.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_create_run(
        &self,
        workspace_id: i64,
        report_id: i64,
        parent: Option<&TcRun>,
        level: Level,
        test: &TcTest,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        // the same lock as ingest: the flaky ranking's rows are read,
        // changed and written back, so writers of a workspace go in turn
        crate::connect::lock_workspace(self.backend, &mut tx, workspace_id).await?;
        // Checked under the lock retention takes too: a report pruned since
        // the request found it gets no orphan run.
        let report: Option<i64> = sqlx::query_scalar("SELECT id FROM tc_reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(&mut *tx)
            .await?;
        if report.is_none() {
            return Err(StoreError::NotFound(format!(
                "report {report_id} not found"
            )));
        }
        let run_id = create_run_in(
            self.backend,
            &mut tx,
            workspace_id,
            report_id,
            parent,
            level,
            test,
        )
        .await?;
        tx.commit().await?;
        Ok(run_id)
    }
}

/// (run_status, run_native_status) list-node ids of a status display name.
pub(super) async fn status_ids(
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    display: &str,
) -> Result<(Option<i64>, Option<i64>), StoreError> {
    let key = display.to_lowercase();
    let mut ids = [None, None];
    for (slot, list) in ids.iter_mut().zip(["run_status", "run_native_status"]) {
        *slot = sqlx::query_scalar("SELECT id FROM list_nodes WHERE workspace_id = $1 AND list_name = $2 AND name_key = $3")
            .bind(workspace_id)
            .bind(list)
            .bind(&key)
            .fetch_optional(&mut *conn)
            .await?;
    }
    Ok((ids[0], ids[1]))
}

/// [`Store::tc_run`] on a connection (sees the caller's uncommitted runs).
pub(crate) async fn run_in(
    conn: &mut sqlx::AnyConnection,
    run_id: i64,
) -> Result<Option<TcRun>, StoreError> {
    let row = sqlx::query(
        "SELECT r.id, r.workspace_id, r.report_id, r.tc_depth, t.subtype, r.test_id, r.parent_run_id \
         FROM runs r JOIN tests t ON t.id = r.test_id WHERE r.id = $1 AND r.report_id IS NOT NULL",
    )
    .bind(run_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let subtype: String = r.try_get(4)?;
    let Some(level) = Level::from_subtype(&subtype) else {
        return Ok(None);
    };
    Ok(Some(TcRun {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        report_id: r.try_get(2)?,
        depth: r.try_get(3)?,
        level,
        test_id: r.try_get(5)?,
        parent_run_id: r.try_get(6)?,
    }))
}

/// [`Store::tc_create_run`] on a connection (or inside a transaction).
pub(crate) async fn create_run_in(
    backend: crate::connect::Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    report_id: i64,
    parent: Option<&TcRun>,
    level: Level,
    test: &TcTest,
) -> Result<i64, StoreError> {
    let now = crate::now_ms();
    let parent_test = parent.map(|p| p.test_id);
    let identity = format!("tc\u{1f}{}\u{1f}{}", parent_test.unwrap_or(0), test.name);
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM tests WHERE workspace_id = $1 AND subtype = $2 AND identity_key = $3",
    )
    .bind(workspace_id)
    .bind(level.subtype())
    .bind(&identity)
    .fetch_optional(&mut *conn)
    .await?;
    let test_id = if let Some(id) = found {
        sqlx::query(
            "UPDATE tests SET summary = COALESCE($2, summary), description = COALESCE($3, description), last_modified = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(test.summary.as_deref())
        .bind(test.description.as_deref())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        id
    } else {
        let id = ids::allocate(backend, &mut *conn, 1)
            .await?
            .first()
            .copied()
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO tests (id, workspace_id, subtype, name, identity_key, parent_test_id, summary, description, creation_time, last_modified) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(level.subtype())
        .bind(&test.name)
        .bind(&identity)
        .bind(parent_test)
        .bind(test.summary.as_deref())
        .bind(test.description.as_deref())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        id
    };
    let (status_id, native_id) = status_ids(&mut *conn, workspace_id, "Planned").await?;
    let run_id = ids::allocate(backend, &mut *conn, 1)
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, subtype, test_id, run_key, name, status, status_id, native_status_id, started, duration, \
         task_id, creation_time, last_modified, report_id, parent_run_id, tc_depth, tc_result, retries, flaky) \
         VALUES ($1, $2, 'tc_run', $3, $4, $5, 'planned', $6, $7, $12, $13, 0, $8, $8, $9, $10, $11, 0, $14, $15)",
    )
    .bind(run_id)
    .bind(workspace_id)
    .bind(test_id)
    .bind(format!("tc\u{1f}{run_id}"))
    .bind(&test.name)
    .bind(status_id)
    .bind(native_id)
    .bind(now)
    .bind(report_id)
    .bind(parent.map(|p| p.id))
    .bind(parent.map_or(0, |p| p.depth + 1))
    .bind(test.started.unwrap_or(now))
    .bind(test.duration.max(0))
    .bind(test.retries)
    .bind(i64::from(test.flaky))
    .execute(&mut *conn)
    .await?;
    crate::insight::tc::run_created(
        backend,
        conn,
        workspace_id,
        report_id,
        level,
        run_id,
        test_id,
        test.started.unwrap_or(now),
        test.duration.max(0),
        test.retries,
        test.flaky,
    )
    .await?;
    Ok(run_id)
}
