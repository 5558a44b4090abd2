//! Schema v6 brings insight; results stored before it are filed once, at the
//! first start after the upgrade: every Octane last and previous run and
//! every Test Center case or scenario run becomes a result of its build,
//! report or push, with its signature. Schema v7 then packs every context's
//! newest outcomes for the flaky ranking (`recent.rs`). One transaction: it
//! happens entirely or, after a crash, again from the start.

use std::collections::HashMap;

use sqlx::Row;
use verdict_domain::testcenter::status_of_rank;

use super::recent;
use super::write::{self, ContextSpec, FailureInfo, NewResult, ResultSetRef, ResultSetSpec};
use crate::connect::{Backend, Store};
use crate::error::StoreError;
use crate::ingest_tx::RunUpdate;

/// Rows read per statement.
const CHUNK: i64 = 5_000;

/// One stored Octane result, as the backfill reads it.
struct OldResult {
    workspace_id: i64,
    run_id: i64,
    test_id: i64,
    release_id: Option<i64>,
    ci_build_id: Option<i64>,
    task_id: i64,
    /// Its outcome, times, retries and error, as a run stores them.
    values: RunUpdate,
    /// A previous run: `task_id` is the task that archived it, not the one
    /// that pushed it (schema v5 kept no more).
    archived: bool,
}

impl Store {
    /// Files results stored before schema v6, if that is still pending.
    ///
    /// # Errors
    /// Database failure.
    pub(crate) async fn backfill_insight(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // nodes starting together: one files, the others then see it done
            sqlx::query("SELECT pg_advisory_xact_lock(7302)")
                .execute(&mut *tx)
                .await?;
        }
        let pending: Option<(i64, i64)> = sqlx::query_as(
            "SELECT pending, recent_pending FROM insight_backfill WHERE singleton = 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some((results_pending, recent_pending)) = pending else {
            tx.commit().await?;
            return Ok(());
        };
        if results_pending != 1 && recent_pending != 1 {
            tx.commit().await?;
            return Ok(());
        }
        let filed = if results_pending == 1 {
            backfill_octane(self.backend, &mut tx).await?
                + backfill_tc(self.backend, &mut tx).await?
        } else {
            0
        };
        // schema v7: the flaky ranking's packed outcomes, from every result
        let troubled = recent::rebuild_all(self.backend, &mut tx).await?;
        sqlx::query(
            "UPDATE insight_backfill SET pending = 0, recent_pending = 0 WHERE singleton = 1",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if filed > 0 || troubled > 0 {
            tracing::info!(
                results = filed,
                troubled_contexts = troubled,
                "filed results stored before insight"
            );
        }
        Ok(())
    }
}

async fn backfill_octane(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
) -> Result<usize, StoreError> {
    let mut filed = 0;
    let mut sets: HashMap<(i64, String), ResultSetRef> = HashMap::new();
    for source in [
        "SELECT r.workspace_id, r.id, r.test_id, r.release_id, r.ci_build_id, r.task_id, r.status, r.started, r.duration, \
         r.retries, r.flaky, r.error_type, r.error_message, r.error_stack, r.id FROM runs r WHERE r.report_id IS NULL AND r.subtype <> 'run_suite' AND r.id > $1 \
         ORDER BY r.id LIMIT $2",
        "SELECT r.workspace_id, r.id, r.test_id, r.release_id, p.ci_build_id, p.task_id, p.status, p.started, p.duration, \
         p.retries, p.flaky, p.error_type, p.error_message, p.error_stack, p.id FROM previous_runs p JOIN runs r ON r.id = p.run_id \
         WHERE r.report_id IS NULL AND r.subtype <> 'run_suite' AND p.id > $1 ORDER BY p.id LIMIT $2",
    ] {
        let archived = source.contains("previous_runs");
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(source)
                .bind(after)
                .bind(CHUNK)
                .fetch_all(&mut *conn)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(14)?;
            let mut old = Vec::with_capacity(rows.len());
            for r in &rows {
                old.push(OldResult {
                    workspace_id: r.try_get(0)?,
                    run_id: r.try_get(1)?,
                    test_id: r.try_get(2)?,
                    release_id: r.try_get(3)?,
                    ci_build_id: r.try_get(4)?,
                    task_id: r.try_get(5)?,
                    values: RunUpdate {
                        status: r.try_get(6)?,
                        started: r.try_get(7)?,
                        duration: r.try_get(8)?,
                        retries: r.try_get(9)?,
                        flaky: r.try_get::<i64, _>(10)? != 0,
                        error_type: r.try_get(11)?,
                        error_message: r.try_get(12)?,
                        error_stack: r.try_get(13)?,
                        ..RunUpdate::default()
                    },
                    archived,
                });
            }
            filed += file_octane(backend, conn, &mut sets, old).await?;
        }
    }
    Ok(filed)
}

