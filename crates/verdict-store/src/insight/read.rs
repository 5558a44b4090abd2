//! Insight reads, each by index: result-set pages, a set's results, a test's
//! results, failure groups and their runs, flaky candidates.

use sqlx::Row;
use verdict_domain::insight::Outcome;

use super::clauses::{Where, bind_rows, bind_scalar, contains, contains_pattern};
use super::summary::SummaryCounts;
use crate::bulk;
use crate::connect::Store;
use crate::error::StoreError;

/// Most stale result sets one list request compares on the spot; the rest
/// show their cached counts marked stale until the worker refreshes them.
const MAX_LIVE_SUMMARIES: usize = 10;

/// Filters of the result-set list (all optional, combined with AND).
#[derive(Debug, Clone, Default)]
pub struct ResultSetFilter {
    pub kind: Option<String>,
    pub series_id: Option<i64>,
    /// A CI job (ci_jobs.id), or the jobs of a pipeline.
    pub ci_job_ids: Option<Vec<i64>>,
    pub release_id: Option<i64>,
    pub milestone_id: Option<i64>,
    /// Substring of the environment (taxonomy ids or Test Center labels).
    pub environment: Option<String>,
    /// Test Center batch name.
    pub batch: Option<String>,
    pub task_id: Option<i64>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// One result set with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultSetRow {
    pub id: i64,
    pub series_id: i64,
    pub series_name: String,
    pub kind: String,
    pub name: String,
    pub ci_build_id: Option<i64>,
    pub ci_job_id: Option<i64>,
    pub report_id: Option<i64>,
    pub task_id: Option<i64>,
    pub release_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub environment: Option<String>,
    pub pushed_by: Option<String>,
    pub batch: Option<String>,
    pub started: i64,
    pub finished: i64,
    pub total: i64,
    pub passed: i64,
    pub failed: i64,
    pub skipped: i64,
    pub flaky: i64,
    pub muted: i64,
    pub summary: SummaryCounts,
}

const SET_COLUMNS: &str = "s.id, s.series_id, se.name, s.kind, s.name, s.ci_build_id, s.ci_job_id, s.report_id, s.task_id, \
     s.release_id, s.milestone_id, s.environment, s.pushed_by, b.name, s.started, s.finished, s.total, s.passed, s.failed, \
     s.skipped, s.flaky, s.muted, s.summary, s.summary_stale";
const SET_FROM: &str = "FROM result_sets s JOIN series se ON se.id = s.series_id \
     LEFT JOIN tc_reports rep ON rep.id = s.report_id LEFT JOIN tc_batches b ON b.id = rep.batch_id";

/// What a page shows of a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestInfo {
    pub id: i64,
    pub name: String,
    pub class_name: String,
    pub package: String,
    pub component: String,
    pub subtype: String,
}

/// One result in a test's story, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryResult {
    pub result_id: i64,
    pub context_key: i64,
    pub run_id: i64,
    pub result_set_id: i64,
    pub result_set_name: String,
    pub result_set_kind: String,
    pub outcome: Outcome,
    pub flaky: bool,
    pub retries: i64,
    pub muted: bool,
    pub started: i64,
    pub duration: i64,
    pub signature: Option<i64>,
}

/// Filters of the failure-group list.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub since: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// A failure group with its counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup {
    pub signature: i64,
    pub error_type: String,
    pub message: String,
    pub frames: Vec<String>,
    pub sample_message: String,
    pub failed_runs: i64,
    pub tests_affected: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub first_result_set_id: i64,
    pub last_result_set_id: i64,
}

/// A failed run of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRun {
    pub result_id: i64,
    pub test_id: i64,
    pub test_name: String,
    pub run_id: i64,
    pub result_set_id: i64,
    pub result_set_name: String,
    pub started: i64,
    pub muted: bool,
}

