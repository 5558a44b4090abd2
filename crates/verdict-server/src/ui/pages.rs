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

use super::layout::{self, Nav, duration, outcome, percent, time};
use super::{UiError, Viewer, session};
use crate::api::result_sets::ComparedList;
use crate::api::views::ResultSetView;
use crate::api::{flaky, groups, result_sets, story};
use crate::app::AppState;
use crate::auth::access;

type Params = Query<HashMap<String, String>>;

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
    let mut pairs: Vec<(&String, &String)> = query.iter().filter(|(k, _)| *k != "offset").collect();
    pairs.sort();
    let mut url = format!("{base}?offset={offset}");
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

/// A pass-rate bar per result set, oldest left (SVG drawn here).
fn trend(sets: &[ResultSetView]) -> Markup {
    let shown: Vec<&ResultSetView> = sets.iter().take(30).rev().collect();
    let width = 10.0;
    html! {
        svg.trend viewBox={ "0 0 " (shown.len() as f64 * width) " 100" } preserveAspectRatio="none"
            role="img" aria-label="Pass rate of the newest result sets, oldest first" {
            @for (i, s) in shown.iter().enumerate() {
                @let counted = s.counts.passed + s.counts.failed;
                @let rate = if counted == 0 { 0.0 } else { s.counts.passed as f64 / counted as f64 };
                @let h = (rate * 100.0).max(1.0);
                rect class=(if rate < 1.0 { "bad" } else { "bar" }) x=(i as f64 * width + 1.0) y=(100.0 - h)
                    width=(width - 2.0) height=(h) {
                    title { (s.name) ": " (percent(rate)) " passed" }
                }
            }
        }
    }
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
    let base = format!("/ui/{sp}/{ws}");
    let offset = page.offset;
    let more = offset + page.limit < page.total_count;
    let body = html! {
        h1 { (workspace.name) ": result sets" }
        form method="get" action=(base) {
            label for="kind" { "Kind " }
            select #kind name="kind" {
                option value="" { "all" }
                @for k in ["build", "report", "push"] {
                    option value=(k) selected[query.get("kind").map(String::as_str) == Some(k)] { (k) }
                }
            }
            " "
            label for="env" { "Environment " }
            input #env name="environment" value=(query.get("environment").cloned().unwrap_or_default());
            " "
            button type="submit" { "Filter" }
        }
        @if !page.data.is_empty() { (trend(&page.data)) }
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
                                    @if t.muted { " " span.muted { "(muted)" } } }
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
        .find(|k| !["limit", "outcome", "offset"].contains(&k.as_str()))
    {
        return Err(UiError(crate::error::ApiError::bad_request(
            "platform.invalid_parameter",
            format!("unknown query parameter '{unknown}' (known: limit, outcome, offset)"),
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
        Query(pick(&["outcome", "offset"])),
    )
    .await?;
    let base = format!("/ui/{sp}/{ws}");
    let here = format!("{base}/results/{id}");
    let chosen = query.get("outcome").map(String::as_str).unwrap_or_default();
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
            form method="get" action={ (here) "#runs" } {
                label for="outcome" { "Outcome " }
                select #outcome name="outcome" {
                    option value="" { "all" }
                    @for o in ["failed", "passed", "skipped", "none"] {
                        option value=(o) selected[chosen == o] { (o) }
                    }
                }
                " "
                button type="submit" { "Filter" }
            }
            table {
                thead { tr { th { "Test" } th.wide { "Context" } th { "Outcome" } th.num.wide { "Retries" } th.num { "Duration" } } }
                tbody { @for r in &runs.data { tr {
                    td { a href={ (base) "/tests/" (r.test.id) } { (r.test.name) } br; span.muted { (r.test.class_name) } }
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

/// The durations of the newest 50 results as an SVG line (oldest left),
/// scaled to the slowest; each point's title says the run and its time.
fn durations(results: &[crate::api::story::StoryResultView]) -> Markup {
    let shown: Vec<&crate::api::story::StoryResultView> = results
        .iter()
        .rev()
        .take(50)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if shown.len() < 2 {
        return html! {};
    }
    let slowest = shown
        .iter()
        .map(|r| r.duration_ms)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let step = 100.0 / (shown.len() - 1) as f64;
    let point = |i: usize, ms: i64| (i as f64 * step, 95.0 - 90.0 * ms as f64 / slowest);
    let line: Vec<String> = shown
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (x, y) = point(i, r.duration_ms);
            format!("{x:.2},{y:.2}")
        })
        .collect();
    html! {
        svg.durations viewBox="0 0 100 100" preserveAspectRatio="none" role="img"
            aria-label={ "Duration of the newest " (shown.len()) " results, oldest first; slowest " (layout::duration(slowest as i64)) } {
            polyline points=(line.join(" "));
            @for (i, r) in shown.iter().enumerate() {
                @let (x, y) = point(i, r.duration_ms);
                circle cx=(format!("{x:.2}")) cy=(format!("{y:.2}")) r="1.2" {
                    title { (r.result_set_name) ": " (layout::duration(r.duration_ms)) }
                }
            }
        }
    }
}

/// GET /ui/{sp}/{ws}/tests/{id} — a test's story per context.
pub async fn test(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((sp, ws, id)): Path<(String, String, String)>,
    Query(query): Params,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let Json(st) = story::story(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone(), id)),
        Query(query),
    )
    .await?;
    let base = format!("/ui/{sp}/{ws}");
    let title = st.test.name.clone();
    let body = |csrf: &str| {
        html! {
            h1 { (st.test.name) }
            p.muted { (st.test.package) " " (st.test.class_name) }
            @if let Some(m) = &st.mute { p { strong { "Muted" } " (quarantined) by " (m.muted_by) " " (time(&m.muted_at)) ": " (m.reason.clone().unwrap_or_default()) } }
            form method="post" action={ (base) "/tests/" (st.test.id) "/mute" } {
                input type="hidden" name="csrf" value=(csrf);
                @if st.mute.is_some() {
                    input type="hidden" name="action" value="unmute";
                    button type="submit" { "Unmute" }
                } @else {
                    input type="hidden" name="action" value="mute";
                    label for="reason" { "Reason " }
                    input #reason name="reason" maxlength="2000";
                    " "
                    button type="submit" { "Mute (quarantine)" }
                }
            }
            @for c in &st.contexts {
                section {
                    h2 { (if c.context.environment.is_empty() { "no environment".to_owned() } else { c.context.environment.join(", ") })
                        @if let Some(r) = &c.context.release { " · " (r) } }
                    p { "Now: " (outcome(&c.current, false, false))
                        @if let Some(since) = &c.failing_since {
                            " · failing since " a href={ (base) "/results/" (since.result_set_id) } { (since.result_set_name) }
                            " " (time(&since.started))
                        }
                        @if let Some(last) = &c.last_passed {
                            " · last passed " a href={ (base) "/results/" (last.result_set_id) } { (last.result_set_name) }
                        }
                    }
                    div.figures {
                        span { "Success rate " strong { (percent(c.figures.success_rate)) } }
                        span { "Flakiness " strong { (percent(c.figures.flakiness)) } }
                        span { "Times broken " strong { (c.figures.times_broken) } }
                        @if let Some(p50) = c.figures.duration_median_ms { span { "Duration p50 " strong { (duration(p50)) } } }
                        @if let Some(p95) = c.figures.duration_p95_ms { span { "p95 " strong { (duration(p95)) } } }
                        @if c.figures.got_slower { span.flaky { "got slower" } }
                    }
                    div.strip role="list" aria-label="Newest results, newest right" {
                        @for r in c.results.iter().rev().take(50).collect::<Vec<_>>().into_iter().rev() {
                            @let (class, sym) = layout::mark(&r.outcome, r.flaky);
                            a role="listitem" class=(class) href={ (base) "/results/" (r.result_set_id) }
                                title={ (r.outcome) " · " (r.result_set_name) " · " (r.started) } { (sym) }
                        }
                    }
                    (durations(&c.results))
                }
            }
        }
    };
    render_with(
        &headers,
        &viewer,
        Some((&sp, &ws, &workspace.name)),
        &title,
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
            thead { tr { th { "Signature" } th { "Message" } th.num { "Failed runs" } th.num { "Tests" } th.wide { "Last seen" } } }
            tbody {
                @for g in &page.data {
                    tr id={ "g" (g.signature) } {
                        td { a href={ "/ui/" (sp) "/" (ws) "/failures/" (g.signature) } { code { (g.signature) } }
                            @if g.new { br; span.fail { "new" } } }
                        td { strong { (g.error_type) } br; (g.sample_message)
                            @if let Some(t) = &g.triage { br; span.note { (t.note.clone().unwrap_or_default()) " " (t.link.clone().unwrap_or_default()) } } }
                        td.num { (g.failed_runs) }
                        td.num { (g.tests_affected) }
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
        Query(query),
    )
    .await?;
    let base = format!("/ui/{sp}/{ws}");
    let body = html! {
        h1 { "Flaky tests (" (list.total_count) ")" }
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