async fn file_octane(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    sets: &mut HashMap<(i64, String), ResultSetRef>,
    old: Vec<OldResult>,
) -> Result<usize, StoreError> {
    let mut by_set: HashMap<(i64, String), (Vec<NewResult>, Vec<ContextSpec>)> = HashMap::new();
    let filed = old.len();
    for o in old {
        let envs: Vec<i64> = sqlx::query_scalar(
            "SELECT dst_id FROM entity_links WHERE src_id = $1 AND field = 'taxonomies' ORDER BY dst_id",
        )
        .bind(o.run_id)
        .fetch_all(&mut *conn)
        .await?;
        let context = ContextSpec::octane(o.release_id, &envs);
        let spec = spec_of(conn, &o).await?;
        let key = (o.workspace_id, spec.source_key.clone());
        if !sets.contains_key(&key) {
            let set =
                write::result_set(backend, conn, o.workspace_id, &spec, o.values.started).await?;
            sets.insert(key.clone(), set);
        }
        let entry = by_set.entry(key).or_default();
        entry.0.push(NewResult::of_run(
            o.test_id,
            o.run_id,
            context.key,
            &o.values,
            false,
        ));
        entry.1.push(context);
    }
    for (key, (results, contexts)) in by_set {
        if let Some(set) = sets.get(&key) {
            write::record(
                backend,
                conn,
                key.0,
                0,
                *set,
                results,
                Vec::new(),
                &contexts,
                None,
            )
            .await?;
            write::close_sets(conn, 0, &[*set]).await?;
        }
    }
    Ok(filed)
}

/// A stored result's set: its CI build, else the task that wrote it.
async fn spec_of(
    conn: &mut sqlx::AnyConnection,
    o: &OldResult,
) -> Result<ResultSetSpec, StoreError> {
    if let Some(build) = o.ci_build_id
        && let Some(b) = crate::ingest_tx::build_names(conn, build).await?
    {
        return Ok(ResultSetSpec::build(
            build,
            b.job_id,
            &b.job_name,
            &b.build_name,
        ));
    }
    // (V) An archived result came from the workspace's first task accepted
    // at or after it started, up to the task that archived it.
    let task_id = if o.archived {
        let first: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(id) FROM tasks WHERE workspace_id = $1 AND accepted_at >= $2 AND id <= $3",
        )
        .bind(o.workspace_id)
        .bind(o.values.started)
        .bind(o.task_id)
        .fetch_one(&mut *conn)
        .await?;
        first.unwrap_or(o.task_id)
    } else {
        o.task_id
    };
    let who: Option<String> = sqlx::query_scalar("SELECT pushed_by FROM tasks WHERE id = $1")
        .bind(task_id)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    let who = who.unwrap_or_else(|| "unknown".to_owned());
    // Before v6 the pusher and the payload's context were not kept: one
    // series per pusher and release (docs/insight.md).
    Ok(ResultSetSpec::push(
        task_id,
        Some(&who),
        o.release_id.map(|r| (r, None)),
        None,
    ))
}

async fn backfill_tc(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
) -> Result<usize, StoreError> {
    let mut filed = 0;
    let mut after = 0_i64;
    loop {
        let rows = sqlx::query(
            "SELECT r.id, r.workspace_id, r.report_id, t.subtype, r.test_id, r.started, r.duration, r.retries, r.flaky, \
             COALESCE(r.tc_result, 0) FROM runs r JOIN tests t ON t.id = r.test_id \
             WHERE r.report_id IS NOT NULL AND r.id > $1 ORDER BY r.id LIMIT $2",
        )
        .bind(after)
        .bind(CHUNK)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(0)?;
        for r in &rows {
            let subtype: String = r.try_get(3)?;
            let Some(level) = verdict_domain::testcenter::Level::from_subtype(&subtype) else {
                continue;
            };
            let (run_id, workspace_id, report_id, test_id): (i64, i64, i64, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(4)?);
            super::tc::run_created(
                backend,
                conn,
                workspace_id,
                report_id,
                level,
                run_id,
                test_id,
                r.try_get(5)?,
                r.try_get(6)?,
                r.try_get(7)?,
                r.try_get::<i64, _>(8)? != 0,
            )
            .await?;
            let rank: i64 = r.try_get(9)?;
            if status_of_rank(rank) == verdict_domain::status::RunStatus::Planned {
                continue;
            }
            let failure = if rank >= 4 {
                tc_failure(conn, run_id).await?
            } else {
                None
            };
            super::tc::run_raised(backend, conn, workspace_id, run_id, rank, failure.as_ref())
                .await?;
            filed += 1;
        }
    }
    Ok(filed)
}

/// The first failing event of a run or of its sections and steps.
async fn tc_failure(
    conn: &mut sqlx::AnyConnection,
    run_id: i64,
) -> Result<Option<FailureInfo>, StoreError> {
    let row = sqlx::query(
        "WITH RECURSIVE tree(id) AS (SELECT $1 UNION ALL SELECT r.id FROM runs r JOIN tree t ON r.parent_run_id = t.id) \
         SELECT e.message, e.detail FROM tc_events e WHERE e.event_type IN ('FAIL', 'ERROR', 'FATAL', 'XPASS') \
         AND e.run_id IN (SELECT id FROM tree) ORDER BY e.id LIMIT 1",
    )
    .bind(run_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| -> Result<FailureInfo, StoreError> {
        let (message, detail): (Option<String>, Option<String>) = (r.try_get(0)?, r.try_get(1)?);
        Ok(FailureInfo::of(None, message.as_deref(), detail.as_deref()))
    })
    .transpose()
}
