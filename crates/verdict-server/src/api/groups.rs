//! Failure groups (`…/failure_groups`): failures with one signature, their
//! runs, and triage notes that every later failure of the group carries.

use std::collections::HashMap;
use verdict_domain::time::DAY_MS;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verdict_domain::signature::{from_hex, to_hex};
use verdict_domain::time::format_iso;
use verdict_store::{FailureGroup, GroupFilter};

use super::params::Params;
use super::views::{Page, TriageView};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::limits;

/// A failure group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    /// The signature (hex): the group's id.
    pub signature: String,
    pub error_type: String,
    /// The message with volatile values masked.
    pub message: String,
    /// Top non-framework frames, masked.
    pub frames: Vec<String>,
    /// A real message of the group.
    pub sample_message: String,
    pub failed_runs: i64,
    pub tests_affected: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub first_result_set_id: String,
    pub last_result_set_id: String,
    /// All its failures are in one result set, the newest of its series.
    pub new: bool,
    pub triage: Option<TriageView>,
}

/// A failed run of a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupRunView {
    pub result_id: String,
    pub run_id: String,
    pub test_id: String,
    pub test_name: String,
    pub result_set_id: String,
    pub result_set_name: String,
    pub started: String,
    pub muted: bool,
}

/// A group with its triage trail and runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupDetail {
    pub group: GroupView,
    /// Every note, newest first.
    pub triage_history: Vec<TriageView>,
    /// Failed runs per day (UTC) over the 30 days ending on the day the
    /// group was last seen, oldest first, days without failures included.
    pub days: Vec<GroupDayView>,
    pub runs: Page<GroupRunView>,
}

/// A group's failed runs on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupDayView {
    /// `yyyy-mm-dd` (UTC).
    pub day: String,
    pub failed_runs: i64,
}

/// Days a group's trend covers.
const TREND_DAYS: i64 = 30;

/// The first day (epoch ms at 00:00 UTC) of the trend ending on
/// `last_seen`'s day; `None` where that is outside time (a hostile `started`).
fn trend_start(last_seen: i64) -> Option<i64> {
    last_seen
        .div_euclid(DAY_MS)
        .checked_sub(TREND_DAYS - 1)?
        .checked_mul(DAY_MS)
}

/// The trend's days from `first`, zeros filled in; `counts` by day index.
fn trend_days(counts: &[(i64, i64)], first: i64) -> Vec<GroupDayView> {
    let by_day: HashMap<i64, i64> = counts.iter().copied().collect();
    (0..TREND_DAYS)
        .map_while(|i| {
            let at = first.checked_add(i * DAY_MS)?;
            Some(GroupDayView {
                day: format_iso(at)
                    .split_once('T')
                    .map_or_else(String::new, |(day, _)| day.to_owned()),
                failed_runs: by_day.get(&i).copied().unwrap_or(0),
            })
        })
        .collect()
}

/// A triage note and/or link.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    /// At most 64 KiB.
    pub note: Option<String>,
    /// A defect id or URL, at most 2,048 characters.
    pub link: Option<String>,
}

async fn view(
    state: &AppState,
    workspace_id: i64,
    groups: &[FailureGroup],
) -> Result<Vec<GroupView>, ApiError> {
    let sigs: Vec<i64> = groups.iter().map(|g| g.signature).collect();
    let triage: HashMap<i64, TriageView> = state
        .store
        .latest_triage(workspace_id, &sigs)
        .await?
        .iter()
        .map(|t| (t.signature, TriageView::from(t)))
        .collect();
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let new = !state
            .store
            .group_outside_set(workspace_id, g.signature, g.last_result_set_id)
            .await?
            && state
                .store
                .is_newest_in_series(g.last_result_set_id)
                .await?;
        out.push(GroupView {
            signature: to_hex(g.signature),
            error_type: g.error_type.clone(),
            message: g.message.clone(),
            frames: g.frames.clone(),
            sample_message: g.sample_message.clone(),
            failed_runs: g.failed_runs,
            tests_affected: g.tests_affected,
            first_seen: format_iso(g.first_seen),
            last_seen: format_iso(g.last_seen),
            first_result_set_id: g.first_result_set_id.to_string(),
            last_result_set_id: g.last_result_set_id.to_string(),
            new,
            triage: triage.get(&g.signature).cloned(),
        });
    }
    Ok(out)
}

fn signature_of(text: &str) -> Result<i64, ApiError> {
    from_hex(text).ok_or_else(|| {
        ApiError::NotFound(format!(
            "failure group '{text}' not found (a group id is 16 hex digits)"
        ))
    })
}

