//! `POST /authentication/sign_in` and `POST /authentication/sign_out`
//! (protocol §2.1, §2.2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::credentials;
use super::principal::{SESSION_COOKIE, USER_COOKIE, cookie};
use super::secrets::{generate_secret, token_hash};
use crate::app::AppState;
use crate::error::ApiError;

/// POST /authentication/sign_in — `{"user","password"}` or
/// `{"client_id","client_secret"}`; 200 `{}` with the session cookies.
pub async fn sign_in(
    State(state): State<AppState>,
    caller: super::throttle::Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = crate::octane::body::inflate_small(&body)?;
    let (id, secret) = parse_credentials(&body).ok_or_else(|| {
        ApiError::Unauthorized(
            "sign-in body must be {\"user\",\"password\"} or {\"client_id\",\"client_secret\"}"
                .to_owned(),
        )
    })?;
    let user = credentials::verify(&state, caller, &id, &secret)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized("authentication failed: wrong user or password".to_owned())
        })?;
    let mut response = Json(json!({})).into_response();
    for cookie in start_session(&state, &user, &id).await? {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Opens a session for `user` (signed in as `id`): the `Set-Cookie`
/// values of the session and login-name cookies. The API's sign-in and the
/// web UI's share it, so a browser session is an API session.
pub async fn start_session(
    state: &AppState,
    user: &verdict_store::UserRecord,
    id: &str,
) -> Result<Vec<HeaderValue>, ApiError> {
    let token = generate_secret(32).map_err(ApiError::internal)?;
    let idle = i64::try_from(state.config.session_idle.as_millis()).unwrap_or(i64::MAX);
    state
        .store
        .insert_session(
            &token_hash(&token),
            user.id,
            id,
            verdict_store::now_ms() + idle,
        )
        .await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    [
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        format!(
            "{USER_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
            cookie_safe(id)
        ),
    ]
    .iter()
    .map(|c| HeaderValue::from_str(c).map_err(ApiError::internal))
    .collect()
}

/// Ends the session of `headers` (if any): the `Set-Cookie` values that
/// expire both cookies.
pub async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Vec<HeaderValue>, ApiError> {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        state.store.delete_session(&token_hash(&token)).await?;
    }
    [SESSION_COOKIE, USER_COOKIE]
        .iter()
        .map(|name| {
            HeaderValue::from_str(&format!("{name}=; Max-Age=0; Path=/; SameSite=Lax"))
                .map_err(ApiError::internal)
        })
        .collect()
}

/// POST /authentication/sign_out — always 200 `{}`; ends the session and
/// expires both cookies.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut response = Json(json!({})).into_response();
    for cookie in end_session(&state, &headers).await? {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

fn parse_credentials(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    match (text("user"), text("password")) {
        (Some(u), Some(p)) => Some((u, p)),
        _ => Some((text("client_id")?, text("client_secret")?)),
    }
}

/// Cookie values may not hold `;`, `,`, spaces or quotes.
fn cookie_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"' | '\\') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
