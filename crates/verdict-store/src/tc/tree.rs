//! Reads for the web UI's Test Center pages: a report's run tree and its
//! runs' events, each scoped to the workspace (a report or event id from
//! another workspace reads as nothing).

use sqlx::Row;

use crate::bulk;
use crate::connect::Store;
use crate::error::StoreError;

/// One run of a report's tree.
#[derive(Debug, Clone)]
pub struct TcNode {
    pub run_id: i64,
    pub parent_run_id: Option<i64>,
    pub depth: i64,
    /// The test's subtype (`tc_suite`, `tc_case`, …).
    pub subtype: String,
    pub name: String,
    /// The rolled-up result rank, if any event set one.
    pub result: Option<i64>,
}

/// One event of a run, with the names of its files.
#[derive(Debug, Clone)]
pub struct TcEventRow {
    pub id: i64,
    pub run_id: i64,
    pub event_type: String,
    pub message: Option<String>,
    pub detail: Option<String>,
    pub attachment_name: Option<String>,
    pub screenshot_name: Option<String>,
    pub created: i64,
}

/// An event's file: blob key, file name, declared content type.
#[derive(Debug, Clone)]
pub struct TcEventFile {
    pub key: String,
    pub name: String,
    pub content_type: Option<String>,
}

impl Store {
    /// The runs of a report in `workspace_id`, by depth then id, at most
    /// `limit`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_report_tree(
        &self,
        workspace_id: i64,
        report_id: i64,
        limit: i64,
    ) -> Result<Vec<TcNode>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.parent_run_id, r.tc_depth, t.subtype, t.name, r.tc_result FROM runs r \
             JOIN tests t ON t.id = r.test_id WHERE r.report_id = $1 AND r.workspace_id = $2 \
             ORDER BY r.tc_depth, r.id LIMIT $3",
        )
        .bind(report_id)
        .bind(workspace_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TcNode {
                    run_id: r.try_get(0)?,
                    parent_run_id: r.try_get(1)?,
                    depth: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0),
                    subtype: r.try_get(3)?,
                    name: r.try_get(4)?,
                    result: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The events of `run_ids` in `workspace_id`, oldest first, at most
    /// `limit` in all.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_events_of_runs(
        &self,
        workspace_id: i64,
        run_ids: &[i64],
        limit: i64,
    ) -> Result<Vec<TcEventRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in run_ids.chunks(500) {
            let sql = format!(
                "SELECT id, run_id, event_type, message, detail, attachment_name, screenshot_name, created FROM tc_events \
                 WHERE workspace_id = {} AND run_id IN ({}) ORDER BY id LIMIT {}",
                bulk::placeholder(self.backend, 1),
                bulk::placeholders(self.backend, 2, chunk.len()),
                bulk::placeholder(self.backend, chunk.len() + 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(workspace_id);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.bind(limit).fetch_all(&self.read).await? {
                out.push(TcEventRow {
                    id: r.try_get(0)?,
                    run_id: r.try_get(1)?,
                    event_type: r.try_get(2)?,
                    message: r.try_get(3)?,
                    detail: r.try_get(4)?,
                    attachment_name: r.try_get(5)?,
                    screenshot_name: r.try_get(6)?,
                    created: r.try_get(7)?,
                });
            }
        }
        out.sort_by_key(|e| e.id);
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(out)
    }

    /// An event's screenshot (`screenshot`) or attachment, if the event is
    /// in `workspace_id` and has one.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_event_file(
        &self,
        workspace_id: i64,
        event_id: i64,
        screenshot: bool,
    ) -> Result<Option<TcEventFile>, StoreError> {
        let sql = if screenshot {
            "SELECT screenshot_key, screenshot_name, NULL FROM tc_events WHERE id = $1 AND workspace_id = $2"
        } else {
            "SELECT attachment_key, attachment_name, attachment_type FROM tc_events WHERE id = $1 AND workspace_id = $2"
        };
        let row = sqlx::query(sql)
            .bind(event_id)
            .bind(workspace_id)
            .fetch_optional(&self.read)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let key: Option<String> = r.try_get(0)?;
        let name: Option<String> = r.try_get(1)?;
        Ok(match (key, name) {
            (Some(key), Some(name)) => Some(TcEventFile {
                key,
                name,
                content_type: r.try_get(2)?,
            }),
            _ => None,
        })
    }
}
