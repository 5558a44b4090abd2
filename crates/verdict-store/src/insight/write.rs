//! The insight bookkeeping of ingest: a result set per build, report or push,
//! one `results` row per stored result, result-set counters, failure groups.
//! Runs on the caller's connection so it commits with the runs it describes.

use std::collections::{BTreeMap, HashSet};

use sqlx::Row;
use verdict_domain::insight::Outcome;
use verdict_domain::signature::Signature;

use super::recent;
use crate::bulk::{self, Cell};
use crate::connect::Backend;
use crate::error::StoreError;
use crate::ids;
use crate::row_params;

/// What identifies a result set and its series (docs/insight.md).
#[derive(Debug, Clone, Default)]
pub struct ResultSetSpec {
    /// `build`, `report` or `push`.
    pub kind: &'static str,
    /// Unique per workspace: `build:{ci_build_id}`, `report:{id}`, `push:{task}`.
    pub source_key: String,
    /// Unique per workspace: the series the set belongs to.
    pub series_key: String,
    pub series_name: String,
    pub name: String,
    pub ci_build_id: Option<i64>,
    pub ci_job_id: Option<i64>,
    pub report_id: Option<i64>,
    pub task_id: Option<i64>,
    pub release_id: Option<i64>,
    pub milestone_id: Option<i64>,
    /// Environment taxonomy ids (`12,15`) or Test Center labels (`os=linux`).
    pub environment: Option<String>,
    pub pushed_by: Option<String>,
}

impl ResultSetSpec {
    /// A CI build's set, in the series of its job (CI server + job).
    #[must_use]
    pub fn build(build_id: i64, job_id: i64, job_name: &str, build_name: &str) -> Self {
        Self {
            kind: "build",
            source_key: format!("build:{build_id}"),
            series_key: format!("job:{job_id}"),
            series_name: job_name.to_owned(),
            name: format!("{job_name} #{build_name}"),
            ci_build_id: Some(build_id),
            ci_job_id: Some(job_id),
            ..Self::default()
        }
    }

    /// A push tied to no build: its own set, in the series of the user who
    /// pushed, the release and the push-wide environment (`release_name`
    /// only names the series; the key holds the id).
    #[must_use]
    pub fn push(
        task_id: i64,
        pushed_by: Option<&str>,
        release: Option<(i64, Option<&str>)>,
        environment: Option<&str>,
    ) -> Self {
        let who = pushed_by.unwrap_or("unknown");
        let release_id = release.map(|(id, _)| id);
        let mut series_name = format!("pushes by {who}");
        if let Some((_, Some(name))) = release {
            series_name.push_str(&format!(", release {name}"));
        }
        if let Some(e) = environment {
            series_name.push_str(&format!(", {e}"));
        }
        Self {
            kind: "push",
            source_key: format!("push:{task_id}"),
            series_key: format!(
                "push:{who}:{}|{}",
                release_id.map_or_else(String::new, |r| r.to_string()),
                environment.unwrap_or_default()
            ),
            series_name,
            name: format!("push {task_id}"),
            release_id,
            environment: environment.map(str::to_owned),
            pushed_by: pushed_by.map(str::to_owned),
            task_id: Some(task_id),
            ..Self::default()
        }
    }
}

/// A result set being written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResultSetRef {
    pub id: i64,
    pub series_id: i64,
}

impl ContextSpec {
    /// The context of an Octane run (V): its release and environment
    /// taxonomies (ids, sorted, as the key's canonical text).
    #[must_use]
    pub fn octane(release_id: Option<i64>, taxonomy_ids: &[i64]) -> Self {
        let mut ids = taxonomy_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let environment = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        Self {
            key: verdict_domain::insight::context_key(release_id, &environment),
            release_id,
            environment,
        }
    }
}

impl NewResult {
    /// The result as a story entry.
    #[must_use]
    pub fn entry(&self) -> verdict_domain::insight::StoryEntry {
        verdict_domain::insight::StoryEntry {
            outcome: self.outcome,
            flaky: self.flaky,
            started: self.started,
            duration: self.duration,
        }
    }