/// List failure groups, most recently seen first.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/failure_groups", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path),
        ("since" = Option<String>, Query, description = "seen at or after (ISO 8601 or epoch ms)"),
        ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page<GroupView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<GroupView>>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(&["since", "limit", "offset"])?;
    let (limit, offset) = p.page()?;
    let since = p.time("since")?;
    let groups = state
        .store
        .failure_groups(
            workspace.id,
            &GroupFilter {
                since,
                limit,
                offset,
            },
        )
        .await?;
    let total = state
        .store
        .count_failure_groups(workspace.id, since)
        .await?;
    Ok(Json(Page {
        total_count: total,
        limit,
        offset,
        data: view(&state, workspace.id, &groups).await?,
    }))
}

/// One failure group with its triage trail and its runs (newest first).
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/failure_groups/{signature}", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("signature" = String, Path),
        ("limit" = Option<i64>, Query, description = "runs per page"), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = GroupDetail), (status = 404)))]
pub async fn detail(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, sig)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GroupDetail>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(&["limit", "offset"])?;
    let (limit, offset) = p.page()?;
    let signature = signature_of(&sig)?;
    let group = state
        .store
        .failure_group(workspace.id, signature)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("failure group '{sig}' not found")))?;
    let runs = state
        .store
        .group_runs(workspace.id, signature, limit, offset)
        .await?;
    let history = state.store.triage_history(workspace.id, signature).await?;
    let days = match trend_start(group.last_seen) {
        Some(first) => {
            let counts = state
                .store
                .group_days(workspace.id, signature, first, TREND_DAYS)
                .await?;
            trend_days(&counts, first)
        }
        None => Vec::new(),
    };
    let total = group.failed_runs;
    let mut views = view(&state, workspace.id, std::slice::from_ref(&group)).await?;
    let group_view = views
        .pop()
        .ok_or_else(|| ApiError::NotFound(format!("failure group '{sig}' not found")))?;
    Ok(Json(GroupDetail {
        group: group_view,
        triage_history: history.iter().map(TriageView::from).collect(),
        days,
        runs: Page {
            total_count: total,
            limit,
            offset,
            data: runs
                .iter()
                .map(|r| GroupRunView {
                    result_id: r.result_id.to_string(),
                    run_id: r.run_id.to_string(),
                    test_id: r.test_id.to_string(),
                    test_name: r.test_name.clone(),
                    result_set_id: r.result_set_id.to_string(),
                    result_set_name: r.result_set_name.clone(),
                    started: format_iso(r.started),
                    muted: r.muted,
                })
                .collect(),
        },
    }))
}

/// Attach a note and/or a link to a failure group; its failures, earlier and
/// later, show the newest one.
#[utoipa::path(post, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/failure_groups/{signature}/triage", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("signature" = String, Path)),
    request_body = TriageRequest,
    responses((status = 201, body = TriageView), (status = 400), (status = 404)))]
pub async fn triage(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, sig)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Result<(axum::http::StatusCode, Json<TriageView>), ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let signature = signature_of(&sig)?;
    if state
        .store
        .failure_group(workspace.id, signature)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "failure group '{sig}' not found"
        )));
    }
    let request: TriageRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("platform.invalid_json", format!("triage request: {e}"))
    })?;
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let link = request
        .link
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    if note.is_none() && link.is_none() {
        return Err(ApiError::bad_request(
            "platform.missing_field",
            "triage request: give a 'note', a 'link' or both",
        ));
    }
    let too_long = |m| ApiError::bad_request("platform.field_too_long", m);
    if let Some(n) = note {
        limits::check_bytes("note", n, limits::INSIGHT_NOTE_BYTES).map_err(too_long)?;
    }
    if let Some(l) = link {
        limits::check_chars("link", l, limits::INSIGHT_LINK_CHARS).map_err(too_long)?;
    }
    let t = state
        .store
        .add_triage(workspace.id, signature, note, link, &who.user.name)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(TriageView::from(&t))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_days_fill_thirty_days_ending_on_the_last_seen_day() {
        // 2026-12-02T10:00:00Z, with failures that day and 29 days before
        let last_seen = 1_796_205_600_000;
        let first = trend_start(last_seen).unwrap();
        let days = trend_days(&[(0, 4), (29, 2)], first);
        assert_eq!(days.len(), 30);
        assert_eq!(days[0].day, "2026-11-03");
        assert_eq!(days[0].failed_runs, 4);
        assert_eq!(days[29].day, "2026-12-02");
        assert_eq!(days[29].failed_runs, 2);
        assert_eq!(days.iter().map(|d| d.failed_runs).sum::<i64>(), 6);
    }

    #[test]
    fn a_trend_at_the_ends_of_time_neither_overflows_nor_panics() {
        assert_eq!(trend_start(i64::MIN), None);
        let first = trend_start(i64::MAX).unwrap();
        assert!(trend_days(&[], first).len() <= 30);
        // before 1970: days still run forward from the first
        let first = trend_start(-1).unwrap();
        let days = trend_days(&[(29, 1)], first);
        assert_eq!(days[29].day, "1969-12-31");
    }
}