/// The filter's clauses; `None` when nothing can match.
fn filter_clauses(backend: crate::connect::Backend, f: &ResultSetFilter) -> Option<Where> {
    let mut w = Where::new(backend);
    if let Some(v) = f.series_id {
        w.int("s.series_id = ?", v);
    }
    if let Some(v) = f.release_id {
        w.int("s.release_id = ?", v);
    }
    if let Some(v) = f.milestone_id {
        w.int("s.milestone_id = ?", v);
    }
    if let Some(v) = f.since {
        w.int("s.started >= ?", v);
    }
    if let Some(v) = f.until {
        w.int("s.started < ?", v);
    }
    if let Some(v) = f.task_id {
        w.int(
            "s.id IN (SELECT result_set_id FROM result_set_tasks WHERE task_id = ?)",
            v,
        );
    }
    if let Some(jobs) = &f.ci_job_ids {
        if jobs.is_empty() {
            return None;
        }
        w.ints("s.ci_job_id", jobs);
    }
    if let Some(kind) = &f.kind {
        w.text("s.kind = ?", kind.clone());
    }
    if let Some(env) = &f.environment {
        w.text(&contains(backend, "s.environment"), contains_pattern(env));
    }
    if let Some(batch) = &f.batch {
        w.text("b.name = ?", batch.clone());
    }
    Some(w)
}

fn set_row(r: &sqlx::any::AnyRow) -> Result<(ResultSetRow, Option<String>, bool), StoreError> {
    let summary: Option<String> = r.try_get(22)?;
    let stale = r.try_get::<i64, _>(23)? != 0;
    Ok((
        ResultSetRow {
            id: r.try_get(0)?,
            series_id: r.try_get(1)?,
            series_name: r.try_get(2)?,
            kind: r.try_get(3)?,
            name: r.try_get(4)?,
            ci_build_id: r.try_get(5)?,
            ci_job_id: r.try_get(6)?,
            report_id: r.try_get(7)?,
            task_id: r.try_get(8)?,
            release_id: r.try_get(9)?,
            milestone_id: r.try_get(10)?,
            environment: r.try_get(11)?,
            pushed_by: r.try_get(12)?,
            batch: r.try_get(13)?,
            started: r.try_get(14)?,
            finished: r.try_get(15)?,
            total: r.try_get(16)?,
            passed: r.try_get(17)?,
            failed: r.try_get(18)?,
            skipped: r.try_get(19)?,
            flaky: r.try_get(20)?,
            muted: r.try_get(21)?,
            summary: SummaryCounts::default(),
        },
        summary,
        stale,
    ))
}

