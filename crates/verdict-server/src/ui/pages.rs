//! The pages. Each calls the insight API's handler for its answer and
//! renders the typed view; filters pass through the query string unchanged,
//! so every view is a shareable URL and the API checks every parameter.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::charts;
use super::layout::{self, Nav, duration, outcome, percent, time};
use super::{UiError, Viewer, session};
use crate::api::result_sets::ComparedList;
use crate::api::views::ResultSetView;
use crate::api::{flaky, groups, result_sets};
use crate::app::AppState;
use crate::auth::access;

pub(super) type Params = Query<HashMap<String, String>>;

/// Renders a signed-in page (setting the CSRF cookie its sign-out form needs).
pub(super) fn render(
    headers: &HeaderMap,
    viewer: &Viewer,
    workspace: Option<(&str, &str, &str)>,
    title: &str,
    body: Markup,
) -> Result<Response, UiError> {
    render_with(headers, viewer, workspace, title, |_| body)
}

/// Renders a signed-in page whose body holds forms (it gets the CSRF token).
pub(super) fn render_with(
    headers: &HeaderMap,
    viewer: &Viewer,
    workspace: Option<(&str, &str, &str)>,
    title: &str,
    body: impl FnOnce(&str) -> Markup,
) -> Result<Response, UiError> {
    let (csrf, set) = session::csrf(headers)?;
    let body = body(&csrf);
    let nav = Nav {
        user: &viewer.0.user.name,
        csrf: &csrf,
        workspace,
    };
    let mut response = layout::page(title, Some(nav), body).into_response();
    if let Some(set) = set {
        response.headers_mut().append(SET_COOKIE, set);
    }
    Ok(response)
}

/// GET / — the workspaces the person may see (straight to the only one).
pub async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let who = &viewer.0;
    let mut spaces = Vec::new();
    for sp in state
        .store
        .shared_spaces()
        .await
        .map_err(crate::error::ApiError::from)?
    {
        let mut visible = Vec::new();
        for ws in state
            .store
            .workspaces(sp.id)
            .await
            .map_err(crate::error::ApiError::from)?
        {
            if who.user.is_admin
                || state
                    .store
                    .role_in(who.user.id, ws.id)
                    .await
                    .map_err(crate::error::ApiError::from)?
                    .is_some()
            {
                visible.push(ws);
            }
        }
        if !visible.is_empty() {
            spaces.push((sp, visible));
        }
    }
    if let [(sp, list)] = spaces.as_slice()
        && let [ws] = list.as_slice()
    {
        return Ok(Redirect::to(&format!("/ui/{}/{}", sp.id, ws.id)).into_response());
    }
    let body = html! {
        h1 { "Workspaces" }
        @if spaces.is_empty() { p { "You have no role in any workspace yet." } }
        @for (sp, list) in &spaces {
            h2 { (sp.name) }
            ul { @for ws in list { li { a href={ "/ui/" (sp.id) "/" (ws.id) } { (ws.name) } } } }
        }
    };
    render(&headers, &viewer, None, "Workspaces", body)
}

/// GET /ui/?p={sp}/{ws} — the location the Octane plugins print.
pub async fn plugin_link(Query(query): Params) -> Response {
    let target = query
        .get("p")
        .and_then(|p| p.split_once('/'))
        .filter(|(sp, ws)| {
            [sp, ws]
                .iter()
                .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        })
        .map_or_else(|| "/".to_owned(), |(sp, ws)| format!("/ui/{sp}/{ws}"));
    Redirect::to(&target).into_response()
}

/// `base` with the page's filters and another offset: paging keeps the filters.
pub(super) fn with_offset(base: &str, query: &HashMap<String, String>, offset: i64) -> String {
    with_param(base, query, "offset", &offset.to_string())
}

/// `base` with the page's query and `key` set to `value`.
pub(super) fn with_param(
    base: &str,
    query: &HashMap<String, String>,
    key: &str,
    value: &str,
) -> String {
    let mut pairs: Vec<(&String, &String)> = query.iter().filter(|(k, _)| *k != key).collect();
    pairs.sort();
    let mut url = format!("{base}?{}={}", session::encode(key), session::encode(value));
    for (k, v) in pairs {
        url.push_str(&format!("&{}={}", session::encode(k), session::encode(v)));
    }
    url
}

