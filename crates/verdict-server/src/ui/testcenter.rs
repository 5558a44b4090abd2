//! Test Center pages: batches with their reports (labels), a report's tree
//! of suites, cases, features, scenarios, steps and sections with each run's
//! events, screenshots inline and attachments as downloads (ui/files.rs).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use verdict_domain::status::RunStatus;
use verdict_domain::testcenter::status_of_rank;
use verdict_store::{TcEventRow, TcNode};

use super::layout::{outcome, time};
use super::pages::render;
use super::{UiError, Viewer};
use crate::app::AppState;
use crate::auth::access;
use crate::error::ApiError;
use crate::octane::results::path_id;

/// Most runs a report page shows, and most events.
const MAX_NODES: i64 = 5_000;
const MAX_EVENTS: i64 = 10_000;

/// GET /ui/{sp}/{ws}/testcenter — batches, newest first, with their reports.
pub async fn batches(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let batches = state
        .store
        .tc_batches(workspace.id)
        .await
        .map_err(ApiError::from)?;
    let base = format!("/ui/{sp}/{ws}/testcenter");
    let body = html! {
        h1 { "Test Center batches (" (batches.len()) ")" }
        @if batches.is_empty() { p.muted { "No Test Center reports in this workspace." } }
        @for b in &batches {
            section {
                h2 { (b.name) }
                @if let Some(url) = &b.reference_url {
                    @if url.starts_with("https://") || url.starts_with("http://") {
                        p { a href=(url) rel="noreferrer" { (b.reference_title.clone().unwrap_or_else(|| url.clone())) } }
                    }
                }
                ul { @for (id, labels) in &b.reports {
                    li { a href={ (base) "/reports/" (id) } { "Report " (id) }
                        @for (l, hidden) in labels { @if !hidden { " " code { (l.key) "=" (l.value) } } } }
                } }
            }
        }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        "Test Center",
        body,
    )
}

fn status_word(rank: Option<i64>) -> &'static str {
    match rank.map(status_of_rank) {
        Some(RunStatus::Passed) => "passed",
        Some(RunStatus::Failed) => "failed",
        Some(RunStatus::Skipped) => "skipped",
        Some(RunStatus::Planned) | None => "none",
    }
}

fn level(subtype: &str) -> &str {
    subtype.strip_prefix("tc_").unwrap_or(subtype)
}

/// One run and, below it, its children, with its events.
fn node(
    base: &str,
    n: &TcNode,
    children: &HashMap<Option<i64>, Vec<&TcNode>>,
    events: &HashMap<i64, Vec<&TcEventRow>>,
) -> Markup {
    html! {
        li {
            span.muted { (level(&n.subtype)) " " } strong { (n.name) } " " (outcome(status_word(n.result), false, false))
            @if let Some(list) = events.get(&n.run_id) {
                ul { @for e in list { li {
                    code { (e.event_type) } " " (e.message.clone().unwrap_or_default())
                    " " span.muted { (time(&verdict_domain::time::format_iso(e.created))) }
                    @if let Some(d) = &e.detail { pre { (d) } }
                    @if let Some(name) = &e.screenshot_name {
                        br; a href={ (base) "/events/" (e.id) "/screenshot" } {
                            img src={ (base) "/events/" (e.id) "/screenshot" } alt={ "Screenshot " (name) }
                                class="shot" loading="lazy";
                        }
                    }
                    @if let Some(name) = &e.attachment_name {
                        br; a href={ (base) "/events/" (e.id) "/attachment" } download=(name) { "Attachment: " (name) }
                    }
                } } }
            }
            @if let Some(kids) = children.get(&Some(n.run_id)) {
                ul { @for k in kids { (node(base, k, children, events)) } }
            }
        }
    }
}

/// GET /ui/{sp}/{ws}/testcenter/reports/{id} — the report's tree.
pub async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws, id)): Path<(String, String, String)>,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let report_id = path_id(&id, "report")?;
    let nodes = state
        .store
        .tc_report_tree(workspace.id, report_id, MAX_NODES)
        .await
        .map_err(ApiError::from)?;
    if nodes.is_empty() {
        return Err(UiError(ApiError::NotFound(format!(
            "report {report_id} not found"
        ))));
    }
    let ids: Vec<i64> = nodes.iter().map(|n| n.run_id).collect();
    let events = state
        .store
        .tc_events_of_runs(workspace.id, &ids, MAX_EVENTS)
        .await
        .map_err(ApiError::from)?;
    let mut by_run: HashMap<i64, Vec<&TcEventRow>> = HashMap::new();
    for e in &events {
        by_run.entry(e.run_id).or_default().push(e);
    }
    let known: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let mut children: HashMap<Option<i64>, Vec<&TcNode>> = HashMap::new();
    for n in &nodes {
        // a run whose parent is not shown (over the cap) is listed at the top
        let parent = n.parent_run_id.filter(|p| known.contains(p));
        children.entry(parent).or_default().push(n);
    }
    let base = format!("/ui/{sp}/{ws}/testcenter");
    let body = html! {
        h1 { "Report " (report_id) }
        p { a href=(base) { "All batches" } " · " (nodes.len()) " runs · " (events.len()) " events"
            @if nodes.len() as i64 >= MAX_NODES { " (the first " (MAX_NODES) " runs)" } }
        ul { @for n in children.get(&None).map(Vec::as_slice).unwrap_or_default() { (node(&base, n, &children, &by_run)) } }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        "Test Center report",
        body,
    )
}
