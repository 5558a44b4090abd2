//! Who is calling: resolved from `Authorization` (Basic or Bearer) or from
//! the session cookie, in that order. An `Authorization` header that does not
//! verify is a 401 even when a valid cookie is present (protocol §2.3).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use base64::Engine;
use verdict_store::UserRecord;

use super::credentials;
use super::secrets::token_hash;
use crate::app::AppState;
use crate::error::ApiError;

/// Session cookie name the Octane clients send back.
pub const SESSION_COOKIE: &str = "LWSSO_COOKIE_KEY";
/// Informational cookie holding the login name.
pub const USER_COOKIE: &str = "OCTANE_USER";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserRecord,
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = super::throttle::Caller::of(&parts.extensions);
        authenticate(&parts.headers, caller, state).await
    }
}

/// Resolves the caller or answers 401; the access log learns who it is.
pub async fn authenticate(
    headers: &HeaderMap,
    caller: super::throttle::Caller,
    state: &AppState,
) -> Result<Principal, ApiError> {
    let who = resolve(headers, caller, state).await?;
    crate::metrics::note_user(&who.user.name);
    Ok(who)
}

async fn resolve(
    headers: &HeaderMap,
    caller: super::throttle::Caller,
    state: &AppState,
) -> Result<Principal, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| unauthorized("malformed Authorization header"))?;
        if let Some(token) = bearer_token(value) {
            return match state.store.api_token_user(&token_hash(token)).await? {
                Some(user) => Ok(Principal { user }),
                None => Err(unauthorized("invalid API token")),
            };
        }
        let (id, secret) = authorization_credentials(value)?;
        return match credentials::verify(state, caller, &id, &secret).await? {
            Some(user) => Ok(Principal { user }),
            None => Err(unauthorized("invalid credentials in Authorization header")),
        };
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE).or_else(|| cookie(headers, "access_token"))
    {
        let hash = token_hash(&token);
        let now = verdict_store::now_ms();
        if let Some(session) = state.store.live_session(&hash, now).await? {
            let idle = i64::try_from(state.config.session_idle.as_millis()).unwrap_or(i64::MAX);
            // Slide the idle timeout, but write at most about once a minute per session.
            if session.expires_at - now < idle - 60_000 {
                state.store.touch_session(&hash, now + idle).await?;
            }
            return Ok(Principal { user: session.user });
        }
        return Err(unauthorized("session expired or unknown; sign in again"));
    }
    Err(unauthorized(
        "authentication required: sign in at /authentication/sign_in",
    ))
}

/// A Verdict API token sent as `Bearer vt_…` or `Token vt_…`.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    let token_scheme =
        scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    (token_scheme && rest.starts_with("vt_")).then_some(rest)
}

/// (id, secret) from `Basic base64(id:secret)` or `Bearer client_id:secret`.
fn authorization_credentials(value: &str) -> Result<(String, String), ApiError> {
    let (scheme, rest) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| unauthorized("malformed Authorization header"))?;
    let pair = if scheme.eq_ignore_ascii_case("basic") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| unauthorized("Basic credentials are not valid base64"))?;
        String::from_utf8(bytes).map_err(|_| unauthorized("Basic credentials are not UTF-8"))?
    } else if scheme.eq_ignore_ascii_case("bearer") {
        rest.trim().to_owned()
    } else {
        return Err(unauthorized(
            "unsupported Authorization scheme; use Basic or Bearer",
        ));
    };
    let (id, secret) = pair
        .split_once(':')
        .ok_or_else(|| unauthorized("credentials must be id:secret"))?;
    Ok((id.to_owned(), secret.to_owned()))
}

/// The value of cookie `name`, if sent.
#[must_use]
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::Unauthorized(message.to_owned())
}
