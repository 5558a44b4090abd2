//! Retention: deleting a workspace's history older than a cut-off — previous
//! runs, Test Center reports (their runs, events and files), finished tasks
//! with what is left of their payloads — in small transactions, so a prune
//! never holds the writer long, and with the kept counts and blob
//! references brought along. The blobs nothing uses any more are returned;
//! the caller removes their bytes (`blob_refs`).

use std::fmt::Write as _;

use sqlx::AnyConnection;

use crate::connect::Store;
use crate::error::StoreError;

/// Previous runs or finished tasks deleted per transaction.
const ROW_BATCH: i64 = 2_000;

/// What one prune deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneCounts {
    pub previous_runs: u64,
    pub tc_reports: u64,
    pub tc_runs: u64,
    pub tc_events: u64,
    pub attachments: u64,
    pub tasks: u64,
    /// Blob keys whose last reference went.
    pub unused_blobs: Vec<String>,
}

impl PruneCounts {
    fn add(&mut self, other: Self) {
        self.previous_runs += other.previous_runs;
        self.tc_reports += other.tc_reports;
        self.tc_runs += other.tc_runs;
        self.tc_events += other.tc_events;
        self.attachments += other.attachments;
        self.tasks += other.tasks;
        self.unused_blobs.extend(other.unused_blobs);
    }
}

/// How long a workspace keeps its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// The server's `--retain-days` (which may keep everything).
    ServerDefault,
    /// This many days, whatever the server says.
    Days(u32),
    /// Nothing is pruned, whatever the server says.
    Forever,
}