impl Store {
    /// Rows of one workspace keyed by a list of ids, read 500 ids per
    /// statement; `sql` gets the workspace's placeholder and the id list's.
    pub(crate) async fn in_workspace<T>(
        &self,
        workspace_id: i64,
        ids: &[i64],
        sql: impl Fn(&str, &str) -> String,
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let text = sql(
                &bulk::placeholder(self.backend, 1),
                &bulk::placeholders(self.backend, 2, chunk.len()),
            );
            let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(text)).bind(workspace_id);
            for id in chunk {
                q = q.bind(*id);
            }
            out.extend(q.fetch_all(&self.read).await?);
        }
        Ok(out)
    }

    /// Result sets of the workspace, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn result_sets(
        &self,
        workspace_id: i64,
        f: &ResultSetFilter,
    ) -> Result<Vec<ResultSetRow>, StoreError> {
        let Some(w) = filter_clauses(self.backend, f) else {
            return Ok(Vec::new());
        };
        let (clause, binds) = w.finish("s.started DESC, s.id DESC", f.limit, f.offset);
        let sql = format!(
            "SELECT {SET_COLUMNS} {SET_FROM} WHERE s.workspace_id = {} {clause}",
            bulk::placeholder(self.backend, 1)
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(workspace_id);
        let rows = bind_rows(q, binds).fetch_all(&self.read).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut live = 0;
        for r in &rows {
            let (mut row, cached, stale) = set_row(r)?;
            if stale && live >= MAX_LIVE_SUMMARIES {
                row.summary = cached
                    .as_deref()
                    .and_then(SummaryCounts::from_json)
                    .unwrap_or_default();
                row.summary.stale = true;
            } else {
                live += usize::from(stale);
                row.summary = self
                    .summary_counts(workspace_id, row.id, cached.as_deref(), stale)
                    .await?;
            }
            out.push(row);
        }
        Ok(out)
    }

    /// How many result sets match the filter (paging ignored).
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_result_sets(
        &self,
        workspace_id: i64,
        f: &ResultSetFilter,
    ) -> Result<i64, StoreError> {
        let Some(w) = filter_clauses(self.backend, f) else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT COUNT(*) {SET_FROM} WHERE s.workspace_id = {} {}",
            bulk::placeholder(self.backend, 1),
            w.sql
        );
        let q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(workspace_id);
        Ok(bind_scalar(q, w.binds).fetch_one(&self.read).await?)
    }

    /// CI job ids of the workspace named by `job` (its id or CI id) and/or
    /// belonging to pipeline `pipeline` (its root job and its nodes' jobs).
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_job_ids(
        &self,
        workspace_id: i64,
        job: Option<&str>,
        pipeline: Option<i64>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut ids: Option<Vec<i64>> = None;
        if let Some(job) = job {
            let by_id = job.parse::<i64>().unwrap_or(-1);
            let found: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM ci_jobs WHERE workspace_id = $1 AND (ci_id = $2 OR id = $3)",
            )
            .bind(workspace_id)
            .bind(job)
            .bind(by_id)
            .fetch_all(&self.read)
            .await?;
            ids = Some(found);
        }
        if let Some(pipeline) = pipeline {
            let found: Vec<i64> = sqlx::query_scalar(
                "SELECT root_job_id FROM pipelines WHERE workspace_id = $1 AND id = $2 AND root_job_id IS NOT NULL \
                 UNION SELECT ci_job_id FROM pipeline_nodes WHERE workspace_id = $1 AND pipeline_id = $2",
            )
            .bind(workspace_id)
            .bind(pipeline)
            .fetch_all(&self.read)
            .await?;
            ids = Some(match ids {
                Some(by_job) => by_job.into_iter().filter(|j| found.contains(j)).collect(),
                None => found,
            });
        }
        Ok(ids.unwrap_or_default())
    }

    /// One result set of the workspace.
    ///
    /// # Errors
    /// Database failure.
    pub async fn result_set(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<Option<ResultSetRow>, StoreError> {
        let sql =
            format!("SELECT {SET_COLUMNS} {SET_FROM} WHERE s.workspace_id = $1 AND s.id = $2");
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let (mut row, cached, stale) = set_row(&r)?;
        row.summary = self
            .summary_counts(workspace_id, row.id, cached.as_deref(), stale)
            .await?;
        Ok(Some(row))
    }

    /// Name and identity of tests of the workspace.
    ///
    /// # Errors
    /// Database failure.
    pub async fn test_infos(
        &self,
        workspace_id: i64,
        ids: &[i64],
    ) -> Result<Vec<TestInfo>, StoreError> {
        let rows: Vec<(i64, String, String, String, String, String)> = self
            .in_workspace(workspace_id, ids, |ws, list| {
                format!("SELECT id, name, class_name, package, component, subtype FROM tests WHERE workspace_id = {ws} AND id IN ({list})")
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, class_name, package, component, subtype)| TestInfo {
                    id,
                    name,
                    class_name,
                    package,
                    component,
                    subtype,
                },
            )
            .collect())
    }

    /// Every result of a test (by context, oldest first), at most `limit`
    /// newest per call; the results of tests outside the workspace are none.
    ///
    /// # Errors
    /// Database failure.
    pub async fn test_results(
        &self,
        workspace_id: i64,
        test_ids: &[i64],
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<(i64, StoryResult)>, StoreError> {
        self.read_results(workspace_id, test_ids, since, until, true)
            .await
    }

    /// [`Store::test_results`] with only what streaks and figures need
    /// (outcome, flaky mark, start, duration, set): half the columns to
    /// decode when many tests' histories are read at once.
    ///
    /// # Errors
    /// Database failure.
    pub async fn test_outcomes(
        &self,
        workspace_id: i64,
        test_ids: &[i64],
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<(i64, StoryResult)>, StoreError> {
        self.read_results(workspace_id, test_ids, since, until, false)
            .await
    }

    async fn read_results(
        &self,
        workspace_id: i64,
        test_ids: &[i64],
        since: Option<i64>,
        until: Option<i64>,
        full: bool,
    ) -> Result<Vec<(i64, StoryResult)>, StoreError> {
        let mut out = Vec::new();
        let extra = if full {
            "r.run_id, r.retries, r.muted, r.signature"
        } else {
            "0, 0, 0, NULL"
        };
        for chunk in test_ids.chunks(200) {
            let sql = format!(
                "SELECT r.test_id, r.id, r.context_key, r.result_set_id, r.outcome, r.flaky, r.started, r.duration, {extra} \
                 FROM results r WHERE r.workspace_id = {} AND r.started >= {} AND r.started <= {} AND r.test_id IN ({}) \
                 ORDER BY r.test_id, r.context_key, r.started, r.id",
                bulk::placeholder(self.backend, 1),
                bulk::placeholder(self.backend, 2),
                bulk::placeholder(self.backend, 3),
                bulk::placeholders(self.backend, 4, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace_id)
                .bind(since.unwrap_or(i64::MIN))
                .bind(until.unwrap_or(i64::MAX));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.read).await? {
                out.push(story_row(&r, full)?);
            }
        }
        self.name_sets(workspace_id, &mut out).await?;
        Ok(out)
    }

    /// The newest passed or failed results of each (test, context) pair, at
    /// most its `depth`, in story order (oldest first), with the columns a
    /// history point shows: what a flaky context's last flips are read from.
    ///
    /// # Errors
    /// Database failure.
    pub async fn newest_results(
        &self,
        workspace_id: i64,
        pairs: &[((i64, i64), usize)],
    ) -> Result<Vec<(i64, StoryResult)>, StoreError> {
        let mut out = Vec::new();
        for chunk in pairs.chunks(200) {
            let keys: Vec<(i64, i64)> = chunk.iter().map(|(pair, _)| *pair).collect();
            let depth = chunk.iter().map(|(_, d)| *d).max().unwrap_or(1);
            let sql = super::recent::newest_sql(
                &super::recent::pair_values(&keys),
                depth,
                POINT_COLUMNS,
                super::recent::COUNTED,
            );
            out.extend(self.packed_points(sql).await?);
        }
        out.sort_by_key(|(test, r)| (*test, r.context_key, r.started, r.result_id));
        self.name_sets(workspace_id, &mut out).await?;
        Ok(out)
    }

    /// Each pair's results up to a point, `(test, context, started, id)`:
    /// those that started before it and the point itself, newest `depth`
    /// per pair, in story order, with the columns a history point shows.
    /// What "failing since" is judged on; a pair whose streak may reach
    /// further back is read again deeper.
    ///
    /// # Errors
    /// Database failure.
    pub async fn results_until(
        &self,
        workspace_id: i64,
        points: &[(i64, i64, i64, i64)],
        depth: usize,
    ) -> Result<Vec<(i64, StoryResult)>, StoreError> {
        let mut out = Vec::new();
        for chunk in points.chunks(200) {
            let values: Vec<String> = chunk
                .iter()
                .map(|(test, ctx, started, id)| format!("({test},{ctx},{started},{id})"))
                .collect();
            let sql = super::recent::newest_sql(
                &values,
                depth,
                POINT_COLUMNS,
                "(r.started < v.column3 OR (r.started = v.column3 AND r.id <= v.column4))",
            );
            out.extend(self.packed_points(sql).await?);
        }
        out.sort_by_key(|(test, r)| (*test, r.context_key, r.started, r.result_id));
        self.name_sets(workspace_id, &mut out).await?;
        Ok(out)
    }

    /// Runs a `recent::newest_sql` statement over [`POINT_COLUMNS`].
    async fn packed_points(&self, sql: String) -> Result<Vec<(i64, StoryResult)>, StoreError> {
        let mut out = Vec::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?
        {
            let test_id: i64 = r.try_get(0)?;
            let context_key: i64 = r.try_get(1)?;
            let text: Option<String> = r.try_get(2)?;
            for [id, set, outcome, flaky, started, duration] in
                crate::json_rows::unpack::<6>(text.as_deref().unwrap_or_default())?
            {
                out.push((
                    test_id,
                    StoryResult {
                        result_id: id,
                        context_key,
                        run_id: 0,
                        result_set_id: set,
                        result_set_name: String::new(),
                        result_set_kind: String::new(),
                        outcome: Outcome::from_code(outcome),
                        flaky: flaky != 0,
                        retries: 0,
                        muted: false,
                        started,
                        duration,
                        signature: None,
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Fills the names of the few sets involved, read once (a join per
    /// result row was most of a result set page's time at 10,000 results
    /// per set).
    async fn name_sets(
        &self,
        workspace_id: i64,
        out: &mut [(i64, StoryResult)],
    ) -> Result<(), StoreError> {
        let mut set_ids: Vec<i64> = out.iter().map(|(_, r)| r.result_set_id).collect();
        set_ids.sort_unstable();
        set_ids.dedup();
        let mut names: std::collections::HashMap<i64, (String, String)> =
            std::collections::HashMap::new();
        let rows: Vec<(i64, String, String)> = self
            .in_workspace(workspace_id, &set_ids, |ws, list| {
                format!("SELECT id, name, kind FROM result_sets WHERE workspace_id = {ws} AND id IN ({list})")
            })
            .await?;
        for (id, name, kind) in rows {
            names.insert(id, (name, kind));
        }
        for (_, r) in out.iter_mut() {
            if let Some((name, kind)) = names.get(&r.result_set_id) {
                r.result_set_name.clone_from(name);
                r.result_set_kind.clone_from(kind);
            }
        }
        Ok(())
    }

    /// Display text of contexts: (key, release name, environment names).
    ///
    /// # Errors
    /// Database failure.
    pub async fn contexts(
        &self,
        workspace_id: i64,
        keys: &[i64],
    ) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        self.in_workspace(workspace_id, keys, |ws, list| {
            format!(
                "SELECT c.context_key, rel.name, c.environment FROM contexts c LEFT JOIN releases rel ON rel.id = c.release_id \
                 WHERE c.workspace_id = {ws} AND c.context_key IN ({list})"
            )
        })
        .await
    }

    /// Names of taxonomy nodes (`Browser: Chrome`) by id, for environments.
    ///
    /// # Errors
    /// Database failure.
    pub async fn taxonomy_names(
        &self,
        workspace_id: i64,
        ids: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.in_workspace(workspace_id, ids, |ws, list| {
            format!(
                "SELECT t.id, COALESCE(c.name || ': ', '') || t.name FROM taxonomy_nodes t LEFT JOIN taxonomy_nodes c ON c.id = t.category_id \
                 WHERE t.workspace_id = {ws} AND t.id IN ({list})"
            )
        })
        .await
    }

    /// Failure groups of the workspace, most recently seen first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn failure_groups(
        &self,
        workspace_id: i64,
        f: &GroupFilter,
    ) -> Result<Vec<FailureGroup>, StoreError> {
        let sql = format!(
            "{GROUP_SELECT} WHERE g.workspace_id = $1 AND g.last_seen >= $2 ORDER BY g.last_seen DESC, g.signature LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(f.since.unwrap_or(i64::MIN))
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(group_row).collect()
    }

    /// How many failure groups were seen since `since`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_failure_groups(
        &self,
        workspace_id: i64,
        since: Option<i64>,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM failure_groups WHERE workspace_id = $1 AND last_seen >= $2",
        )
        .bind(workspace_id)
        .bind(since.unwrap_or(i64::MIN))
        .fetch_one(&self.read)
        .await?)
    }

    /// One failure group.
    ///
    /// # Errors
    /// Database failure.
    pub async fn failure_group(
        &self,
        workspace_id: i64,
        signature: i64,
    ) -> Result<Option<FailureGroup>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{GROUP_SELECT} WHERE g.workspace_id = $1 AND g.signature = $2"
        )))
        .bind(workspace_id)
        .bind(signature)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(group_row).transpose()
    }

    /// Failed runs of a group, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn group_runs(
        &self,
        workspace_id: i64,
        signature: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<GroupRun>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.test_id, t.name, r.run_id, r.result_set_id, s.name, r.started, r.muted FROM results r \
             JOIN tests t ON t.id = r.test_id JOIN result_sets s ON s.id = r.result_set_id \
             WHERE r.workspace_id = $1 AND r.signature = $2 ORDER BY r.started DESC, r.id DESC LIMIT $3 OFFSET $4",
        )
        .bind(workspace_id)
        .bind(signature)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GroupRun {
                    result_id: r.try_get(0)?,
                    test_id: r.try_get(1)?,
                    test_name: r.try_get(2)?,
                    run_id: r.try_get(3)?,
                    result_set_id: r.try_get(4)?,
                    result_set_name: r.try_get(5)?,
                    started: r.try_get(6)?,
                    muted: r.try_get::<i64, _>(7)? != 0,
                })
            })
            .collect()
    }

    /// Whether a failure group has failures in a set other than `set_id`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn group_outside_set(
        &self,
        workspace_id: i64,
        signature: i64,
        set_id: i64,
    ) -> Result<bool, StoreError> {
        let other: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM results WHERE workspace_id = $1 AND signature = $2 AND result_set_id <> $3 LIMIT 1",
        )
        .bind(workspace_id)
        .bind(signature)
        .bind(set_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(other.is_some())
    }

    /// Whether `set_id` is the newest set of its series.
    ///
    /// # Errors
    /// Database failure.
    pub async fn is_newest_in_series(&self, set_id: i64) -> Result<bool, StoreError> {
        let newer: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM result_sets n JOIN result_sets s ON s.id = $1 AND n.series_id = s.series_id \
             WHERE n.started > s.started OR (n.started = s.started AND n.id > s.id)",
        )
        .bind(set_id)
        .fetch_one(&self.read)
        .await?;
        Ok(newer == 0)
    }
}

