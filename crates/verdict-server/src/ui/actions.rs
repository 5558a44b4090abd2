//! Pages with forms that change something — a failure group's triage, a
//! test's mute — and the task pages. Each POST checks the CSRF token, then
//! hands the request to the insight API's handler (same checks, same
//! limits, same audit trail) and answers with a redirect back (303), so a
//! reload never sends a form twice.

use std::collections::HashMap;

use axum::Form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::charts;
use super::layout::time;
use super::pages::{render, render_with, with_offset};
use super::{UiError, Viewer, session};
use crate::api::{groups, mutes};
use crate::app::AppState;
use crate::auth::access;
use crate::error::ApiError;

type Params = Query<HashMap<String, String>>;

/// GET /ui/{sp}/{ws}/failures/{signature} — a group, its triage, its runs.
pub async fn group(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws, sig)): Path<(String, String, String)>,
    Query(query): Params,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let Json(d) = groups::detail(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone(), sig)),
        Query(query.clone()),
    )
    .await?;
    let base = format!("/ui/{sp}/{ws}");
    let g = &d.group;
    let here = format!("{base}/failures/{}", g.signature);
    let runs = &d.runs;
    let body = |csrf: &str| {
        html! {
            h1 { (g.error_type) }
            p { code { (g.signature) } @if g.new { " " span.fail { "new in the latest result set" } } }
            pre { (g.sample_message) }
            p.muted { "Masked: " (g.message) }
            @if !g.frames.is_empty() { ul { @for f in &g.frames { li { code { (f) } } } } }
            p { (g.failed_runs) " failed runs · " (g.tests_affected) " tests · first seen " (time(&g.first_seen))
                " · last seen " (time(&g.last_seen)) }
            (charts::group_days(&d.days))
            h2 { "Triage" }
            @if d.triage_history.is_empty() { p.muted { "No note yet." } }
            ul { @for t in &d.triage_history {
                li { (t.note.clone().unwrap_or_default()) " "
                    @if let Some(l) = &t.link { @if l.starts_with("https://") || l.starts_with("http://") {
                        a href=(l) rel="noreferrer" { (l) } } @else { code { (l) } } }
                    span.muted { " — " (t.by) " " (time(&t.at)) } }
            } }
            form method="post" action={ (here) "/triage" } {
                input type="hidden" name="csrf" value=(csrf);
                p { label for="note" { "Note" } br; textarea #note name="note" rows="3" cols="60" maxlength="65536" {} }
                p { label for="link" { "Defect id or link" } br; input #link name="link" size="60" maxlength="2048"; }
                button type="submit" { "Add note" }
            }
            h2 { "Runs (" (runs.total_count) ")" }
            table {
                thead { tr { th { "Test" } th { "Result set" } th { "Started" } } }
                tbody { @for r in &runs.data { tr {
                    td { a href={ (base) "/tests/" (r.test_id) } { (r.test_name) } @if r.muted { " " span.muted { "(muted)" } } }
                    td { a href={ (base) "/results/" (r.result_set_id) } { (r.result_set_name) } }
                    td { (time(&r.started)) }
                } } }
            }
            nav.pager aria-label="Pages" {
                @if runs.offset > 0 { a href=(with_offset(&here, &query, (runs.offset - runs.limit).max(0))) { "← Newer" } }
                @if runs.offset + runs.limit < runs.total_count { a href=(with_offset(&here, &query, runs.offset + runs.limit)) { "Older →" } }
            }
        }
    };
    render_with(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        "Failure group",
        body,
    )
}

/// The triage form's fields.
#[derive(Deserialize)]
pub struct TriageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    link: String,
}