impl Store {
    /// Every workspace's retention setting.
    ///
    /// # Errors
    /// Database failure.
    pub async fn retention_policies(&self) -> Result<Vec<(i64, Retention)>, StoreError> {
        let rows: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT id, retain_days FROM workspaces ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, days)| {
                let policy = match days {
                    None => Retention::ServerDefault,
                    Some(d) if d < 0 => Retention::Forever,
                    Some(d) => Retention::Days(u32::try_from(d).unwrap_or(u32::MAX)),
                };
                (id, policy)
            })
            .collect())
    }

    /// Sets a workspace's retention; false when it does not exist.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_retention(
        &self,
        workspace_id: i64,
        policy: Retention,
    ) -> Result<bool, StoreError> {
        let days: Option<i64> = match policy {
            Retention::ServerDefault => None,
            Retention::Days(d) => Some(i64::from(d)),
            Retention::Forever => Some(-1),
        };
        let n = sqlx::query("UPDATE workspaces SET retain_days = $2 WHERE id = $1")
            .bind(workspace_id)
            .bind(days)
            .execute(&self.write)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Deletes the workspace's history from before `before` (ms since the
    /// epoch): previous runs that started then, Test Center reports created
    /// then (with their runs, events, labels, imports and the runs'
    /// attachments; batches left without reports), and tasks that finished
    /// then (with their payload chunks and dedupe entries). Last runs,
    /// tests and work items stay whatever their age.
    ///
    /// # Errors
    /// Database failure (what earlier batches deleted stays deleted).
    pub async fn prune_workspace(
        &self,
        workspace_id: i64,
        before: i64,
    ) -> Result<PruneCounts, StoreError> {
        let mut counts = PruneCounts::default();
        loop {
            let n = self.prune_previous_runs(workspace_id, before).await?;
            counts.previous_runs += n;
            if n < ROW_BATCH.unsigned_abs() {
                break;
            }
        }
        loop {
            let Some(one) = self.prune_one_report(workspace_id, before).await? else {
                break;
            };
            counts.add(one);
        }
        loop {
            let n = self.prune_tasks(workspace_id, before).await?;
            counts.tasks += n;
            if n < ROW_BATCH.unsigned_abs() {
                break;
            }
        }
        Ok(counts)
    }

    async fn begin_workspace_write(
        &self,
        workspace_id: i64,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let mut tx = self.begin_write().await?;
        // The lock ingest and Test Center writes of the workspace take:
        // no run gets an event or an archive while it is being deleted.
        crate::connect::lock_workspace(self.backend, &mut tx, workspace_id).await?;
        Ok(tx)
    }

    async fn prune_previous_runs(&self, workspace_id: i64, before: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_workspace_write(workspace_id).await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM previous_runs WHERE workspace_id = $1 AND started < $2 ORDER BY started LIMIT $3",
        )
        .bind(workspace_id)
        .bind(before)
        .bind(ROW_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let deleted = delete_ids(&mut tx, "previous_runs", &ids).await?;
        sqlx::query(
            "UPDATE entity_counts SET n = CASE WHEN n > $2 THEN n - $2 ELSE 0 END \
             WHERE workspace_id = $1 AND collection = 'previous_runs'",
        )
        .bind(workspace_id)
        .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// One old report and everything under it, in one transaction; `None`
    /// when no report is old. A report is old when it was created before the
    /// cut-off and nothing was added to it since (reports are reused: a
    /// batch's report with the same labels takes every later suite).
    async fn prune_one_report(
        &self,
        workspace_id: i64,
        before: i64,
    ) -> Result<Option<PruneCounts>, StoreError> {
        let mut tx = self.begin_workspace_write(workspace_id).await?;
        let report: Option<(i64, i64)> = sqlx::query_as(
            "SELECT r.id, r.batch_id FROM tc_reports r WHERE r.workspace_id = $1 AND r.creation_time < $2 \
             AND NOT EXISTS (SELECT 1 FROM runs u WHERE u.report_id = r.id AND u.creation_time >= $2) \
             AND NOT EXISTS (SELECT 1 FROM tc_events e JOIN runs u ON e.run_id = u.id \
                             WHERE u.report_id = r.id AND e.created >= $2) \
             ORDER BY r.creation_time LIMIT 1",
        )
        .bind(workspace_id)
        .bind(before)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((report, batch)) = report else {
            return Ok(None);
        };
        let mut counts = PruneCounts {
            tc_reports: 1,
            ..PruneCounts::default()
        };
        let runs = "SELECT id FROM runs WHERE report_id = $1";
        let mut keys: Vec<String> =
            sqlx::query_as::<_, (Option<String>, Option<String>)>(sqlx::AssertSqlSafe(format!(
                "SELECT attachment_key, screenshot_key FROM tc_events WHERE run_id IN ({runs})"
            )))
            .bind(report)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .flat_map(|(a, s)| [a, s])
            .flatten()
            .collect();
        counts.tc_events = exec(
            &mut tx,
            &format!("DELETE FROM tc_events WHERE run_id IN ({runs})"),
            report,
        )
        .await?;
        // The runs go before their attachments are read: an upload to one
        // of them either committed before (and is found here) or waits for
        // this transaction and then finds no owner.
        let run_ids: Vec<i64> =
            sqlx::query_scalar("DELETE FROM runs WHERE report_id = $1 RETURNING id")
                .bind(report)
                .fetch_all(&mut *tx)
                .await?;
        counts.tc_runs = run_ids.len() as u64;
        for chunk in run_ids.chunks(500) {
            let list = id_list(chunk);
            let attachments: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, blob_key FROM attachments WHERE owner_run_id IN ({list}) ORDER BY blob_key"
            )))
            .fetch_all(&mut *tx)
            .await?;
            for (id, key) in &attachments {
                if crate::attachments::drop_attachment(&mut tx, *id, key, &mut counts.unused_blobs)
                    .await?
                {
                    counts.attachments += 1;
                }
            }
            for table_and_column in ["run_steps WHERE run_id", "entity_links WHERE src_id"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table_and_column} IN ({list})"
                )))
                .execute(&mut *tx)
                .await?;
            }
        }
        for table in ["tc_labels", "tc_imports"] {
            exec(
                &mut tx,
                &format!("DELETE FROM {table} WHERE report_id = $1"),
                report,
            )
            .await?;
        }
        exec(&mut tx, "DELETE FROM tc_reports WHERE id = $1", report).await?;
        exec(
            &mut tx,
            "DELETE FROM tc_batches WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM tc_reports WHERE batch_id = $1)",
            batch,
        )
        .await?;
        // In key order: no two writers wait on blob rows in a cycle.
        keys.sort_unstable();
        for key in keys {
            if crate::blob_refs::release(&mut tx, &key).await? {
                counts.unused_blobs.push(key);
            }
        }
        tx.commit().await?;
        counts.unused_blobs.sort_unstable();
        counts.unused_blobs.dedup();
        Ok(Some(counts))
    }

    /// A setting shared by every node and `verdict admin`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM server_settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Records a shared setting.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO server_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn prune_tasks(&self, workspace_id: i64, before: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tasks WHERE workspace_id = $1 AND finished_at < $2 \
             AND state NOT IN ('queued', 'running') ORDER BY finished_at LIMIT $3",
        )
        .bind(workspace_id)
        .bind(before)
        .bind(ROW_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let list = id_list(&ids);
        for table in ["payload_chunks", "payload_hashes"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE task_id IN ({list})"
            )))
            .execute(&mut *tx)
            .await?;
        }
        let deleted = delete_ids(&mut tx, "tasks", &ids).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// Runs a statement with one bound id; rows affected.
async fn exec(tx: &mut AnyConnection, sql: &str, id: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected())
}

/// `DELETE FROM table WHERE id IN (…)`: ids are our own integers.
async fn delete_ids(tx: &mut AnyConnection, table: &str, ids: &[i64]) -> Result<u64, StoreError> {
    let sql = format!("DELETE FROM {table} WHERE id IN ({})", id_list(ids));
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await?
        .rows_affected())
}

fn id_list(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{id}");
    }
    out
}
