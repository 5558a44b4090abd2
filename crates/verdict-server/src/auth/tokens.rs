//! Verdict API tokens: random secrets shown once, stored as SHA-256 (they are
//! high-entropy, so a slow hash buys nothing). Test Center clients send them
//! as `Authorization: Token <t>`; Octane clients as `Bearer <t>`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use verdict_store::Store;

use super::principal::Principal;
use super::secrets::{generate_secret, token_hash};
use crate::app::AppState;
use crate::error::ApiError;

/// Creates a token for a user and returns it (the only time it is visible).
///
/// # Errors
/// Random source or database failure.
pub async fn create_token(
    store: &Store,
    user_id: i64,
    name: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let token = format!("vt_{}", generate_secret(24)?);
    store
        .insert_api_token(user_id, name, &token_hash(&token))
        .await?;
    Ok(token)
}

/// POST /verdict/api/tokens — `{"name": "..."}` (optional) → 201 `{"token","name"}`.
#[utoipa::path(post, path = "/verdict/api/tokens", tag = "accounts",
    request_body(content = Object, description = "`{\"name\": \"ci\"}` (optional, at most 255 characters)"),
    responses((status = 201, description = "`{\"token\": \"vt_…\", \"name\": \"ci\"}`: the token is shown once", body = Object),
        (status = 400), (status = 401)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("platform.illegal_field_value", format!("invalid JSON: {e}"))
        })?
    };
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("token")
        .to_owned();
    crate::limits::check_chars("name", &name, crate::limits::NAME_CHARS)
        .map_err(|m| ApiError::bad_request("platform.illegal_field_value", m))?;
    let token = create_token(&state.store, who.user.id, &name)
        .await
        .map_err(ApiError::Internal)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "name": name})),
    ))
}

/// GET /verdict/api/tokens — the caller's own tokens: id (a prefix of the
/// token's hash, never the token), name and creation time.
#[utoipa::path(get, path = "/verdict/api/tokens", tag = "accounts",
    responses((status = 200, description = "`{\"total_count\", \"data\": [{\"id\", \"name\", \"created\"}]}`", body = Object), (status = 401)))]
pub async fn list(State(state): State<AppState>, who: Principal) -> Result<Json<Value>, ApiError> {
    let tokens = state.store.api_tokens_of(Some(who.user.id)).await?;
    let data: Vec<Value> = tokens
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "created": t.created_at}))
        .collect();
    Ok(Json(json!({"total_count": data.len(), "data": data})))
}

/// DELETE /verdict/api/tokens/{id} — revokes one of the caller's own tokens;
/// refused at once everywhere (every check reads the database). 404 for an
/// id that is not the caller's, whoever's it is.
#[utoipa::path(delete, path = "/verdict/api/tokens/{id}", tag = "accounts",
    params(("id" = String, Path, description = "the id from the list")),
    responses((status = 204, description = "revoked"), (status = 404)))]
pub async fn revoke(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.revoke_token(Some(who.user.id), &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("token {id} not found")))
    }
}
