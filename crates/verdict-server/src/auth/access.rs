//! Tenant isolation: a caller sees a workspace only when it exists in the
//! shared space of the URL (else 404) and the caller is an admin or holds a
//! role there (else 403).

use verdict_store::WorkspaceRecord;

use super::principal::Principal;
use crate::app::AppState;
use crate::error::ApiError;

/// Resolves `{sp}/{ws}` for `who`, enforcing access.
pub async fn workspace(
    state: &AppState,
    who: &Principal,
    shared_space_id: i64,
    workspace_id: i64,
) -> Result<WorkspaceRecord, ApiError> {
    let ws = state
        .store
        .workspace(shared_space_id, workspace_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "workspace {workspace_id} not found in shared space {shared_space_id}"
            ))
        })?;
    if who.user.is_admin || state.store.role_in(who.user.id, ws.id).await?.is_some() {
        Ok(ws)
    } else {
        Err(ApiError::Forbidden(format!(
            "user '{}' has no role in workspace {workspace_id}",
            who.user.name
        )))
    }
}

/// Resolves `{sp}/{ws}` path segments (anything but a number is a 404) for `who`.
pub async fn workspace_path(
    state: &AppState,
    who: &Principal,
    shared_space: &str,
    workspace_id: &str,
) -> Result<WorkspaceRecord, ApiError> {
    let sp = crate::octane::results::path_id(shared_space, "shared space")?;
    let ws = crate::octane::results::path_id(workspace_id, "workspace")?;
    workspace(state, who, sp, ws).await
}

/// Checks that the shared space exists and the caller may see it.
pub async fn shared_space(
    state: &AppState,
    who: &Principal,
    shared_space_id: i64,
) -> Result<(), ApiError> {
    if state.store.shared_space(shared_space_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "shared space {shared_space_id} not found"
        )));
    }
    if who.user.is_admin
        || state
            .store
            .has_role_in_shared_space(who.user.id, shared_space_id)
            .await?
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "user '{}' has no role in shared space {shared_space_id}",
            who.user.name
        )))
    }
}

/// The workspaces among `ids` (of shared space `sp`) the caller holds a role
/// in (administrators: all): where data a CI plugin sends may go.
///
/// # Errors
/// Database failure.
pub async fn writable_workspaces(
    state: &AppState,
    who: &Principal,
    sp: i64,
    ids: Vec<i64>,
) -> Result<Vec<i64>, ApiError> {
    let mut out = Vec::new();
    for ws in ids {
        match workspace(state, who, sp, ws).await {
            Ok(_) => out.push(ws),
            Err(ApiError::Forbidden(_) | ApiError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
