//! A test's story (`…/tests/{id}/story`): every result per context, failing
//! since, figures over a window, its mute (docs/insight.md "A test's story").

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use verdict_domain::insight::window_figures;
use verdict_domain::signature::to_hex;

use super::mutes::MuteView;
use super::params::Params;
use super::story_details::{
    DEFAULT_FAILURES, FailureView, MAX_FAILURES, TestLinksView, newest_failures,
};
use super::story_support::{
    by_context, context_views, entries, point, streak_points, unknown_context, workspace_test,
};
use super::views::{ContextView, HistoryPoint, TestRef};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

/// Figures over the window (docs/insight.md).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoryFigures {
    /// Results with a pass or fail in the window.
    pub runs: usize,
    pub passed: usize,
    pub failed: usize,
    pub success_rate: f64,
    pub flips: usize,
    pub flaky_marked: usize,
    pub flakiness: f64,
    pub times_broken: usize,
    pub duration_median_ms: Option<i64>,
    pub duration_p95_ms: Option<i64>,
    pub got_slower: bool,
}

/// One result in a story.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoryResultView {
    pub result_id: String,
    pub run_id: String,
    pub result_set_id: String,
    pub result_set_name: String,
    /// `build`, `report` or `push`.
    pub result_set_kind: String,
    pub outcome: String,
    pub flaky: bool,
    pub retries: i64,
    pub muted: bool,
    pub started: String,
    pub duration_ms: i64,
    pub signature: Option<String>,
}

/// A test's story in one context.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContextStory {
    pub context: ContextView,
    /// Newest outcome.
    pub current: String,
    pub failing_since: Option<HistoryPoint>,
    pub last_passed: Option<HistoryPoint>,
    /// Failed results in the current streak.
    pub streak_failures: usize,
    pub figures: StoryFigures,
    /// Results that flipped inside the window, newest first.
    pub flips: Vec<HistoryPoint>,
    /// All results of the context, oldest first (at most the newest 1,000).
    pub results: Vec<StoryResultView>,
    pub total_results: usize,
    /// The newest failures with message, stack trace and files, newest
    /// first (`failures` per context, default 3; 12 per story by default, 50 at most).
    pub failures: Vec<FailureView>,
}

/// A test's story.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestStory {
    pub test: TestRef,
    pub window: usize,
    pub mute: Option<MuteView>,
    /// The test's links: backlog items, application modules, list values.
    pub links: TestLinksView,
    pub contexts: Vec<ContextStory>,
}

/// The most results per context a story lists.
const MAX_LISTED: usize = 1_000;

/// A test's story.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/story", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("id" = String, Path),
        ("window" = Option<i64>, Query, description = "results with an outcome per context the figures cover, 1..1000, default 30"),
        ("failures" = Option<i64>, Query, description = "newest failures detailed per context, 0..50, default 3 (at most 12 in all by default, 50 when asked for more)")),
    responses((status = 200, body = TestStory), (status = 404)))]
pub async fn story(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<TestStory>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(&["window", "failures"])?;
    let window = p.window()?;
    let per_context = match p.int("failures")? {
        None => DEFAULT_FAILURES,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_FAILURES)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "platform.invalid_parameter",
                    format!("query parameter 'failures': must be between 0 and {MAX_FAILURES}"),
                )
            })?,
    };
    let test = workspace_test(&state.store, workspace.id, &id).await?;
    let test_id = test.id;
    let grouped = by_context(
        state
            .store
            .test_results(workspace.id, &[test_id], None, None)
            .await?,
    );
    let keys: Vec<i64> = grouped.keys().map(|(_, c)| *c).collect();
    let names = context_views(&state.store, workspace.id, &keys).await?;
    let mut contexts: Vec<(ContextStory, Vec<verdict_store::StoryResult>)> = grouped
        .into_iter()
        .map(|((_, key), results)| {
            let f = window_figures(&entries(&results), window);
            let streak = streak_points(&results);
            let total = results.len();
            let flips = f
                .flip_at
                .iter()
                .rev()
                .map(|i| point(&results[*i]))
                .collect();
            let story = ContextStory {
                context: names
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| unknown_context(key)),
                current: results
                    .last()
                    .map_or("none", |r| r.outcome.key())
                    .to_owned(),
                failing_since: streak.as_ref().map(|(_, s, _)| s.clone()),
                last_passed: streak.as_ref().and_then(|(_, _, l)| l.clone()),
                streak_failures: streak.as_ref().map_or(0, |(s, _, _)| s.failures),
                figures: StoryFigures {
                    runs: f.runs,
                    passed: f.passed,
                    failed: f.failed,
                    success_rate: f.success_rate,
                    flips: f.flips,
                    flaky_marked: f.flaky_marked,
                    flakiness: f.flakiness,
                    times_broken: f.times_broken,
                    duration_median_ms: f.duration_median,
                    duration_p95_ms: f.duration_p95,
                    got_slower: f.got_slower,
                },
                flips,
                results: results[total.saturating_sub(MAX_LISTED)..]
                    .iter()
                    .map(|r| StoryResultView {
                        result_id: r.result_id.to_string(),
                        run_id: r.run_id.to_string(),
                        result_set_id: r.result_set_id.to_string(),
                        result_set_name: r.result_set_name.clone(),
                        result_set_kind: r.result_set_kind.clone(),
                        outcome: r.outcome.key().to_owned(),
                        flaky: r.flaky,
                        retries: r.retries,
                        muted: r.muted,
                        started: verdict_domain::time::format_iso(r.started),
                        duration_ms: r.duration,
                        signature: r.signature.map(to_hex),
                    })
                    .collect(),
                total_results: total,
                failures: Vec::new(),
            };
            (story, results)
        })
        .collect();
    // newest context first
    contexts.sort_by(|(_, a), (_, b)| {
        b.last()
            .map(|r| (r.started, r.result_id))
            .cmp(&a.last().map(|r| (r.started, r.result_id)))
    });
    let lists: Vec<&[verdict_store::StoryResult]> =
        contexts.iter().map(|(_, r)| r.as_slice()).collect();
    let failures = newest_failures(&state, workspace.id, &lists, per_context).await?;
    let contexts: Vec<ContextStory> = contexts
        .into_iter()
        .zip(failures)
        .map(|((mut story, _), failures)| {
            story.failures = failures;
            story
        })
        .collect();
    let links = state.store.test_links(workspace.id, test_id).await?;
    let mute = state
        .store
        .mutes(workspace.id, Some(test_id), true)
        .await?
        .first()
        .map(MuteView::from);
    Ok(Json(TestStory {
        test: TestRef::from(&test),
        window,
        mute,
        links: TestLinksView::from(&links),
        contexts,
    }))
}
