//! Attachments of work items, tests and runs (what the JS SDK sends):
//! `POST …/attachments?name=&owner_work_item=` with the raw bytes, the JSON
//! entity or (with `Accept: application/octet-stream`) the bytes on GET, and
//! DELETE. Bytes go to the blob store, streamed both ways.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use verdict_store::{AttachmentOwner, StoreError, collection_by_name};

use super::entity_write::read_by_ids;
use super::results::path_id;
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

fn collection() -> Result<&'static verdict_store::Collection, ApiError> {
    collection_by_name("attachments").ok_or_else(|| ApiError::NotFound("attachments".to_owned()))
}

/// POST …/workspaces/{ws}/attachments?name=…&owner_work_item=…
pub async fn upload(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Result<Response, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let name = params
        .get("name")
        .map(|n| n.trim_matches('"').to_owned())
        .filter(|n| !n.is_empty());
    let name = name.ok_or_else(|| bad("attachment needs a 'name' parameter".to_owned()))?;
    let owner = owner_of(&params)?;
    // Checked before a byte is read, and again in the transaction.
    if !state
        .store
        .attachment_owner_exists(workspace.id, owner)
        .await?
    {
        return Err(bad(format!("attachment owner {} not found", owner.id())));
    }
    let staged = state
        .blobs
        .stage(body, crate::limits::ATTACHMENT_BYTES)
        .await?;
    let size = i64::try_from(staged.size).unwrap_or(i64::MAX);
    let pinned = state.blobs.pin_and_put(&state.store, &[&staged]).await?;
    let created = state
        .store
        .create_attachment(workspace.id, owner, &name, size, &staged.key)
        .await;
    state.blobs.unpin(&state.store, pinned).await;
    let id = match created {
        Ok(id) => id,
        Err(StoreError::NotFound(message)) => return Err(bad(format!("attachment {message}"))),
        Err(e) => return Err(e.into()),
    };
    let rows = read_by_ids(
        &state,
        collection()?,
        workspace.id,
        &[id],
        params.get("fields").map(String::as_str),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"total_count": rows.len(), "data": rows})),
    )
        .into_response())
}

/// The owner parameter: `owner_work_item`, `owner_test` or `owner_run`, its
/// value an id, a quoted id or a reference object `{"type","id"}`.
fn owner_of(params: &HashMap<String, String>) -> Result<AttachmentOwner, ApiError> {
    for param in ["owner_work_item", "owner_test", "owner_run"] {
        let Some(value) = params.get(param) else {
            continue;
        };
        let id = parse_owner_id(value).ok_or_else(|| {
            bad(format!(
                "'{param}' must be an id or a reference, not '{value}'"
            ))
        })?;
        return Ok(match param {
            "owner_test" => AttachmentOwner::Test(id),
            "owner_run" => AttachmentOwner::Run(id),
            _ => AttachmentOwner::WorkItem(id),
        });
    }
    Err(bad(
        "attachment needs an owner: owner_work_item, owner_test or owner_run".to_owned(),
    ))
}

fn parse_owner_id(value: &str) -> Option<i64> {
    let value = value.trim();
    if value.starts_with('{') {
        let v: Value = serde_json::from_str(value).ok()?;
        return super::entity_input::int_of(v.get("id")?);
    }
    value.trim_matches('"').parse().ok()
}

/// GET …/workspaces/{ws}/attachments/{id} — the entity, or the bytes when
/// the client accepts `application/octet-stream`.
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let id = path_id(&id, "attachment")?;
    let wants_bytes = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/octet-stream"));
    if !wants_bytes {
        let rows = read_by_ids(
            &state,
            collection()?,
            workspace.id,
            &[id],
            params.get("fields").map(String::as_str),
        )
        .await?;
        return rows
            .into_iter()
            .next()
            .map(|r| Json(r).into_response())
            .ok_or_else(|| ApiError::NotFound(format!("attachment {id} not found")));
    }
    let blob = state
        .store
        .attachment_blob(workspace.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("attachment {id} not found")))?;
    let mut response = state.blobs.open_blob(&blob.blob_key).await?.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(blob.size.max(0).unsigned_abs()),
    );
    let safe: String = blob
        .name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// DELETE …/workspaces/{ws}/attachments/{id}
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let id = path_id(&id, "attachment")?;
    let unused = state
        .store
        .delete_attachment(workspace.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("attachment {id} not found")))?;
    state.blobs.remove_unused(&state.store, &unused).await;
    // Empty, as for every single-entity delete (see entity_write::delete_one).
    Ok(StatusCode::OK)
}

/// GET …/workspaces/{ws}/attachments
pub async fn list(
    state: State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    params: Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    super::entities::list(state, who, Path((sp, ws, "attachments".to_owned())), params).await
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("platform.illegal_field_value", message)
}
