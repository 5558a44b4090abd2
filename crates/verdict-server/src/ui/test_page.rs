//! A test's page: its links, mute, and per context the strip of outcomes,
//! figures, durations and the newest failures with message, stack trace
//! (folded after 20 lines, `<details>` needs no script) and files inline.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use super::charts;
use super::files::is_raster;
use super::layout::{self, duration, outcome, percent, time};
use super::pages::{Params, render_with, with_param};
use super::{UiError, Viewer};
use crate::api::story::{self, ContextStory};
use crate::api::story_details::{FailureFileView, FailureView, MAX_FAILURES, TestLinksView};
use crate::app::AppState;
use crate::auth::access;

/// Stack-trace lines shown before the rest is folded.
const UNFOLDED_LINES: usize = 20;

fn links(l: &TestLinksView) -> Markup {
    let empty = l.external_test_id.is_none()
        && l.lists.is_empty()
        && l.backlog_items.is_empty()
        && l.application_modules.is_empty();
    html! {
        @if !empty {
            dl.links {
                @if let Some(id) = &l.external_test_id { dt { "External id" } dd { code { (id) } } }
                @for e in &l.lists { dt { (e.kind.trim_start_matches("list_node.").replace('_', " ")) } dd { (e.name) } }
                @if !l.backlog_items.is_empty() {
                    dt { "Covers" }
                    dd { @for (i, e) in l.backlog_items.iter().enumerate() {
                        @if i > 0 { ", " } (e.kind) " #" (e.id) " " (e.name) } }
                }
                @if !l.application_modules.is_empty() {
                    dt { "Application modules" }
                    dd { @for (i, e) in l.application_modules.iter().enumerate() {
                        @if i > 0 { ", " } (e.name) " (#" (e.id) ")" } }
                }
            }
        }
    }
}

/// A stack trace: the first lines, then the rest folded.
fn stack(text: &str) -> Markup {
    let lines: Vec<&str> = text.lines().collect();
    let (shown, folded) = lines.split_at(lines.len().min(UNFOLDED_LINES));
    html! {
        pre.stack { (shown.join("\n")) }
        @if !folded.is_empty() {
            details {
                summary { (folded.len()) " more lines" }
                pre.stack { (folded.join("\n")) }
            }
        }
    }
}

fn file(base: &str, f: &FailureFileView) -> Markup {
    let href = match f.kind.as_str() {
        "run_attachment" => format!("{base}/attachments/{}", f.id),
        other => format!("{base}/testcenter/events/{}/{other}", f.id),
    };
    html! {
        @if f.kind != "attachment" && is_raster(&f.name) {
            figure.shot {
                a href=(href) { img.shot src=(href) alt={ "Screenshot " (f.name) } loading="lazy"; }
                figcaption { (f.name) }
            }
        } @else {
            li { a href=(href) download { (f.name) } }
        }
    }
}

fn failure(base: &str, f: &FailureView) -> Markup {
    let (images, others): (Vec<&FailureFileView>, Vec<&FailureFileView>) = f
        .files
        .iter()
        .partition(|x| x.kind != "attachment" && is_raster(&x.name));
    html! {
        article.failure {
            h3 { "Failed in " a href={ (base) "/results/" (f.result_set_id) } { (f.result_set_name) } " " (time(&f.started))
                @if f.retries > 0 { " · " (f.retries) " retries" } }
            @if let Some(sig) = &f.signature {
                p { "Failure group " a href={ (base) "/failures/" (sig) } { code { (sig) } }
                    @if let Some(t) = &f.triage { " · " span.note { (t.note.clone().unwrap_or_default()) " "
                        (t.link.clone().unwrap_or_default()) } } }
            }
            @if let Some(kind) = &f.error_type { p { strong { (kind) } } }
            @if let Some(m) = &f.message { pre.message { (m) } }
            @if let Some(st) = &f.stack { (stack(st)) }
            @if f.message.is_none() && f.stack.is_none() { p.muted { "The report gave no message." } }
            @for img in &images { (file(base, img)) }
            @if !others.is_empty() { ul.files { @for o in &others { (file(base, o)) } } }
        }
    }
}

fn context(base: &str, here: &str, query: &HashMap<String, String>, c: &ContextStory) -> Markup {
    let failed = c.results.iter().filter(|r| r.outcome == "failed").count();
    let shown: Vec<_> = c
        .results
        .iter()
        .rev()
        .take(50)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let points: Vec<(String, i64)> = c
        .results
        .iter()
        .map(|r| (r.result_set_name.clone(), r.duration_ms))
        .collect();
    html! {
        section.context {
            h2 { (if c.context.environment.is_empty() { "no environment".to_owned() } else { c.context.environment.join(", ") })
                @if let Some(r) = &c.context.release { " · release " (r) } }
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
                span { "Results " strong { (c.total_results) } }
                @if let Some(p50) = c.figures.duration_median_ms { span { "Duration p50 " strong { (duration(p50)) } } }
                @if let Some(p95) = c.figures.duration_p95_ms { span { "p95 " strong { (duration(p95)) } } }
                @if c.figures.got_slower { span.flaky { "got slower" } }
            }
            div.strip role="list" aria-label="Newest results, newest right" {
                @for r in &shown {
                    @let (class, sym) = layout::mark(&r.outcome, r.flaky);
                    @let said = format!("{}{}{} · {} · {}", r.outcome, if r.flaky { " (flaky)" } else { "" },
                        if r.retries > 0 { format!(" after {} retries", r.retries) } else { String::new() },
                        r.result_set_name, r.started);
                    span role="listitem" { a class=(class) href={ (base) "/results/" (r.result_set_id) }
                        title=(said) aria-label=(said) { (sym) } }
                }
            }
            (charts::test_durations(&points))
            @for f in &c.failures { (failure(base, f)) }
            @if failed > c.failures.len() {
                @let hidden = failed - c.failures.len();
                p { (hidden) (if hidden == 1 { " older failure in this context is" } else { " older failures in this context are" })
                    " not shown: "
                    a href=(with_param(here, query, "failures", &MAX_FAILURES.to_string())) {
                        "show up to " (MAX_FAILURES) " failures (newest contexts first)" } }
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
    let shown_query = query.clone();
    let Json(st) = story::story(
        State(state.clone()),
        viewer.0.clone(),
        Path((sp.clone(), ws.clone(), id)),
        Query(query),
    )
    .await?;
    let base = format!("/ui/{sp}/{ws}");
    let title = st.test.name.clone();
    let here = format!("{base}/tests/{}", st.test.id);
    let body = |csrf: &str| {
        html! {
            h1 { (st.test.name) }
            p.muted { (st.test.package) " " (st.test.class_name)
                @if !st.test.component.is_empty() { " · component " (st.test.component) } }
            (links(&st.links))
            @if let Some(m) = &st.mute { p { strong { "Muted" } " (quarantined) by " (m.muted_by) " " (time(&m.muted_at)) ": " (m.reason.clone().unwrap_or_default()) } }
            form method="post" action={ (base) "/tests/" (st.test.id) "/mute" } {
                input type="hidden" name="csrf" value=(csrf);
                @if st.mute.is_some() {
                    input type="hidden" name="action" value="unmute";
                    button type="submit" { "Unmute" }
                } @else {
                    input type="hidden" name="action" value="mute";
                    label { "Reason " input name="reason" maxlength="2000"; }
                    " "
                    button type="submit" { "Mute (quarantine)" }
                }
            }
            @if st.contexts.is_empty() { p { "No results yet." } }
            @for c in &st.contexts { (context(&base, &here, &shown_query, c)) }
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
