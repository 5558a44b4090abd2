//! Result sets (`…/result_sets`): what was run, newest first, each compared
//! with the previous set of its series (docs/insight.md).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use verdict_domain::insight::{Outcome, TestContext};
use verdict_domain::signature::to_hex;
use verdict_store::{ResultSetFilter, SetResultFilter};

use super::params::Params;
use super::story_support::{context_views, failing_since, test_ref, test_refs, unknown_context};
use super::views::{ContextView, HistoryPoint, Page, ResultSetView, TestRef, TriageView};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::octane::results::path_id;

/// A test of a comparison list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComparedTest {
    pub test: TestRef,
    pub context: ContextView,
    pub muted: bool,
    /// First result of the current failure streak (failed tests).
    pub failing_since: Option<HistoryPoint>,
    /// The passed result just before the streak.
    pub last_passed: Option<HistoryPoint>,
    /// Failure signature (hex), the failure group's id.
    pub signature: Option<String>,
    /// The failure's first line as its group shows it (`Type: message`).
    pub message: Option<String>,
    /// The group's newest triage note, carried to every failure with its signature.
    pub triage: Option<TriageView>,
}

/// One comparison list, capped at the request's `limit`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComparedList {
    pub total_count: usize,
    pub data: Vec<ComparedTest>,
}

/// A result set with its full comparison.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultSetDetail {
    pub result_set: ResultSetView,
    pub previous: Option<ResultSetView>,
    pub new_failures: ComparedList,
    pub still_failing: ComparedList,
    pub fixed: ComparedList,
    pub flaky: ComparedList,
    pub muted: ComparedList,
    pub new_tests: ComparedList,
    pub removed: ComparedList,
}

/// One result of a result set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SetResultView {
    pub result_id: String,
    pub run_id: String,
    pub test: TestRef,
    pub context: ContextView,
    /// `passed`, `failed`, `skipped` or `none`.
    pub outcome: String,
    pub flaky: bool,
    pub retries: i64,
    pub muted: bool,
    pub started: String,
    pub duration_ms: i64,
    pub signature: Option<String>,
    /// A failure's first line as its group shows it (`Type: message`).
    pub message: Option<String>,
}

/// Entries per comparison list of a set's page when `limit` is not given
/// (each failing entry's streak reads that test's history).
const DETAIL_LIMIT: i64 = 20;

const LIST_PARAMS: &[&str] = &[
    "kind",
    "series",
    "job",
    "pipeline",
    "release",
    "milestone",
    "environment",
    "batch",
    "task",
    "since",
    "until",
    "limit",
    "offset",
];

/// The filters of a set's result list (and its page).
pub const RESULT_PARAMS: &[&str] = &[
    "outcome",
    "flaky",
    "q",
    "label",
    "component",
    "package",
    "class_name",
    "limit",
    "offset",
];

/// List result sets.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/result_sets", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path),
        ("kind" = Option<String>, Query, description = "build, report or push"),
        ("series" = Option<String>, Query, description = "series id"),
        ("job" = Option<String>, Query, description = "CI job: its id or its CI id"),
        ("pipeline" = Option<String>, Query, description = "pipeline id: its jobs' builds"),
        ("release" = Option<String>, Query), ("milestone" = Option<String>, Query),
        ("environment" = Option<String>, Query, description = "text in the environment (Browser: Chrome, os=linux)"),
        ("batch" = Option<String>, Query, description = "Test Center batch name"),
        ("task" = Option<String>, Query, description = "the test-results task that wrote into the set"),
        ("since" = Option<String>, Query, description = "ISO 8601 or epoch ms"), ("until" = Option<String>, Query),
        ("limit" = Option<i64>, Query, description = "1..500, default 50"), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page<ResultSetView>), (status = 400, description = "a bad parameter"),
        (status = 401), (status = 403), (status = 404)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<ResultSetView>>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(LIST_PARAMS)?;
    let (limit, offset) = p.page()?;
    if let Some(kind) = p.text("kind")
        && !["build", "report", "push"].contains(&kind)
    {
        return Err(ApiError::bad_request(
            "platform.invalid_parameter",
            format!("query parameter 'kind': '{kind}' is not one of build, report, push"),
        ));
    }
    let ci_job_ids = match (p.text("job"), p.int("pipeline")?) {
        (None, None) => None,
        (job, pipeline) => Some(state.store.ci_job_ids(workspace.id, job, pipeline).await?),
    };
    let filter = ResultSetFilter {
        kind: p.text("kind").map(str::to_owned),
        series_id: p.int("series")?,
        ci_job_ids,
        release_id: p.int("release")?,
        milestone_id: p.int("milestone")?,
        environment: p.text("environment").map(str::to_owned),
        batch: p.text("batch").map(str::to_owned),
        task_id: p.int("task")?,
        since: p.time("since")?,
        until: p.time("until")?,
        limit,
        offset,
    };
    let rows = state.store.result_sets(workspace.id, &filter).await?;
    let total = state.store.count_result_sets(workspace.id, &filter).await?;
    Ok(Json(Page {
        total_count: total,
        limit,
        offset,
        data: rows.iter().map(ResultSetView::from).collect(),
    }))
}

