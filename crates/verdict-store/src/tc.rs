//! Test Center reporting state: projects (workspaces found by name), batches,
//! reports matched by their exact label set, the run hierarchy with its
//! "only the newest element of a level is open" rule, and events whose
//! verdicts roll up into run results.

mod events;
mod import_tx;
mod runs;
mod tree;

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;
use crate::ids;
use crate::tenancy::WorkspaceRecord;

pub use events::NewTcEvent;
pub use import_tx::TcImportTx;
pub use runs::{TcRun, TcTest};
pub use tree::{TcEventFile, TcEventRow, TcNode};

/// A report label; keys starting with `.` are hidden in overviews.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Label {
    pub key: String,
    pub value: String,
}

/// How `/upload/suites` picks its report (testcenter-notes "Grouping").
#[derive(Debug, Clone, Default)]
pub struct ReportSelection {
    pub batch: Option<String>,
    pub report_id: Option<i64>,
    pub labels: Option<Vec<Label>>,
}

/// A selected report and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcReport {
    pub id: i64,
    pub workspace_id: i64,
    pub batch: String,
}

/// Canonical text of a label multiset: equal keys ⇔ equal label sets.
fn label_key(labels: &[Label]) -> String {
    let mut sorted: Vec<&Label> = labels.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|l| format!("{}\u{1f}{}", l.key, l.value))
        .collect::<Vec<_>>()
        .join("\u{1e}")
}

impl Store {
    /// Records that a file with `content_sha256` was imported into a report;
    /// `false` when it already was (the import is then skipped).
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_record_import(
        &self,
        report_id: i64,
        content_sha256: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.write.acquire().await?;
        record_import_in(&mut conn, report_id, content_sha256).await
    }

    /// The project (workspace) named `name` in `shared_space_id`, created
    /// when missing and `create` allows it.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_project(
        &self,
        shared_space_id: i64,
        name: &str,
        create: bool,
    ) -> Result<Option<WorkspaceRecord>, StoreError> {
        if let Some(ws) = self
            .workspaces(shared_space_id)
            .await?
            .into_iter()
            .find(|w| w.name == name)
        {
            return Ok(Some(ws));
        }
        if !create {
            return Ok(None);
        }
        let id = {
            let mut conn = self.write.acquire().await?;
            ids::allocate(self.backend, &mut conn, 1)
                .await?
                .first()
                .copied()
                .unwrap_or_default()
        };
        self.ensure_workspace(shared_space_id, id, name).await?;
        Ok(self
            .workspaces(shared_space_id)
            .await?
            .into_iter()
            .find(|w| w.name == name))
    }

    /// The workspace and batch of a report.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_report(&self, report_id: i64) -> Result<Option<TcReport>, StoreError> {
        let row = sqlx::query(
            "SELECT r.id, r.workspace_id, b.name FROM tc_reports r JOIN tc_batches b ON b.id = r.batch_id WHERE r.id = $1",
        )
        .bind(report_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(TcReport {
                id: r.try_get(0)?,
                workspace_id: r.try_get(1)?,
                batch: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Selects or creates the report for a suite (testcenter-notes "Grouping").
    ///
    /// # Errors
    /// Unknown `report_id` ([`StoreError::NotFound`]) or database failure.
    pub async fn tc_select_report(
        &self,
        workspace_id: i64,
        sel: &ReportSelection,
    ) -> Result<TcReport, StoreError> {
        if let Some(id) = sel.report_id {
            return match self.tc_report(id).await? {
                Some(r) if r.workspace_id == workspace_id => Ok(r),
                _ => Err(StoreError::NotFound(format!("report {id} not found"))),
            };
        }
        let mut tx = self.begin_write().await?;
        let report = select_report_in(self.backend, &mut tx, workspace_id, sel).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Stores a token (hashed) that authenticates as `user_id`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(name)
            .bind(crate::now_ms())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The user a token (by hash) belongs to.
    ///
    /// # Errors
    /// Database failure.
    pub async fn api_token_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<crate::UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.password_hash, u.is_admin FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND u.disabled = 0",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(crate::UserRecord {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                password_hash: r.try_get(2)?,
                is_admin: r.try_get::<i64, _>(3)? != 0,
            })
        })
        .transpose()
    }
}

/// `.reference.url` values: a URL, or `[title](url)`.
fn reference_link(value: &str) -> (Option<String>, String) {
    if let Some(rest) = value.strip_prefix('[')
        && let Some((title, tail)) = rest.split_once("](")
        && let Some(url) = tail.strip_suffix(')')
    {
        return (Some(title.to_owned()), url.to_owned());
    }
    (None, value.to_owned())
}