    /// The result row of a stored Octane run result (a failure gets its signature).
    #[must_use]
    pub fn of_run(
        test_id: i64,
        run_id: i64,
        context_key: i64,
        values: &crate::ingest_tx::RunUpdate,
        muted: bool,
    ) -> Self {
        let outcome = Outcome::from_status_key(&values.status);
        Self {
            id: None,
            test_id,
            context_key,
            run_id,
            started: values.started,
            duration: values.duration,
            outcome,
            flaky: values.flaky,
            retries: values.retries,
            muted,
            failure: (outcome == Outcome::Failed).then(|| {
                FailureInfo::of(
                    values.error_type.as_deref(),
                    values.error_message.as_deref(),
                    values.error_stack.as_deref(),
                )
            }),
        }
    }
}

/// A failed result's signature and the raw first line users recognise.
#[derive(Debug, Clone)]
pub struct FailureInfo {
    pub signature: Signature,
    pub sample_message: String,
}

/// Longest sample message kept on a failure group (characters).
const MAX_SAMPLE_CHARS: usize = 1_000;

impl FailureInfo {
    /// The signature of a failure and the sample line shown with its group.
    #[must_use]
    pub fn of(error_type: Option<&str>, message: Option<&str>, stack: Option<&str>) -> Self {
        let signature = verdict_domain::signature::signature(error_type, message, stack);
        fn first(t: Option<&str>) -> Option<&str> {
            t.and_then(|t| t.lines().map(str::trim).find(|l| !l.is_empty()))
        }
        let sample_message = first(message)
            .or_else(|| first(stack))
            .unwrap_or("")
            .chars()
            .take(MAX_SAMPLE_CHARS)
            .collect();
        Self {
            signature,
            sample_message,
        }
    }
}

/// One stored result.
#[derive(Debug, Clone)]
pub struct NewResult {
    /// Set by the store unless given (Test Center: the run's own id).
    pub id: Option<i64>,
    pub test_id: i64,
    pub context_key: i64,
    pub run_id: i64,
    pub started: i64,
    pub duration: i64,
    pub outcome: Outcome,
    pub flaky: bool,
    pub retries: i64,
    pub muted: bool,
    pub failure: Option<FailureInfo>,
}

/// A result replaced inside its own task (the worse of two reports of one
/// result wins): the row is rewritten and the counters moved.
#[derive(Debug, Clone)]
pub struct ChangedResult {
    pub old_outcome: Outcome,
    pub old_flaky: bool,
    pub new: NewResult,
}

/// A context as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContextSpec {
    pub key: i64,
    pub release_id: Option<i64>,
    pub environment: String,
}

/// Finds or creates the result set (and its series).
pub(crate) async fn result_set(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    spec: &ResultSetSpec,
    started: i64,
) -> Result<ResultSetRef, StoreError> {
    let found = sqlx::query(
        "SELECT id, series_id FROM result_sets WHERE workspace_id = $1 AND source_key = $2",
    )
    .bind(workspace_id)
    .bind(&spec.source_key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = found {
        return Ok(ResultSetRef {
            id: r.try_get(0)?,
            series_id: r.try_get(1)?,
        });
    }
    let fresh = ids::allocate(backend, &mut *conn, 2).await?;
    let (series_fresh, set_fresh) = (fresh.first().copied(), fresh.get(1).copied());
    sqlx::query(
        "INSERT INTO series (id, workspace_id, kind, series_key, name) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (workspace_id, series_key) DO NOTHING",
    )
    .bind(series_fresh)
    .bind(workspace_id)
    .bind(spec.kind)
    .bind(&spec.series_key)
    .bind(&spec.series_name)
    .execute(&mut *conn)
    .await?;
    let series_id: i64 =
        sqlx::query_scalar("SELECT id FROM series WHERE workspace_id = $1 AND series_key = $2")
            .bind(workspace_id)
            .bind(&spec.series_key)
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO result_sets (id, workspace_id, series_id, kind, source_key, name, ci_build_id, ci_job_id, report_id, task_id, \
         release_id, milestone_id, environment, pushed_by, started, finished, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) \
         ON CONFLICT (workspace_id, source_key) DO NOTHING",
    )
    .bind(set_fresh)
    .bind(workspace_id)
    .bind(series_id)
    .bind(spec.kind)
    .bind(&spec.source_key)
    .bind(&spec.name)
    .bind(spec.ci_build_id)
    .bind(spec.ci_job_id)
    .bind(spec.report_id)
    .bind(spec.task_id)
    .bind(spec.release_id)
    .bind(spec.milestone_id)
    .bind(spec.environment.as_deref())
    .bind(spec.pushed_by.as_deref())
    .bind(started)
    .bind(crate::now_ms())
    .execute(&mut *conn)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "SELECT id FROM result_sets WHERE workspace_id = $1 AND source_key = $2",
    )
    .bind(workspace_id)
    .bind(&spec.source_key)
    .fetch_one(&mut *conn)
    .await?;
    // a set that appears in the middle of its series changes its successor's previous
    mark_successor_stale(conn, id).await?;
    Ok(ResultSetRef { id, series_id })
}