/// One result set, compared with the previous set of its series.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/result_sets/{id}", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("id" = String, Path),
        ("limit" = Option<i64>, Query, description = "entries per list, 1..500, default 20")),
    responses((status = 200, body = ResultSetDetail), (status = 404)))]
pub async fn detail(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ResultSetDetail>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(&["limit"])?;
    let limit = match p.int("limit")? {
        None => DETAIL_LIMIT,
        Some(_) => p.page()?.0,
    };
    let set_id = path_id(&id, "result set")?;
    let not_found = || ApiError::NotFound(format!("result set {set_id} not found"));
    let set = state
        .store
        .result_set(workspace.id, set_id)
        .await?
        .ok_or_else(not_found)?;
    let comparison = state
        .store
        .cached_comparison(workspace.id, set_id)
        .await?
        .ok_or_else(not_found)?;
    let previous = match comparison.previous_id {
        Some(p) => state.store.result_set(workspace.id, p).await?,
        None => None,
    };
    let c = &comparison.comparison;
    let cap = usize::try_from(limit).unwrap_or(50);
    let lists = [
        &c.new_failures,
        &c.still_failing,
        &c.fixed,
        &c.flaky,
        &c.muted_failures,
        &c.new_tests,
        &c.removed,
    ];
    let shown: Vec<TestContext> = lists
        .iter()
        .flat_map(|l| l.iter().take(cap).copied())
        .collect();
    let failing: std::collections::HashSet<TestContext> =
        [&c.new_failures, &c.still_failing, &c.muted_failures]
            .iter()
            .flat_map(|l| l.iter().take(cap).copied())
            .collect();

    let (failed_results, _) = state
        .store
        .set_results(
            workspace.id,
            set_id,
            &SetResultFilter {
                outcome: Some(Outcome::Failed),
                ..SetResultFilter::default()
            },
            i64::MAX / 2,
            0,
        )
        .await?;
    // each failing test's streak is judged at its own failed result in this set
    let at: HashMap<TestContext, (i64, i64)> = failed_results
        .iter()
        .map(|r| ((r.test_id, r.context_key), (r.started, r.result_id)))
        .filter(|(k, _)| failing.contains(k))
        .collect();
    let since = failing_since(&state.store, workspace.id, &at).await?;
    let signatures: HashMap<TestContext, i64> = failed_results
        .iter()
        .filter_map(|r| r.signature.map(|s| ((r.test_id, r.context_key), s)))
        .collect();
    let mut sig_list: Vec<i64> = signatures.values().copied().collect();
    sig_list.sort_unstable();
    sig_list.dedup();
    let lines = state.store.group_lines(workspace.id, &sig_list).await?;
    let triage: HashMap<i64, TriageView> = state
        .store
        .latest_triage(workspace.id, &sig_list)
        .await?
        .iter()
        .map(|t| (t.signature, TriageView::from(t)))
        .collect();
    let mut test_ids: Vec<i64> = shown.iter().map(|(t, _)| *t).collect();
    test_ids.sort_unstable();
    test_ids.dedup();
    let tests = test_refs(&state.store, workspace.id, &test_ids).await?;
    let context_keys: Vec<i64> = shown.iter().map(|(_, c)| *c).collect();
    let contexts = context_views(&state.store, workspace.id, &context_keys).await?;
    let muted: std::collections::HashSet<TestContext> = c.muted_failures.iter().copied().collect();
    let entry = |key: &TestContext| {
        let sig = signatures.get(key).copied();
        let (failing_since, last_passed) = since
            .get(key)
            .cloned()
            .map_or((None, None), |(s, l)| (Some(s), l));
        ComparedTest {
            test: test_ref(&tests, key.0),
            context: contexts
                .get(&key.1)
                .cloned()
                .unwrap_or_else(|| unknown_context(key.1)),
            muted: muted.contains(key),
            failing_since,
            last_passed,
            signature: sig.map(to_hex),
            message: sig.and_then(|s| lines.get(&s).cloned()),
            triage: sig.and_then(|s| triage.get(&s).cloned()),
        }
    };
    let list = |keys: &Vec<TestContext>| ComparedList {
        total_count: keys.len(),
        data: keys.iter().take(cap).map(entry).collect(),
    };
    Ok(Json(ResultSetDetail {
        result_set: ResultSetView::from(&set),
        previous: previous.as_ref().map(ResultSetView::from),
        new_failures: list(&c.new_failures),
        still_failing: list(&c.still_failing),
        fixed: list(&c.fixed),
        flaky: list(&c.flaky),
        muted: list(&c.muted_failures),
        new_tests: list(&c.new_tests),
        removed: list(&c.removed),
    }))
}

