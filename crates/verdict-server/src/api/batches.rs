//! `GET /verdict/api/shared_spaces/{sp}/workspaces/{ws}/batches`: Test Center
//! batches with their reference link (`.reference.url`) and reports; labels
//! whose key starts with `.` are listed apart as hidden.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

/// The batches of a workspace, newest first.
#[utoipa::path(get, path = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/batches", tag = "testcenter",
    params(("sp" = String, Path), ("ws" = String, Path)),
    responses((status = 200, description = "`{\"total_count\", \"data\": [{\"id\", \"name\", \"reference\", \"reports\": [{\"id\", \"labels\", \"hidden_labels\"}]}]}`", body = Object),
        (status = 401), (status = 403), (status = 404)))]
pub async fn batches(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let data: Vec<Value> = state
        .store
        .tc_batches(workspace.id)
        .await?
        .into_iter()
        .map(|b| {
            let reports: Vec<Value> = b
                .reports
                .iter()
                .map(|(id, labels)| {
                    let list = |hidden: bool| -> Vec<Value> {
                        labels.iter().filter(|(_, h)| *h == hidden).map(|(l, _)| json!({"key": l.key, "value": l.value})).collect()
                    };
                    json!({"id": id.to_string(), "labels": list(false), "hidden_labels": list(true)})
                })
                .collect();
            json!({"id": b.id.to_string(), "name": b.name, "reference": b.reference_url.map(|url| json!({"url": url, "title": b.reference_title})), "reports": reports})
        })
        .collect();
    Ok(Json(json!({"total_count": data.len(), "data": data})))
}