fn time_label(ms: i64) -> String {
    verdict_domain::time::format_iso(ms)
        .replace([':', '-'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_sets_compare_without_order_but_with_repeats() {
        let l = |k: &str, v: &str| Label {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(
            label_key(&[l("os", "linux"), l("b", "1")]),
            label_key(&[l("b", "1"), l("os", "linux")])
        );
        assert_ne!(
            label_key(&[l("os", "linux")]),
            label_key(&[l("os", "linux"), l("os", "linux")])
        );
        assert_eq!(
            reference_link("[Build 5](https://ci/5)"),
            (Some("Build 5".into()), "https://ci/5".into())
        );
        assert_eq!(
            reference_link("https://ci/5"),
            (None, "https://ci/5".into())
        );
    }
}

/// A batch with its reports, for Verdict's own API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchView {
    pub id: i64,
    pub name: String,
    pub reference_url: Option<String>,
    pub reference_title: Option<String>,
    /// (report id, labels with their hidden flag).
    pub reports: Vec<(i64, Vec<(Label, bool)>)>,
}

impl Store {
    /// The batches of a workspace, newest first, with their reports and labels.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_batches(&self, workspace_id: i64) -> Result<Vec<BatchView>, StoreError> {
        let batches = sqlx::query(
            "SELECT id, name, reference_url, reference_title FROM tc_batches WHERE workspace_id = $1 ORDER BY id DESC",
        )
        .bind(workspace_id)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(batches.len());
        for b in &batches {
            let id: i64 = b.try_get(0)?;
            let rows = sqlx::query(
                "SELECT r.id, l.label_key, l.label_value, l.hidden FROM tc_reports r LEFT JOIN tc_labels l ON l.report_id = r.id \
                 WHERE r.batch_id = $1 ORDER BY r.id, l.position",
            )
            .bind(id)
            .fetch_all(&self.read)
            .await?;
            let mut reports: Vec<(i64, Vec<(Label, bool)>)> = Vec::new();
            for r in &rows {
                let report: i64 = r.try_get(0)?;
                if reports.last().is_none_or(|(last, _)| *last != report) {
                    reports.push((report, Vec::new()));
                }
                if let (Some(key), Some(value), Some(hidden)) = (
                    r.try_get::<Option<String>, _>(1)?,
                    r.try_get::<Option<String>, _>(2)?,
                    r.try_get::<Option<i64>, _>(3)?,
                ) && let Some((_, labels)) = reports.last_mut()
                {
                    labels.push((Label { key, value }, hidden != 0));
                }
            }
            out.push(BatchView {
                id,
                name: b.try_get(1)?,
                reference_url: b.try_get(2)?,
                reference_title: b.try_get(3)?,
                reports,
            });
        }
        Ok(out)
    }
}

/// [`Store::tc_select_report`] without a report id, inside a transaction.
pub(crate) async fn select_report_in(
    backend: crate::connect::Backend,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    workspace_id: i64,
    sel: &ReportSelection,
) -> Result<TcReport, StoreError> {
    let now = crate::now_ms();
    let batch_name = match &sel.batch {
        Some(b) => b.clone(),
        None => format!("batch-{}", time_label(now)),
    };
    let batch_id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM tc_batches WHERE workspace_id = $1 AND name = $2")
            .bind(workspace_id)
            .bind(&batch_name)
            .fetch_optional(&mut **tx)
            .await?;
    let batch_id = match batch_id {
        Some(id) => id,
        None => {
            let id = ids::allocate(backend, tx, 1)
                .await?
                .first()
                .copied()
                .unwrap_or_default();
            sqlx::query("INSERT INTO tc_batches (id, workspace_id, name, creation_time) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(workspace_id)
                .bind(&batch_name)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            id
        }
    };
    let labels = sel.labels.clone().unwrap_or_default();
    let key = label_key(&labels);
    let existing: Option<i64> = match (&sel.batch, &sel.labels) {
        (Some(_), Some(_)) => sqlx::query_scalar(
            "SELECT id FROM tc_reports WHERE batch_id = $1 AND label_key = $2 ORDER BY id LIMIT 1",
        )
        .bind(batch_id)
        .bind(&key)
        .fetch_optional(&mut **tx)
        .await?,
        (Some(_), None) => {
            sqlx::query_scalar("SELECT id FROM tc_reports WHERE batch_id = $1 ORDER BY id LIMIT 1")
                .bind(batch_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        _ => None,
    };
    let report_id = match existing {
        Some(id) => id,
        None => insert_report(backend, tx, workspace_id, batch_id, &labels, &key, now).await?,
    };
    Ok(TcReport {
        id: report_id,
        workspace_id,
        batch: batch_name,
    })
}

async fn insert_report(
    backend: crate::connect::Backend,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    workspace_id: i64,
    batch_id: i64,
    labels: &[Label],
    key: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let id = ids::allocate(backend, tx, 1)
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    sqlx::query("INSERT INTO tc_reports (id, workspace_id, batch_id, label_key, creation_time) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(workspace_id)
        .bind(batch_id)
        .bind(key)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    for (position, label) in labels.iter().enumerate() {
        sqlx::query(
            "INSERT INTO tc_labels (report_id, position, label_key, label_value, hidden) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(i64::try_from(position).unwrap_or_default())
        .bind(&label.key)
        .bind(&label.value)
        .bind(i64::from(label.key.starts_with('.')))
        .execute(&mut **tx)
        .await?;
        if label.key == ".reference.url" {
            let (title, url) = reference_link(&label.value);
            sqlx::query(
                "UPDATE tc_batches SET reference_url = $2, reference_title = $3 WHERE id = $1",
            )
            .bind(batch_id)
            .bind(url)
            .bind(title)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(id)
}

/// [`Store::tc_record_import`] on a connection (or inside a transaction).
pub(crate) async fn record_import_in(
    conn: &mut sqlx::AnyConnection,
    report_id: i64,
    content_sha256: &str,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO tc_imports (report_id, content_sha256, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(report_id)
    .bind(content_sha256)
    .bind(crate::now_ms())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
