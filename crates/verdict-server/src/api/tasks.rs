//! `GET …/tasks/{id}`: a test-results task as Verdict sees it — its status,
//! `errorDetails`, and while it runs how many of its items are applied (the
//! Octane task JSON at `…/test-results/{id}` stays exactly Octane's).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::octane::results::path_id;

/// A test-results task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    /// `queued`, `running`, `success`, `warning`, `failed` or `error`.
    pub status: String,
    pub accepted_at: String,
    pub skip_errors: bool,
    /// Test runs the payload holds (counted when it was validated; null for
    /// tasks accepted before v9).
    pub items_total: Option<i64>,
    /// While running: runs applied so far, reported by the node processing
    /// the task (null when another node runs it, or it is not running).
    pub items_applied: Option<i64>,
    #[serde(rename = "errorDetails")]
    pub error_details: Option<String>,
}

/// One test-results task of the workspace, with its progress while it runs.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tasks/{id}", tag = "insight",
    params(("sp" = String, Path), ("ws" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = TaskView), (status = 404)))]
pub async fn task(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
) -> Result<Json<TaskView>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let task_id = path_id(&id, "task")?;
    let task = state
        .store
        .task(task_id)
        .await?
        .filter(|t| t.workspace_id == workspace.id)
        .ok_or_else(|| ApiError::NotFound(format!("task {task_id} not found")))?;
    let status = task.state.as_str();
    let items_applied = if status == "running" {
        state
            .progress
            .applied(task.id)
            .and_then(|n| i64::try_from(n).ok())
            .map(|n| task.items_total.map_or(n, |total| n.min(total)))
    } else {
        None
    };
    Ok(Json(TaskView {
        id: task.id.to_string(),
        status: status.to_owned(),
        accepted_at: verdict_domain::time::format_iso(task.accepted_at),
        skip_errors: task.skip_errors,
        items_total: task.items_total,
        items_applied,
        error_details: task.error_details,
    }))
}
