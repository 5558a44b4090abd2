//! `GET /verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/history`:
//! a test's timeline (per batch for Test Center runs) and its figures.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use verdict_domain::history::figures;
use verdict_domain::status::RunStatus;

use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::octane::results::path_id;

/// The history of one test (all its runs, oldest first, with the figures of
/// testcenter-notes.md); `…/story` has the per-context insight view.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/history", tag = "testcenter",
    params(("sp" = String, Path), ("ws" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "`{\"test_id\", \"runs\", \"passed\", \"failed\", \"success_rate\", \"flakiness\", \"flaky\", \"times_broken\", \"timeline\": [...]}`", body = Object),
        (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, test)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let test_id = path_id(&test, "test")?;
    let entries = state
        .store
        .test_history(workspace.id, test_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("test {test_id} not found")))?;
    let statuses: Vec<(RunStatus, bool)> = entries
        .iter()
        .filter_map(|e| RunStatus::from_key(&e.status).map(|s| (s, e.flaky)))
        .collect();
    let f = figures(&statuses);
    let timeline: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({"run_id": e.run_id.to_string(), "status": e.status, "started": verdict_domain::time::format_iso(e.started),
                   "duration": e.duration, "batch": e.batch, "report_id": e.report_id,
                   "retries": e.retries, "flaky": e.flaky})
        })
        .collect();
    Ok(Json(json!({
        "test_id": test_id.to_string(),
        "runs": f.counted,
        "passed": f.passed,
        "failed": f.failed,
        "success_rate": f.success_rate,
        "flakiness": f.flakiness,
        "flaky": f.flaky,
        "times_broken": f.times_broken,
        "timeline": timeline,
    })))
}