/// The workspace's contexts with a label (`Browser: Chrome`, `os=linux`)
/// containing `text`, ASCII letters folded: labels are matched as shown.
async fn labelled(state: &AppState, workspace_id: i64, text: &str) -> Result<Vec<i64>, ApiError> {
    let all = state.store.context_keys(workspace_id).await?;
    if all.len() > verdict_store::MAX_CONTEXTS {
        return Err(ApiError::bad_request(
            "platform.invalid_parameter",
            format!(
                "query parameter 'label': the workspace has more than {} contexts to look through",
                verdict_store::MAX_CONTEXTS
            ),
        ));
    }
    let views = context_views(&state.store, workspace_id, &all).await?;
    let wanted = text.to_ascii_lowercase();
    let mut keys: Vec<i64> = views
        .into_iter()
        .filter(|(_, v)| {
            v.environment
                .iter()
                .any(|l| l.to_ascii_lowercase().contains(&wanted))
        })
        .map(|(k, _)| k)
        .collect();
    keys.sort_unstable();
    Ok(keys)
}

/// Every result of a result set, by test.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/result_sets/{id}/results", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("id" = String, Path),
        ("outcome" = Option<String>, Query, description = "passed, failed, skipped or none"),
        ("flaky" = Option<bool>, Query, description = "only results marked flaky (true) or not (false)"),
        ("q" = Option<String>, Query, description = "text in the test's name, class or package, or in its failure's type or message"),
        ("label" = Option<String>, Query, description = "text in the context's environment labels"),
        ("component" = Option<String>, Query, description = "text in the test's component"),
        ("package" = Option<String>, Query, description = "text in the test's package"),
        ("class_name" = Option<String>, Query, description = "text in the test's class"),
        ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page<SetResultView>), (status = 404)))]
pub async fn results(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<SetResultView>>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(RESULT_PARAMS)?;
    let (limit, offset) = p.page()?;
    let outcome = p
        .text("outcome")
        .map(|o| {
            Outcome::parse(o).ok_or_else(|| {
                ApiError::bad_request(
                    "platform.invalid_parameter",
                    format!("query parameter 'outcome': '{o}' is not one of passed, failed, skipped, none"),
                )
            })
        })
        .transpose()?;
    let set_id = path_id(&id, "result set")?;
    if state
        .store
        .result_set(workspace.id, set_id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("result set {set_id} not found")));
    }
    let context_keys = match p.search("label")? {
        None => None,
        Some(label) => Some(labelled(&state, workspace.id, &label).await?),
    };
    let filter = SetResultFilter {
        outcome,
        flaky: p.flag("flaky")?,
        text: p.search("q")?,
        context_keys,
        component: p.search("component")?,
        package: p.search("package")?,
        class_name: p.search("class_name")?,
    };
    let (rows, total) = state
        .store
        .set_results(workspace.id, set_id, &filter, limit, offset)
        .await?;
    let test_ids: Vec<i64> = rows.iter().map(|r| r.test_id).collect();
    let tests = test_refs(&state.store, workspace.id, &test_ids).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.context_key).collect();
    let contexts = context_views(&state.store, workspace.id, &keys).await?;
    let signatures: Vec<i64> = rows.iter().filter_map(|r| r.signature).collect();
    let lines = state.store.group_lines(workspace.id, &signatures).await?;
    let data = rows
        .iter()
        .map(|r| SetResultView {
            result_id: r.result_id.to_string(),
            run_id: r.run_id.to_string(),
            test: test_ref(&tests, r.test_id),
            context: contexts
                .get(&r.context_key)
                .cloned()
                .unwrap_or_else(|| unknown_context(r.context_key)),
            outcome: r.outcome.key().to_owned(),
            flaky: r.flaky,
            retries: r.retries,
            muted: r.muted,
            started: verdict_domain::time::format_iso(r.started),
            duration_ms: r.duration,
            signature: r.signature.map(to_hex),
            message: r.signature.and_then(|s| lines.get(&s).cloned()),
        })
        .collect();
    Ok(Json(Page {
        total_count: total,
        limit,
        offset,
        data,
    }))
}