/// Counter deltas of a result set.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    total: i64,
    passed: i64,
    failed: i64,
    skipped: i64,
    flaky: i64,
    muted: i64,
    started: Option<i64>,
    finished: Option<i64>,
}

impl Counts {
    fn add(&mut self, outcome: Outcome, flaky: bool, muted: bool, sign: i64) {
        self.total += sign;
        match outcome {
            Outcome::Passed => self.passed += sign,
            Outcome::Failed => self.failed += sign,
            Outcome::Skipped => self.skipped += sign,
            Outcome::None => {}
        }
        if flaky && outcome == Outcome::Passed {
            self.flaky += sign;
        }
        if muted && outcome == Outcome::Failed {
            self.muted += sign;
        }
    }

    fn span(&mut self, started: i64, duration: i64) {
        self.started = Some(self.started.map_or(started, |s| s.min(started)));
        let end = started.saturating_add(duration.max(0));
        self.finished = Some(self.finished.map_or(end, |f| f.max(end)));
    }
}

/// Writes results into `set`: rows, counters, contexts, failure groups.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    task_id: i64,
    set: ResultSetRef,
    mut new: Vec<NewResult>,
    changed: Vec<ChangedResult>,
    contexts: &[ContextSpec],
    known: Option<&mut recent::NewInTx>,
) -> Result<(), StoreError> {
    if new.is_empty() && changed.is_empty() {
        return Ok(());
    }
    let missing = new.iter().filter(|r| r.id.is_none()).count();
    let mut fresh = ids::allocate(backend, &mut *conn, missing)
        .await?
        .into_iter();
    for r in &mut new {
        if r.id.is_none() {
            r.id = fresh.next();
        }
    }
    let mut counts = Counts::default();
    for r in &new {
        counts.add(r.outcome, r.flaky, r.muted, 1);
        counts.span(r.started, r.duration);
    }
    for c in &changed {
        counts.add(c.old_outcome, c.old_flaky, c.new.muted, -1);
        counts.add(c.new.outcome, c.new.flaky, c.new.muted, 1);
        update_result(conn, task_id, &c.new).await?;
    }
    insert_results(backend, conn, workspace_id, task_id, set, &new).await?;
    let arrivals: Vec<recent::Arrival> = new
        .iter()
        .map(|r| recent::Arrival {
            test_id: r.test_id,
            context_key: r.context_key,
            entry: r.entry(),
            fresh: true,
        })
        .collect();
    let rewritten: Vec<recent::Pair> = changed
        .iter()
        .map(|c| (c.new.test_id, c.new.context_key))
        .collect();
    recent::track(backend, conn, workspace_id, &arrivals, &rewritten, known).await?;
    bump_counts(conn, set.id, &counts).await?;
    insert_contexts(backend, conn, workspace_id, contexts).await?;
    let failures: Vec<&NewResult> = new
        .iter()
        .chain(changed.iter().map(|c| &c.new))
        .filter(|r| r.failure.is_some())
        .collect();
    record_groups(backend, conn, workspace_id, set, &failures).await
}