fn counts(set: &ResultSetView) -> Markup {
    let c = &set.counts;
    html! {
        span.counts {
            span.pass { "✓ " (c.passed) }
            span.fail { "✗ " (c.failed) }
            span.skip { "– " (c.skipped) }
            @if c.flaky > 0 { span.flaky { "~ " (c.flaky) " flaky" } }
            @if c.muted > 0 { span.muted { (c.muted) " muted" } }
        }
    }
}

/// A labelled drop-down of `choices` (`(value, shown)`), "all" first,
/// keeping the query's choice.
pub(super) fn select(
    query: &HashMap<String, String>,
    name: &str,
    label: &str,
    choices: &[(String, String)],
) -> Markup {
    select_or(query, name, label, "all", choices)
}

/// [`select`] whose empty choice reads `unset` (the API's default).
pub(super) fn select_or(
    query: &HashMap<String, String>,
    name: &str,
    label: &str,
    unset: &str,
    choices: &[(String, String)],
) -> Markup {
    let chosen = query.get(name).map(String::as_str).unwrap_or_default();
    html! {
        label { (label) " "
            select name=(name) {
                option value="" { (unset) }
                // a value from the URL that is not offered stays visible as chosen
                @if !chosen.is_empty() && !choices.iter().any(|(v, _)| v == chosen) {
                    option value=(chosen) selected { (chosen) }
                }
                @for (value, shown) in choices {
                    option value=(value) selected[chosen == value] { (shown) }
                }
            }
        }
    }
}

/// A labelled text box keeping the query's text.
pub(super) fn text_box(query: &HashMap<String, String>, name: &str, label: &str) -> Markup {
    html! {
        label { (label) " "
            input type="search" name=(name) maxlength="200"
                value=(query.get(name).cloned().unwrap_or_default());
        }
    }
}

fn choices(list: &[verdict_store::Choice]) -> Vec<(String, String)> {
    list.iter()
        .map(|c| (c.id.to_string(), c.name.clone()))
        .collect()
}

/// GET /ui/{sp}/{ws} — latest result sets with counts and new failures.
pub async fn overview(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Params,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let Json(page) = result_sets::list(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone())),
        Query(query.clone()),
    )
    .await?;
    let offered = state
        .store
        .filter_choices(workspace.id)
        .await
        .map_err(crate::error::ApiError::from)?;
    let base = format!("/ui/{sp}/{ws}");
    let offset = page.offset;
    let more = offset + page.limit < page.total_count;
    let body = html! {
        h1 { (workspace.name) ": result sets" }
        form.filters method="get" action=(base) {
            (select(&query, "kind", "Kind", &["build", "report", "push"].map(|k| (k.to_owned(), k.to_owned()))))
            (select(&query, "series", "Series", &choices(&offered.series)))
            @if !offered.pipelines.is_empty() { (select(&query, "pipeline", "Pipeline", &choices(&offered.pipelines))) }
            @if !offered.releases.is_empty() { (select(&query, "release", "Release", &choices(&offered.releases))) }
            (text_box(&query, "environment", "Environment"))
            (text_box(&query, "batch", "Test Center batch"))
            button type="submit" { "Filter" }
        }
        (charts::result_sets(&page.data))
        table {
            thead { tr { th { "Result set" } th.wide { "Kind" } th { "Started" } th.wide.num { "Duration" }
                th { "Counts" } th.num { "New failures" } } }
            tbody {
                @for s in &page.data {
                    tr {
                        td { a href={ (base) "/results/" (s.id) } { (s.name) }
                            @if let Some(env) = &s.environment { br; span.muted { (env) } } }
                        td.wide { (s.kind) }
                        td { (time(&s.started)) }
                        td.wide.num { (duration(s.duration_ms)) }
                        td { (counts(s)) }
                        td.num {
                            @if s.comparison.new_failures > 0 {
                                a.fail href={ (base) "/results/" (s.id) "#new" } { (s.comparison.new_failures) }
                            } @else { "0" }
                        }
                    }
                }
            }
        }
        @if page.data.is_empty() { p { "Nothing pushed yet." } }
        nav.pager aria-label="Pages" {
            @if offset > 0 { a href=(with_offset(&base, &query, (offset - page.limit).max(0))) { "← Newer" } }
            @if more { a href=(with_offset(&base, &query, offset + page.limit)) { "Older →" } }
        }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        &workspace.name,
        body,
    )
}

