//! What a test's page shows beyond its outcomes: the entities the test is
//! linked to (backlog items, application modules, list values), each
//! failure's message and stack trace with the files it left, and a failure
//! group's failures per day.

use std::collections::HashMap;

use sqlx::Row;
use verdict_domain::status::RunStatus;
use verdict_domain::testcenter::{EventType, status_of_rank};
use verdict_domain::time::DAY_MS;

use crate::connect::Store;
use crate::error::StoreError;

/// Files listed per failure, at most.
const FILES_PER_FAILURE: i64 = 20;
/// Test Center events read below one failed case, at most.
const EVENTS_PER_FAILURE: i64 = 500;

/// An entity a test links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedEntity {
    pub id: i64,
    /// The entity's kind: a backlog item's subtype (`story`, `defect`…),
    /// `application_module`, or the list's name.
    pub kind: String,
    pub name: String,
}

/// A test's identity beyond its name, as the entity API keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestLinks {
    pub external_test_id: Option<String>,
    /// Framework, test level, testing tool type and test types.
    pub lists: Vec<LinkedEntity>,
    /// `covered_content`: the backlog items the test covers.
    pub backlog_items: Vec<LinkedEntity>,
    /// `product_areas`: the application modules.
    pub application_modules: Vec<LinkedEntity>,
}

/// A file a failure left: an Octane run attachment or a Test Center event's
/// screenshot or attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureFile {
    RunAttachment { id: i64, name: String, size: i64 },
    EventScreenshot { event_id: i64, name: String },
    EventAttachment { event_id: i64, name: String },
}

/// What a failed result reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureDetail {
    pub error_type: Option<String>,
    pub message: Option<String>,
    pub stack: Option<String>,
    pub files: Vec<FailureFile>,
}