async fn insert_results(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    task_id: i64,
    set: ResultSetRef,
    new: &[NewResult],
) -> Result<(), StoreError> {
    let rows: Vec<Vec<Cell<'_>>> = new
        .iter()
        .map(|r| {
            vec![
                Cell::Int(r.id),
                Cell::Int(Some(r.test_id)),
                Cell::Int(Some(r.context_key)),
                Cell::Int(Some(r.run_id)),
                Cell::Int(Some(r.started)),
                Cell::Int(Some(r.duration)),
                Cell::Int(Some(r.outcome.code())),
                Cell::Int(Some(i64::from(r.flaky))),
                Cell::Int(Some(r.retries)),
                Cell::Int(Some(i64::from(r.muted))),
                Cell::Int(r.failure.as_ref().map(|f| f.signature.stored())),
            ]
        })
        .collect();
    // The four values every row of the batch shares are written once per
    // statement, not bound per row: binds are most of the insert's cost.
    // PostgreSQL: one `jsonb` parameter per 2,000-item batch instead of
    // four 500-row `VALUES` lists, each parsed and planned.
    let columns = "id, test_id, context_key, run_id, started, duration, outcome, flaky, retries, muted, signature";
    let picks: Vec<String> = (0..11).map(|i| format!("c{i}")).collect();
    row_params::execute(
        backend,
        conn,
        &[row_params::Kind::Int; 11],
        &rows,
        |source| {
            format!(
                "INSERT INTO results ({columns}, workspace_id, result_set_id, series_id, task_id) \
             SELECT {}, {workspace_id}, {}, {}, {task_id} FROM ({source}) v",
                picks.join(", "),
                set.id,
                set.series_id
            )
        },
    )
    .await
}

/// Rewrites the result a run got earlier in the same task (and only that
/// one: an equal result of an earlier task belongs to another set).
async fn update_result(
    conn: &mut sqlx::AnyConnection,
    task_id: i64,
    r: &NewResult,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE results SET outcome = $4, flaky = $5, retries = $6, duration = $7, signature = $8 \
         WHERE test_id = $1 AND context_key = $2 AND started = $3 AND run_id = $9 AND task_id = $10",
    )
    .bind(r.test_id)
    .bind(r.context_key)
    .bind(r.started)
    .bind(r.outcome.code())
    .bind(i64::from(r.flaky))
    .bind(r.retries)
    .bind(r.duration)
    .bind(r.failure.as_ref().map(|f| f.signature.stored()))
    .bind(r.run_id)
    .bind(task_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn bump_counts(
    conn: &mut sqlx::AnyConnection,
    set_id: i64,
    c: &Counts,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE result_sets SET total = total + $2, passed = passed + $3, failed = failed + $4, skipped = skipped + $5, \
         flaky = flaky + $6, muted = muted + $7, \
         started = CASE WHEN $8 < started THEN $8 ELSE started END, \
         finished = CASE WHEN $9 > finished THEN $9 ELSE finished END, summary_stale = 1, \
         summary_version = summary_version + 1 WHERE id = $1",
    )
    .bind(set_id)
    .bind(c.total)
    .bind(c.passed)
    .bind(c.failed)
    .bind(c.skipped)
    .bind(c.flaky)
    .bind(c.muted)
    .bind(c.started.unwrap_or(i64::MAX))
    .bind(c.finished.unwrap_or(i64::MIN))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_contexts(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    contexts: &[ContextSpec],
) -> Result<(), StoreError> {
    let unique: HashSet<&ContextSpec> = contexts.iter().collect();
    let rows: Vec<Vec<Cell<'_>>> = unique
        .into_iter()
        .map(|c| {
            vec![
                Cell::Int(Some(workspace_id)),
                Cell::Int(Some(c.key)),
                Cell::Int(c.release_id),
                Cell::Text(Some(&c.environment)),
            ]
        })
        .collect();
    bulk::insert_rows(
        backend,
        conn,
        "contexts",
        &["workspace_id", "context_key", "release_id", "environment"],
        &rows,
        true,
    )
    .await
}

/// One group's share of a batch.
struct GroupDelta<'a> {
    failure: &'a FailureInfo,
    runs: i64,
    first: i64,
    last: i64,
}

/// Moves a set's counters for a result rewritten elsewhere (Test Center
/// verdicts), and files its failure in its group.
pub(crate) async fn move_counts(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    set: ResultSetRef,
    c: &ChangedResult,
) -> Result<(), StoreError> {
    let mut counts = Counts::default();
    counts.add(c.old_outcome, c.old_flaky, c.new.muted, -1);
    counts.add(c.new.outcome, c.new.flaky, c.new.muted, 1);
    bump_counts(conn, set.id, &counts).await?;
    if c.new.failure.is_some() {
        record_groups(backend, conn, workspace_id, set, &[&c.new]).await?;
    }
    Ok(())
}