/// The first line of a message, at most 300 characters.
pub(super) fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

fn compared(base: &str, id: &str, title: &str, list: &ComparedList) -> Markup {
    html! {
        section id=(id) {
            h2 { (title) " (" (list.total_count) ")" }
            @if list.data.is_empty() { p.muted { "None." } } @else {
                table {
                    thead { tr { th { "Test" } th.wide { "Context" } th { "Failing since" } th { "Group / triage" } } }
                    tbody {
                        @for t in &list.data {
                            tr {
                                td { a href={ (base) "/tests/" (t.test.id) } { (t.test.name) }
                                    br; span.muted { (t.test.class_name) }
                                    @if t.muted { " " span.muted { "(muted)" } }
                                    @if let Some(m) = &t.message { br; span.message { (first_line(m)) } } }
                                td.wide { (t.context.environment.join(", ")) }
                                td {
                                    @if let Some(since) = &t.failing_since {
                                        a href={ (base) "/results/" (since.result_set_id) } { (since.result_set_name) }
                                        " " (time(&since.started))
                                    }
                                }
                                td {
                                    @if let Some(sig) = &t.signature {
                                        a href={ (base) "/failures/" (sig) } { code { (sig) } }
                                    }
                                    @if let Some(tr) = &t.triage {
                                        br; span.note { (tr.note.clone().unwrap_or_default()) " "
                                            (tr.link.clone().unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// GET /ui/{sp}/{ws}/results/{id} — new failures first, then the rest.
pub async fn result_set(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws, id)): Path<(String, String, String)>,
    Query(query): Params,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    // the page's query: `limit` sizes the comparison lists; `outcome` and
    // `offset` filter and page the run list (each API checks its own)
    let pick = |keys: &[&str]| -> HashMap<String, String> {
        query
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if let Some(unknown) = query
        .keys()
        .find(|k| k.as_str() != "limit" && !result_sets::RESULT_PARAMS.contains(&k.as_str()))
    {
        return Err(UiError(crate::error::ApiError::bad_request(
            "platform.invalid_parameter",
            format!(
                "unknown query parameter '{unknown}' (known: limit, {})",
                result_sets::RESULT_PARAMS.join(", ")
            ),
        )));
    }
    let Json(d) = result_sets::detail(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone(), id.clone())),
        Query(pick(&["limit"])),
    )
    .await?;
    let Json(runs) = result_sets::results(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone(), id.clone())),
        Query(pick(
            &result_sets::RESULT_PARAMS
                .iter()
                .copied()
                .filter(|k| *k != "limit")
                .collect::<Vec<_>>(),
        )),
    )
    .await?;
    let base = format!("/ui/{sp}/{ws}");
    let here = format!("{base}/results/{id}");
    let s = &d.result_set;
    let body = html! {
        h1 { (s.name) }
        p { (counts(s)) " · " (time(&s.started)) " · " (duration(s.duration_ms))
            @if let Some(p) = &d.previous { " · compared with " a href={ (base) "/results/" (p.id) } { (p.name) } } }
        (compared(&base, "new", "New failures", &d.new_failures))
        (compared(&base, "still", "Still failing", &d.still_failing))
        (compared(&base, "fixed", "Fixed", &d.fixed))
        (compared(&base, "flaky", "Flaky", &d.flaky))
        (compared(&base, "muted", "Muted failures", &d.muted))
        (compared(&base, "added", "New tests", &d.new_tests))
        (compared(&base, "removed", "Removed tests", &d.removed))
        section id="runs" {
            h2 { "Every run (" (runs.total_count) ")" }
            form.filters method="get" action={ (here) "#runs" } {
                (select(&query, "outcome", "Outcome", &["failed", "passed", "skipped", "none"].map(|o| (o.to_owned(), o.to_owned()))))
                (select(&query, "flaky", "Flaky", &[("true".to_owned(), "marked flaky".to_owned()), ("false".to_owned(), "not marked".to_owned())]))
                (text_box(&query, "q", "Text in name or error"))
                (text_box(&query, "label", "Label"))
                (text_box(&query, "component", "Component"))
                (text_box(&query, "package", "Package"))
                (text_box(&query, "class_name", "Class"))
                button type="submit" { "Filter" }
            }
            table {
                thead { tr { th { "Test" } th.wide { "Context" } th { "Outcome" } th.num.wide { "Retries" } th.num { "Duration" } } }
                tbody { @for r in &runs.data { tr {
                    td { a href={ (base) "/tests/" (r.test.id) } { (r.test.name) } br; span.muted { (r.test.class_name) }
                        @if let Some(m) = &r.message { br; span.message { (first_line(m)) } } }
                    td.wide { (r.context.environment.join(", ")) }
                    td { (outcome(&r.outcome, r.flaky, r.muted)) }
                    td.num.wide { (r.retries) }
                    td.num { (duration(r.duration_ms)) }
                } } }
            }
            nav.pager aria-label="Pages of runs" {
                @if runs.offset > 0 { a href=(with_offset(&here, &query, (runs.offset - runs.limit).max(0))) { "← Previous" } }
                @if runs.offset + runs.limit < runs.total_count { a href=(with_offset(&here, &query, runs.offset + runs.limit)) { "Next →" } }
            }
        }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        &s.name,
        body,
    )
}

/// GET /ui/{sp}/{ws}/failures — failure groups, newest first.
pub async fn failures(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Params,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let Json(page) = groups::list(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone())),
        Query(query),
    )
    .await?;
    let body = html! {
        h1 { "Failure groups (" (page.total_count) ")" }
        table {
            thead { tr { th { "Signature" } th { "Message" } th.num { "Failed runs" } th.num { "Tests" } th.wide { "First seen" } th.wide { "Last seen" } } }
            tbody {
                @for g in &page.data {
                    tr id={ "g" (g.signature) } {
                        td { a href={ "/ui/" (sp) "/" (ws) "/failures/" (g.signature) } { code { (g.signature) } }
                            @if g.new { br; span.fail { "new" } } }
                        td { strong { (g.error_type) } br; (g.sample_message)
                            @if let Some(t) = &g.triage { br; span.note { (t.note.clone().unwrap_or_default()) " " (t.link.clone().unwrap_or_default()) } } }
                        td.num { (g.failed_runs) }
                        td.num { (g.tests_affected) }
                        td.wide { (time(&g.first_seen)) }
                        td.wide { (time(&g.last_seen)) }
                    }
                }
            }
        }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        "Failure groups",
        body,
    )
}

/// The flaky page's periods, as the API's absolute `since` (epoch ms at
/// the start of a UTC day, so a day's links stay the same URL).
fn since_choices() -> Vec<(String, String)> {
    use verdict_domain::time::DAY_MS;
    let today = verdict_store::now_ms().div_euclid(DAY_MS) * DAY_MS;
    [7, 90, 180]
        .iter()
        .map(|d| {
            (
                (today - d * DAY_MS).to_string(),
                format!("the last {d} days"),
            )
        })
        .collect()
}

/// GET /ui/{sp}/{ws}/flaky — tests ranked by flakiness.
pub async fn flaky(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Params,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let Json(list) = flaky::list(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone())),
        Query(query.clone()),
    )
    .await?;
    let list_window = query.get("window").map_or("30", String::as_str);
    let base = format!("/ui/{sp}/{ws}");
    let body = html! {
        h1 { "Flaky tests (" (list.total_count) ")" }
        form.filters method="get" action={ (base) "/flaky" } {
            (select_or(&query, "window", "Newest results per context", "30",
                &[10, 20, 50, 64].map(|w| (w.to_string(), w.to_string()))))
            (select_or(&query, "since", "Contexts that ran in", "the last 30 days", &since_choices()))
            button type="submit" { "Rank" }
        }
        p.muted { "Flakiness = (flips + flaky-marked passes) / runs over the newest "
            (list_window) " results of each context." }
        table {
            thead { tr { th { "Test" } th.wide { "Context" } th.num { "Flakiness" } th.num { "Flips" } th.num { "Runs" } th.num { "Success" } } }
            tbody {
                @for f in &list.data {
                    tr {
                        td { a href={ (base) "/tests/" (f.test.id) } { (f.test.name) } }
                        td.wide { (f.context.environment.join(", ")) }
                        td.num { (percent(f.flakiness)) }
                        td.num { (f.flips) }
                        td.num { (f.runs) }
                        td.num { (percent(f.success_rate)) }
                    }
                }
            }
        }
    };
    render(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        "Flaky tests",
        body,
    )
}