/// A failure group's columns as [`group_row`] reads them (tests affected
/// counted on `failure_group_tests`).
const GROUP_SELECT: &str = "SELECT g.signature, g.error_type, g.message, g.frames, g.sample_message, g.failed_runs, \
     (SELECT COUNT(*) FROM failure_group_tests t WHERE t.workspace_id = g.workspace_id AND t.signature = g.signature), \
     g.first_seen, g.last_seen, g.first_result_set_id, g.last_result_set_id FROM failure_groups g";

fn group_row(r: &sqlx::any::AnyRow) -> Result<FailureGroup, StoreError> {
    let frames: String = r.try_get(3)?;
    Ok(FailureGroup {
        signature: r.try_get(0)?,
        error_type: r.try_get(1)?,
        message: r.try_get(2)?,
        frames: frames
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        sample_message: r.try_get(4)?,
        failed_runs: r.try_get(5)?,
        tests_affected: r.try_get(6)?,
        first_seen: r.try_get(7)?,
        last_seen: r.try_get(8)?,
        first_result_set_id: r.try_get(9)?,
        last_result_set_id: r.try_get(10)?,
    })
}

/// A story result row: `SELECT test_id, id, context_key, result_set_id,
/// outcome, flaky, started, duration` then, when `full`, `run_id, retries,
/// muted, signature`.
fn story_row(r: &sqlx::any::AnyRow, full: bool) -> Result<(i64, StoryResult), StoreError> {
    Ok((
        r.try_get(0)?,
        StoryResult {
            result_id: r.try_get(1)?,
            context_key: r.try_get(2)?,
            result_set_id: r.try_get(3)?,
            outcome: Outcome::from_code(r.try_get(4)?),
            flaky: r.try_get::<i64, _>(5)? != 0,
            started: r.try_get(6)?,
            duration: r.try_get(7)?,
            run_id: if full { r.try_get(8)? } else { 0 },
            retries: if full { r.try_get(9)? } else { 0 },
            muted: full && r.try_get::<i64, _>(10)? != 0,
            signature: if full { r.try_get(11)? } else { None },
            result_set_name: String::new(),
            result_set_kind: String::new(),
        },
    ))
}

/// The columns of a history point, packed (see `recent::unpack`).
const POINT_COLUMNS: &[&str] = &[
    "id",
    "result_set_id",
    "outcome",
    "flaky",
    "started",
    "duration",
];