async fn record_groups(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    set: ResultSetRef,
    failures: &[&NewResult],
) -> Result<(), StoreError> {
    let mut groups: BTreeMap<i64, GroupDelta<'_>> = BTreeMap::new();
    let mut tests: HashSet<(i64, i64)> = HashSet::new();
    for r in failures {
        let Some(f) = &r.failure else { continue };
        let key = f.signature.stored();
        tests.insert((key, r.test_id));
        groups
            .entry(key)
            .and_modify(|g| {
                g.runs += 1;
                g.first = g.first.min(r.started);
                g.last = g.last.max(r.started);
            })
            .or_insert(GroupDelta {
                failure: f,
                runs: 1,
                first: r.started,
                last: r.started,
            });
    }
    let (least, greatest) = match backend {
        Backend::Sqlite => ("MIN", "MAX"),
        Backend::Postgres => ("LEAST", "GREATEST"),
    };
    let sql = format!(
        "INSERT INTO failure_groups (workspace_id, signature, error_type, message, frames, sample_message, failed_runs, \
         first_seen, last_seen, first_result_set_id, last_result_set_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (workspace_id, signature) DO UPDATE SET failed_runs = failure_groups.failed_runs + excluded.failed_runs, \
         first_result_set_id = CASE WHEN excluded.first_seen < failure_groups.first_seen THEN excluded.first_result_set_id ELSE failure_groups.first_result_set_id END, \
         last_result_set_id = CASE WHEN excluded.last_seen >= failure_groups.last_seen THEN excluded.last_result_set_id ELSE failure_groups.last_result_set_id END, \
         first_seen = {least}(failure_groups.first_seen, excluded.first_seen), \
         last_seen = {greatest}(failure_groups.last_seen, excluded.last_seen)"
    );
    for (key, g) in &groups {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(workspace_id)
            .bind(*key)
            .bind(&g.failure.signature.error_type)
            .bind(&g.failure.signature.message)
            .bind(g.failure.signature.frames.join("\n"))
            .bind(&g.failure.sample_message)
            .bind(g.runs)
            .bind(g.first)
            .bind(g.last)
            .bind(set.id)
            .execute(&mut *conn)
            .await?;
    }
    let rows: Vec<Vec<Cell<'_>>> = tests
        .iter()
        .map(|(sig, test)| {
            vec![
                Cell::Int(Some(workspace_id)),
                Cell::Int(Some(*sig)),
                Cell::Int(Some(*test)),
            ]
        })
        .collect();
    bulk::insert_rows(
        backend,
        conn,
        "failure_group_tests",
        &["workspace_id", "signature", "test_id"],
        &rows,
        true,
    )
    .await
}

/// Tests of the workspace muted now.
pub(crate) async fn active_mutes(
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
) -> Result<HashSet<i64>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT test_id FROM mutes WHERE workspace_id = $1 AND unmuted_at IS NULL",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.into_iter().collect())
}

/// Links the task to the sets it wrote and marks the next set of each
/// series stale too (its previous set may have changed).
pub(crate) async fn close_sets(
    conn: &mut sqlx::AnyConnection,
    task_id: i64,
    sets: &[ResultSetRef],
) -> Result<(), StoreError> {
    for set in sets {
        sqlx::query("INSERT INTO result_set_tasks (task_id, result_set_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(task_id)
            .bind(set.id)
            .execute(&mut *conn)
            .await?;
        mark_successor_stale(conn, set.id).await?;
    }
    Ok(())
}

/// The set after `set_id` in its series compares with it: its cached
/// counts are out of date once `set_id` changes or appears.
pub(crate) async fn mark_successor_stale(
    conn: &mut sqlx::AnyConnection,
    set_id: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE result_sets SET summary_stale = 1, summary_version = summary_version + 1 WHERE id = \
         (SELECT n.id FROM result_sets n, result_sets s WHERE s.id = $1 AND n.series_id = s.series_id \
         AND (n.started > s.started OR (n.started = s.started AND n.id > s.id)) ORDER BY n.started, n.id LIMIT 1)",
    )
    .bind(set_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
