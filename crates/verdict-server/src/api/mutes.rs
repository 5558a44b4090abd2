//! Muting a test (quarantine): its runs are still stored and shown, marked
//! muted, but left out of new failures and of `verdict push`'s gate. Who and
//! when is kept; an unmute closes the mute rather than deleting it.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verdict_domain::time::format_iso;
use verdict_store::MuteRecord;

use super::params::Params;
use super::story_support::workspace_test;
use super::views::ListOf;
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::limits;

/// A mute.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MuteView {
    pub id: String,
    pub test_id: String,
    pub reason: Option<String>,
    pub muted_by: String,
    pub muted_at: String,
    pub unmuted_by: Option<String>,
    pub unmuted_at: Option<String>,
}

impl From<&MuteRecord> for MuteView {
    fn from(m: &MuteRecord) -> Self {
        Self {
            id: m.id.to_string(),
            test_id: m.test_id.to_string(),
            reason: m.reason.clone(),
            muted_by: m.muted_by.clone(),
            muted_at: format_iso(m.muted_at),
            unmuted_by: m.unmuted_by.clone(),
            unmuted_at: m.unmuted_at.map(format_iso),
        }
    }
}

/// Why a test is muted.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    /// At most 64 KiB.
    pub reason: Option<String>,
}

/// Mute a test (an already muted test keeps its mute).
#[utoipa::path(put, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/mute", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("id" = String, Path)),
    request_body = MuteRequest,
    responses((status = 200, body = MuteView), (status = 400), (status = 404)))]
pub async fn mute(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<MuteView>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let test_id = workspace_test(&state.store, workspace.id, &id).await?.id;
    let request: MuteRequest = if body.is_empty() {
        MuteRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("platform.invalid_json", format!("mute request: {e}"))
        })?
    };
    if let Some(reason) = &request.reason {
        limits::check_bytes("reason", reason, limits::INSIGHT_NOTE_BYTES)
            .map_err(|m| ApiError::bad_request("platform.field_too_long", m))?;
    }
    let m = state
        .store
        .mute_test(
            workspace.id,
            test_id,
            request.reason.as_deref(),
            &who.user.name,
        )
        .await?;
    Ok(Json(MuteView::from(&m)))
}

/// Unmute a test.
#[utoipa::path(delete, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/mute", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = MuteView), (status = 404, description = "no such test, or it is not muted")))]
pub async fn unmute(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
) -> Result<Json<MuteView>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let test_id = workspace_test(&state.store, workspace.id, &id).await?.id;
    let m = state
        .store
        .unmute_test(workspace.id, test_id, &who.user.name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("test {test_id} is not muted")))?;
    Ok(Json(MuteView::from(&m)))
}

/// Mutes of the workspace: active ones, or with `all=true` the whole trail.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/mutes", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("all" = Option<bool>, Query, description = "include ended mutes")),
    responses((status = 200, body = ListOf<MuteView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListOf<MuteView>>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let p = Params(query);
    p.only(&["all"])?;
    let all = match p.text("all") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "platform.invalid_parameter",
                format!("query parameter 'all': '{other}' is not true or false"),
            ));
        }
    };
    let data: Vec<MuteView> = state
        .store
        .mutes(workspace.id, None, !all)
        .await?
        .iter()
        .map(MuteView::from)
        .collect();
    Ok(Json(ListOf {
        total_count: data.len(),
        data,
    }))
}
