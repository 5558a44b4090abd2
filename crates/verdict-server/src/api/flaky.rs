//! Flaky tests (`…/flaky_tests`): tests ranked by flakiness over their
//! newest results, with their last flips. The ranking reads each troubled
//! context's packed recent outcomes (`recent_outcomes`, kept at ingest): a
//! context without a failure or flaky mark among them has flakiness 0.

use std::collections::HashMap;
use verdict_domain::time::DAY_MS;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use verdict_domain::recent::{RECENT_CAPACITY, RecentFigures};

use super::params::Params;
use super::story_support::{by_context, context_views, point, test_refs, unknown_context};
use super::views::{ContextView, HistoryPoint, ListOf, TestRef};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

/// Default look-back of the ranking.
const DEFAULT_DAYS: i64 = 30;
/// Longest look-back of the ranking.
const MAX_DAYS: i64 = 180;
/// Flips listed per test.
const FLIPS_SHOWN: usize = 5;

/// A flaky test in one context.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlakyView {
    pub test: TestRef,
    pub context: ContextView,
    pub flakiness: f64,
    pub flips: usize,
    pub flaky_marked: usize,
    pub runs: usize,
    pub success_rate: f64,
    /// The newest flips, newest first.
    pub last_flips: Vec<HistoryPoint>,
}

/// A ranked context: its figures and its pair (test, context).
type Ranked = (RecentFigures, (i64, i64));

/// Tests ranked by flakiness.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/flaky_tests", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path),
        ("since" = Option<String>, Query, description = "contexts that ran since then (ISO 8601 or epoch ms); default 30 days ago, at most 180"),
        ("window" = Option<i64>, Query, description = "figures over this many newest results per context, 1 to 64, default 30"),
        ("limit" = Option<i64>, Query)),
    responses((status = 200, body = ListOf<FlakyView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListOf<FlakyView>>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(&["since", "window", "limit"])?;
    let (limit, _) = p.page()?;
    let window = p.window_at_most(RECENT_CAPACITY)?;
    let now = verdict_store::now_ms();
    // the period is bounded: contexts idle since then are left out
    let since = p
        .time("since")?
        .unwrap_or(now - DEFAULT_DAYS * DAY_MS)
        .max(now - MAX_DAYS * DAY_MS);
    let mut ranked: Vec<Ranked> = state
        .store
        .recent_outcomes(workspace.id, since)
        .await?
        .into_iter()
        .filter_map(|(pair, recent)| {
            let f = recent.figures(window);
            (f.flakiness > 0.0).then_some((f, pair))
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.flakiness
            .total_cmp(&a.0.flakiness)
            .then(b.0.flips.cmp(&a.0.flips))
            .then(a.1.cmp(&b.1))
    });
    // the best `limit` whose test still exists (a deleted test's row may
    // linger until its context is written again)
    let want = usize::try_from(limit).unwrap_or(50);
    let mut tests = HashMap::new();
    let mut kept: Vec<Ranked> = Vec::with_capacity(want);
    let mut next = 0;
    while kept.len() < want && next < ranked.len() {
        let end = (next + want - kept.len()).min(ranked.len());
        let ids: Vec<i64> = ranked[next..end].iter().map(|r| r.1.0).collect();
        let found = test_refs(&state.store, workspace.id, &ids).await?;
        kept.extend(
            ranked[next..end]
                .iter()
                .filter(|r| found.contains_key(&r.1.0))
                .cloned(),
        );
        tests.extend(found);
        next = end;
    }
    let ranked = kept;
    let pairs: Vec<(i64, i64)> = ranked.iter().map(|r| r.1).collect();
    // the shown flips are the newest ones: read that deep (twice, for
    // identical results, which a story counts once)
    let depths: Vec<((i64, i64), usize)> = ranked
        .iter()
        .map(|(f, pair)| {
            let deepest = f.flip_positions.iter().take(FLIPS_SHOWN).max().copied();
            (*pair, deepest.map_or(1, |k| 2 * (k + 1)))
        })
        .collect();
    let newest = by_context(state.store.newest_results(workspace.id, &depths).await?);
    let keys: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    let contexts = context_views(&state.store, workspace.id, &keys).await?;
    let data: Vec<FlakyView> = ranked
        .into_iter()
        .filter_map(|(f, (test, ctx))| {
            let results = newest
                .get(&(test, ctx))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let last_flips = f
                .flip_positions
                .iter()
                .take(FLIPS_SHOWN)
                .filter_map(|k| {
                    results
                        .len()
                        .checked_sub(k + 1)
                        .and_then(|i| results.get(i))
                })
                .map(point)
                .collect();
            Some(FlakyView {
                test: tests.get(&test)?.clone(),
                context: contexts
                    .get(&ctx)
                    .cloned()
                    .unwrap_or_else(|| unknown_context(ctx)),
                flakiness: f.flakiness,
                flips: f.flips,
                flaky_marked: f.flaky_marked,
                runs: f.runs,
                success_rate: f.success_rate,
                last_flips,
            })
        })
        .collect();
    Ok(Json(ListOf {
        total_count: data.len(),
        data,
    }))
}
