//! Test Center runs in insight: every report is a result set (series: the
//! project and its visible labels); each case and scenario run is a result,
//! created without an outcome and raised as its events arrive (the worst
//! verdict wins, as the run's own status does).

use sqlx::Row;
use verdict_domain::insight::Outcome;
use verdict_domain::testcenter::{Level, status_of_rank};

use super::recent;
use super::write::{self, ContextSpec, FailureInfo, NewResult, ResultSetSpec};
use crate::connect::Backend;
use crate::error::StoreError;

/// Levels whose runs are results: Squish test cases and BDD scenarios.
/// Suites and features hold them; steps and sections are parts of them.
fn counts(level: Level) -> bool {
    matches!(level, Level::Case | Level::Scenario)
}

/// The report's result set and the context its runs share.
async fn report_set(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    report_id: i64,
    started: i64,
) -> Result<(write::ResultSetRef, ContextSpec), StoreError> {
    let batch: String = sqlx::query_scalar(
        "SELECT b.name FROM tc_reports r JOIN tc_batches b ON b.id = r.batch_id WHERE r.id = $1",
    )
    .bind(report_id)
    .fetch_one(&mut *conn)
    .await?;
    let mut labels: Vec<(String, String)> = sqlx::query_as(
        "SELECT label_key, label_value FROM tc_labels WHERE report_id = $1 AND hidden = 0",
    )
    .bind(report_id)
    .fetch_all(&mut *conn)
    .await?;
    labels.sort();
    let environment = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let spec = ResultSetSpec {
        kind: "report",
        source_key: format!("report:{report_id}"),
        series_key: format!("labels:{environment}"),
        series_name: if environment.is_empty() {
            "reports without labels".to_owned()
        } else {
            format!("reports {environment}")
        },
        name: if environment.is_empty() {
            batch
        } else {
            format!("{batch} ({environment})")
        },
        report_id: Some(report_id),
        environment: (!environment.is_empty()).then(|| environment.clone()),
        ..ResultSetSpec::default()
    };
    let set = write::result_set(backend, conn, workspace_id, &spec, started).await?;
    let context = ContextSpec {
        key: verdict_domain::insight::context_key(None, &environment),
        release_id: None,
        environment,
    };
    Ok((set, context))
}

/// A run created at a level that counts: its result, without an outcome yet.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_created(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    report_id: i64,
    level: Level,
    run_id: i64,
    test_id: i64,
    started: i64,
    duration: i64,
    retries: i64,
    flaky: bool,
) -> Result<(), StoreError> {
    if !counts(level) {
        return Ok(());
    }
    let (set, context) = report_set(backend, conn, workspace_id, report_id, started).await?;
    let muted: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM mutes WHERE workspace_id = $1 AND test_id = $2 AND unmuted_at IS NULL",
    )
    .bind(workspace_id)
    .bind(test_id)
    .fetch_optional(&mut *conn)
    .await?;
    let result = NewResult {
        id: Some(run_id),
        test_id,
        context_key: context.key,
        run_id,
        started,
        duration,
        outcome: Outcome::None,
        flaky,
        retries,
        muted: muted.is_some(),
        failure: None,
    };
    write::record(
        backend,
        conn,
        workspace_id,
        0,
        set,
        vec![result],
        Vec::new(),
        &[context],
        None,
    )
    .await
}

/// A run whose verdict rose to `rank`: its result (if it has one) follows,
/// with the counters of its set; a failure gets `failure`'s signature.
pub(crate) async fn run_raised(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    run_id: i64,
    rank: i64,
    failure: Option<&FailureInfo>,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "SELECT result_set_id, series_id, test_id, outcome, flaky, muted, started, signature, context_key FROM results WHERE id = $1",
    )
    .bind(run_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(()) };
    let set = write::ResultSetRef {
        id: r.try_get(0)?,
        series_id: r.try_get(1)?,
    };
    let test_id: i64 = r.try_get(2)?;
    let old = Outcome::from_code(r.try_get(3)?);
    let flaky = r.try_get::<i64, _>(4)? != 0;
    let muted = r.try_get::<i64, _>(5)? != 0;
    let started: i64 = r.try_get(6)?;
    let had_signature: Option<i64> = r.try_get(7)?;
    let context_key: i64 = r.try_get(8)?;
    let new = Outcome::from_status(status_of_rank(rank));
    if new.severity() <= old.severity() {
        return Ok(());
    }
    let failure = if new == Outcome::Failed && had_signature.is_none() {
        failure.cloned()
    } else {
        None
    };
    sqlx::query(
        "UPDATE results SET outcome = $2, signature = COALESCE($3, signature) WHERE id = $1",
    )
    .bind(run_id)
    .bind(new.code())
    .bind(failure.as_ref().map(|f| f.signature.stored()))
    .execute(&mut *conn)
    .await?;
    let changed = write::ChangedResult {
        old_outcome: old,
        old_flaky: flaky,
        new: NewResult {
            id: Some(run_id),
            test_id,
            context_key,
            run_id,
            started,
            duration: 0,
            outcome: new,
            flaky,
            retries: 0,
            muted,
            failure,
        },
    };
    write::move_counts(backend, conn, workspace_id, set, &changed).await?;
    // a result that already counted changed in place: rebuild its context
    if matches!(old, Outcome::Passed | Outcome::Failed) {
        recent::track(
            backend,
            conn,
            workspace_id,
            &[],
            &[(test_id, context_key)],
            None,
        )
        .await?;
    } else {
        let arrival = recent::Arrival {
            test_id,
            context_key,
            entry: changed.new.entry(),
            fresh: false,
        };
        recent::track(backend, conn, workspace_id, &[arrival], &[], None).await?;
    }
    write::mark_successor_stale(conn, set.id).await
}
