//! Flaky tests (`…/flaky_tests`): tests ranked by flakiness over a window,
//! with their last flips. Candidates come from the index of failed and
//! flaky-marked results: a test that only passed has flakiness 0.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use verdict_domain::insight::window_figures;

use super::params::Params;
use super::story_support::{by_context, context_views, entries, point, test_refs, unknown_context};
use super::views::{ContextView, HistoryPoint, ListOf, TestRef};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

/// Default look-back of the ranking.
const DEFAULT_DAYS: i64 = 30;
/// Longest look-back of the ranking.
const MAX_DAYS: i64 = 180;
const DAY_MS: i64 = 86_400_000;
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

/// (flakiness, flips, (test, context), figures, last flips) of one candidate.
type Ranked = (
    f64,
    usize,
    (i64, i64),
    verdict_domain::insight::WindowFigures,
    Vec<HistoryPoint>,
);

/// Tests ranked by flakiness.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/flaky_tests", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path),
        ("since" = Option<String>, Query, description = "start of the window (ISO 8601 or epoch ms); default 30 days ago"),
        ("window" = Option<i64>, Query, description = "at most this many newest results per context, default 30"),
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
    let window = p.window()?;
    let now = verdict_store::now_ms();
    // the period is bounded: older results are left out of the ranking
    let since = p
        .time("since")?
        .unwrap_or(now - DEFAULT_DAYS * DAY_MS)
        .max(now - MAX_DAYS * DAY_MS);
    let candidates = state.store.troubled_tests(workspace.id, since).await?;
    let grouped = by_context(
        state
            .store
            .test_outcomes(workspace.id, &candidates, Some(since), None)
            .await?,
    );
    let mut ranked: Vec<Ranked> = grouped
        .into_iter()
        .filter_map(|(key, results)| {
            let f = window_figures(&entries(&results), window);
            if f.flakiness <= 0.0 {
                return None;
            }
            let flips: Vec<HistoryPoint> = f
                .flip_at
                .iter()
                .rev()
                .take(FLIPS_SHOWN)
                .map(|i| point(&results[*i]))
                .collect();
            Some((f.flakiness, f.flips, key, f, flips))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    ranked.truncate(usize::try_from(limit).unwrap_or(50));
    let test_ids: Vec<i64> = ranked.iter().map(|r| r.2.0).collect();
    let tests = test_refs(&state.store, workspace.id, &test_ids).await?;
    let keys: Vec<i64> = ranked.iter().map(|r| r.2.1).collect();
    let contexts = context_views(&state.store, workspace.id, &keys).await?;
    let data: Vec<FlakyView> = ranked
        .into_iter()
        .filter_map(|(flakiness, flips, (test, ctx), f, last_flips)| {
            Some(FlakyView {
                test: tests.get(&test)?.clone(),
                context: contexts
                    .get(&ctx)
                    .cloned()
                    .unwrap_or_else(|| unknown_context(ctx)),
                flakiness,
                flips,
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