/// POST /ui/{sp}/{ws}/failures/{signature}/triage
pub async fn triage(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws, sig)): Path<(String, String, String)>,
    Form(f): Form<TriageForm>,
) -> Result<Response, UiError> {
    session::check(&headers, &f.csrf)?;
    let body = json!({"note": f.note, "link": f.link});
    // the API's answer (the new note) is shown by the page redirected to
    let _created = groups::triage(
        State(state),
        viewer.0,
        Path((sp.clone(), ws.clone(), sig.clone())),
        Bytes::from(body.to_string()),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/{sp}/{ws}/failures/{sig}")).into_response())
}

/// The mute form's fields.
#[derive(Deserialize)]
pub struct MuteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

/// POST /ui/{sp}/{ws}/tests/{id}/mute — `action=mute` (with a reason) or `unmute`.
pub async fn mute(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws, id)): Path<(String, String, String)>,
    Form(f): Form<MuteForm>,
) -> Result<Response, UiError> {
    session::check(&headers, &f.csrf)?;
    let path = Path((sp.clone(), ws.clone(), id.clone()));
    match f.action.as_str() {
        "mute" => {
            let reason = f.reason.trim();
            let body = if reason.is_empty() {
                json!({})
            } else {
                json!({"reason": reason})
            };
            let _muted =
                mutes::mute(State(state), viewer.0, path, Bytes::from(body.to_string())).await?;
        }
        "unmute" => {
            let _unmuted = mutes::unmute(State(state), viewer.0, path).await?;
        }
        other => {
            return Err(UiError(ApiError::bad_request(
                "platform.invalid_parameter",
                format!("action must be 'mute' or 'unmute', not '{other}'"),
            )));
        }
    }
    Ok(Redirect::to(&format!("/ui/{sp}/{ws}/tests/{id}")).into_response())
}

/// Tasks per page.
const TASKS_PER_PAGE: i64 = 50;

/// GET /ui/{sp}/{ws}/tasks — the workspace's test-results tasks, newest first.
pub async fn tasks(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Params,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let offset = match query.get("offset") {
        None => 0,
        Some(o) => o
            .parse::<i64>()
            .ok()
            .filter(|o| (0..=1_000_000).contains(o))
            .ok_or_else(|| {
                UiError(ApiError::bad_request(
                    "platform.invalid_parameter",
                    format!("query parameter 'offset': '{o}' is not a number from 0 to 1,000,000"),
                ))
            })?,
    };
    let list = state
        .store
        .workspace_tasks(workspace.id, TASKS_PER_PAGE + 1, offset)
        .await
        .map_err(ApiError::from)?;
    let more = list.len() > TASKS_PER_PAGE as usize;
    let base = format!("/ui/{sp}/{ws}/tasks");
    let body = html! {
        h1 { "Test-results tasks" }
        table {
            thead { tr { th { "Task" } th { "Status" } th { "Accepted" } th { "Errors" } } }
            tbody { @for t in list.iter().take(TASKS_PER_PAGE as usize) { tr {
                td { a href={ (base) "/" (t.id) } { (t.id) } }
                td { (task_state(t.state.as_str())) }
                td { (time(&verdict_domain::time::format_iso(t.accepted_at))) }
                td { @if let Some(e) = &t.error_details { (e.lines().next().unwrap_or_default()) } }
            } } }
        }
        nav.pager aria-label="Pages" {
            @if offset > 0 { a href=(with_offset(&base, &query, (offset - TASKS_PER_PAGE).max(0))) { "← Newer" } }
            @if more { a href=(with_offset(&base, &query, offset + TASKS_PER_PAGE)) { "Older →" } }
        }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        "Tasks",
        body,
    )
}

fn task_state(state: &str) -> maud::Markup {
    match state {
        "success" => html! { span.pass { "✓ success" } },
        "failed" | "error" => html! { span.fail { "✗ " (state) } },
        "warning" => html! { span.flaky { "! warning" } },
        other => html! { span.skip { "… " (other) } },
    }
}

/// GET /ui/{sp}/{ws}/tasks/{id} — one task with its whole `errorDetails`.
pub async fn task(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws, id)): Path<(String, String, String)>,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let task_id = crate::octane::results::path_id(&id, "task")?;
    let task = state
        .store
        .task(task_id)
        .await
        .map_err(ApiError::from)?
        .filter(|t| t.workspace_id == workspace.id)
        .ok_or_else(|| UiError(ApiError::NotFound(format!("task {task_id} not found"))))?;
    let body = html! {
        h1 { "Task " (task.id) }
        p { (task_state(task.state.as_str())) " · accepted " (time(&verdict_domain::time::format_iso(task.accepted_at)))
            @if task.skip_errors { " · skip-errors" } }
        @if let Some(e) = &task.error_details { h2 { "errorDetails" } pre { (e) } } @else { p.muted { "No errors." } }
        p { a href={ "/ui/" (sp) "/" (ws) "/tasks" } { "All tasks" } }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        "Task",
        body,
    )
}