impl Store {
    /// The entities `test_id` of `workspace_id` links to (empty for a test
    /// of another workspace).
    ///
    /// # Errors
    /// Database failure.
    pub async fn test_links(
        &self,
        workspace_id: i64,
        test_id: i64,
    ) -> Result<TestLinks, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT external_test_id, framework_id, test_level_id, testing_tool_type_id FROM tests \
             WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(test_id)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(TestLinks::default());
        };
        let mut list_ids: Vec<i64> = (1..4)
            .filter_map(|i| row.try_get::<Option<i64>, _>(i).ok().flatten())
            .collect();
        let linked = |field: &'static str, sql: &'static str| {
            sqlx::query(sql)
                .bind(workspace_id)
                .bind(test_id)
                .bind(field)
        };
        let entity = |r: &sqlx::any::AnyRow| -> Result<LinkedEntity, StoreError> {
            Ok(LinkedEntity {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                name: r.try_get(2)?,
            })
        };
        let backlog_items = linked(
            "covered_content",
            "SELECT w.id, w.subtype, w.name FROM entity_links l \
             JOIN work_items w ON w.id = l.dst_id AND w.workspace_id = l.workspace_id \
             WHERE l.workspace_id = $1 AND l.src_id = $2 AND l.field = $3 ORDER BY w.id LIMIT 100",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(entity)
        .collect::<Result<Vec<_>, _>>()?;
        let application_modules = linked(
            "product_areas",
            "SELECT m.id, 'application_module', m.name FROM entity_links l \
             JOIN application_modules m ON m.id = l.dst_id AND m.workspace_id = l.workspace_id \
             WHERE l.workspace_id = $1 AND l.src_id = $2 AND l.field = $3 ORDER BY m.id LIMIT 100",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(entity)
        .collect::<Result<Vec<_>, _>>()?;
        let test_types: Vec<i64> = sqlx::query_scalar(
            "SELECT dst_id FROM entity_links WHERE workspace_id = $1 AND src_id = $2 AND field = 'test_type' \
             ORDER BY dst_id LIMIT 100",
        )
        .bind(workspace_id)
        .bind(test_id)
        .fetch_all(&self.read)
        .await?;
        list_ids.extend(test_types);
        let lists = self
            .in_workspace::<(i64, String, String)>(workspace_id, &list_ids, |ws, ids| {
                format!(
                    "SELECT id, list_name, name FROM list_nodes WHERE workspace_id = {ws} AND id IN ({ids}) ORDER BY id"
                )
            })
            .await?
            .into_iter()
            .map(|(id, kind, name)| LinkedEntity { id, kind, name })
            .collect();
        Ok(TestLinks {
            external_test_id: row.try_get(0)?,
            lists,
            backlog_items,
            application_modules,
        })
    }

    /// What the failed result of `run_id` started at `started` reported: the
    /// run's own values when that is its newest execution, the archived
    /// previous run's otherwise (several archived at the same start: the
    /// newest with an error); for a Test Center case, its failing events
    /// and every file below it. `None` when the run is not `workspace_id`'s.
    ///
    /// # Errors
    /// Database failure.
    pub async fn failure_detail(
        &self,
        workspace_id: i64,
        run_id: i64,
        started: i64,
    ) -> Result<Option<FailureDetail>, StoreError> {
        let Some(run) = sqlx::query(
            "SELECT started, error_type, error_message, error_stack, report_id FROM runs \
             WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(run_id)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        if run.try_get::<Option<i64>, _>(4)?.is_some() {
            return self.tc_failure(workspace_id, run_id).await.map(Some);
        }
        if run.try_get::<i64, _>(0)? == started {
            let files = sqlx::query(
                "SELECT id, name, size FROM attachments WHERE workspace_id = $1 AND owner_run_id = $2 \
                 ORDER BY id LIMIT $3",
            )
            .bind(workspace_id)
            .bind(run_id)
            .bind(FILES_PER_FAILURE)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(FailureFile::RunAttachment {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    size: r.try_get(2)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
            return Ok(Some(FailureDetail {
                error_type: run.try_get(1)?,
                message: run.try_get(2)?,
                stack: run.try_get(3)?,
                files,
            }));
        }
        let archived = sqlx::query(
            "SELECT error_type, error_message, error_stack FROM previous_runs \
             WHERE workspace_id = $1 AND run_id = $2 AND started = $3 \
             ORDER BY CASE WHEN error_message IS NULL AND error_stack IS NULL THEN 1 ELSE 0 END, id DESC LIMIT 1",
        )
        .bind(workspace_id)
        .bind(run_id)
        .bind(started)
        .fetch_optional(&self.read)
        .await?;
        archived
            .map(|r| {
                Ok(FailureDetail {
                    error_type: r.try_get(0)?,
                    message: r.try_get(1)?,
                    stack: r.try_get(2)?,
                    files: Vec::new(),
                })
            })
            .transpose()
    }

    /// A Test Center case's failure: its first failing event (anywhere
    /// below it) gives message and trace; every screenshot and attachment
    /// below it is listed.
    async fn tc_failure(
        &self,
        workspace_id: i64,
        run_id: i64,
    ) -> Result<FailureDetail, StoreError> {
        let rows = sqlx::query(
            "WITH RECURSIVE below(id) AS (SELECT $2 UNION ALL \
               SELECT r.id FROM runs r JOIN below b ON r.parent_run_id = b.id) \
             SELECT e.id, e.event_type, e.message, e.detail, e.trace, e.location, e.screenshot_name, e.attachment_name \
             FROM tc_events e WHERE e.workspace_id = $1 AND e.run_id IN (SELECT id FROM below) ORDER BY e.id LIMIT $3",
        )
        .bind(workspace_id)
        .bind(run_id)
        .bind(EVENTS_PER_FAILURE)
        .fetch_all(&self.read)
        .await?;
        let mut detail = FailureDetail::default();
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let kind: String = r.try_get(1)?;
            let failing = EventType::parse(&kind)
                .is_some_and(|t| status_of_rank(t.rank()) == RunStatus::Failed);
            if failing && detail.error_type.is_none() {
                let text: Vec<String> = (3..6)
                    .filter_map(|i| r.try_get::<Option<String>, _>(i).ok().flatten())
                    .filter(|t| !t.is_empty())
                    .collect();
                detail.error_type = Some(kind);
                detail.message = r.try_get(2)?;
                detail.stack = (!text.is_empty()).then(|| text.join("\n"));
            }
            let cap = usize::try_from(FILES_PER_FAILURE).unwrap_or(20);
            if let Some(name) = r.try_get::<Option<String>, _>(6)?
                && detail.files.len() < cap
            {
                detail
                    .files
                    .push(FailureFile::EventScreenshot { event_id: id, name });
            }
            if let Some(name) = r.try_get::<Option<String>, _>(7)?
                && detail.files.len() < cap
            {
                detail
                    .files
                    .push(FailureFile::EventAttachment { event_id: id, name });
            }
        }
        Ok(detail)
    }

    /// The line a failed row shows for each of `signatures`: its group's
    /// error type and sample message (`Type: message`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn group_lines(
        &self,
        workspace_id: i64,
        signatures: &[i64],
    ) -> Result<HashMap<i64, String>, StoreError> {
        let mut unique = signatures.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let rows: Vec<(i64, String, String)> = self
            .in_workspace(workspace_id, &unique, |ws, ids| {
                format!(
                    "SELECT signature, error_type, sample_message FROM failure_groups \
                     WHERE workspace_id = {ws} AND signature IN ({ids})"
                )
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(sig, kind, message)| {
                let line = match (kind.is_empty(), message.is_empty()) {
                    (false, false) => format!("{kind}: {message}"),
                    (true, _) => message,
                    (false, true) => kind,
                };
                (sig, line)
            })
            .collect())
    }

    /// Failed results of a failure group per day from `first` (epoch ms)
    /// for `days` days: `(day index from 0, count)`, oldest first. The
    /// index is counted from `first`, so it is never negative and the
    /// bucket does not depend on how a backend rounds negative division.
    ///
    /// # Errors
    /// Database failure.
    pub async fn group_days(
        &self,
        workspace_id: i64,
        signature: i64,
        first: i64,
        days: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let Some(end) = days.checked_mul(DAY_MS).and_then(|d| first.checked_add(d)) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_as(
            "SELECT (started - $3) / 86400000 AS day, COUNT(*) FROM results \
             WHERE workspace_id = $1 AND signature = $2 AND started >= $3 AND started < $4 \
             GROUP BY (started - $3) / 86400000 ORDER BY day",
        )
        .bind(workspace_id)
        .bind(signature)
        .bind(first)
        .bind(end)
        .fetch_all(&self.read)
        .await?)
    }
}
