//! Signing in and out through forms. The session is the API's own
//! (`auth::sign_in::start_session`), so a signed-in browser may also call
//! the JSON API. CSRF: a random token in a `SameSite=Strict` cookie that
//! every form repeats in a hidden field (double submit); a POST whose field
//! does not match is refused before anything happens.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{self, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::UiError;
use super::layout::page;
use crate::app::AppState;
use crate::auth::credentials;
use crate::auth::principal::{SESSION_COOKIE, cookie};
use crate::auth::secrets::{generate_secret, token_hash};
use crate::auth::sign_in::{end_session, start_session};
use crate::auth::throttle::Caller;
use crate::error::ApiError;

/// The CSRF cookie.
const CSRF_COOKIE: &str = "verdict_csrf";
/// Longest user name and password a form may send (bytes).
const MAX_FIELD: usize = 1_024;

/// The token of a signed-in person's forms: derived from the session token
/// (HttpOnly, never known to another site), so a cookie planted by a
/// sibling domain or a plain-HTTP attacker cannot forge it.
fn session_csrf(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(|s| token_hash(&format!("verdict-csrf:{s}")))
}

/// The request's CSRF token, or a new one with the cookie that sets it.
pub fn csrf(headers: &HeaderMap) -> Result<(String, Option<HeaderValue>), ApiError> {
    if let Some(token) = session_csrf(headers) {
        return Ok((token, None));
    }
    if let Some(token) = cookie(headers, CSRF_COOKIE)
        && token.len() == 64
        && token.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok((token, None));
    }
    let token = generate_secret(32).map_err(ApiError::internal)?;
    let set = HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    ))
    .map_err(ApiError::internal)?;
    Ok((token, Some(set)))
}

/// Whether a form comes from this origin (when the browser says) and
/// carries the expected token: the session's, or before sign-in the
/// cookie's (compared in constant time).
fn csrf_matches(headers: &HeaderMap, sent: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        if origin_host.is_none() || origin_host != host {
            return false;
        }
    }
    let expected = match session_csrf(headers) {
        Some(t) => t,
        None => match cookie(headers, CSRF_COOKIE) {
            Some(t) => t,
            None => return false,
        },
    };
    expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Refuses a form whose token is not the cookie's.
pub fn check(headers: &HeaderMap, sent: &str) -> Result<(), UiError> {
    if csrf_matches(headers, sent) {
        Ok(())
    } else {
        Err(refused())
    }
}

fn refused() -> UiError {
    UiError(ApiError::Forbidden(
        "the form's security token is missing or stale: reload the page and send it again"
            .to_owned(),
    ))
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where to go after signing in: a path on this server, else the start.
/// Only visible ASCII: browsers drop tabs and newlines from a `Location`,
/// so `/\t/evil.example` would become `//evil.example`.
fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\') =>
        {
            n.clone()
        }
        _ => "/".to_owned(),
    }
}

fn with_cookies(
    mut response: Response,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> Response {
    for c in cookies {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response
}

fn sign_in_page(token: &str, next: &str, problem: Option<&str>) -> maud::Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(p) = problem { p.error role="alert" { (p) } }
        form.sign-in method="post" action="/ui/sign-in" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="user" { "User name" }
            input #user name="user" autocomplete="username" required autofocus;
            label for="password" { "Password" }
            input #password name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p.note { "The same accounts as the API and the CI plugins." }
    }
}

/// GET /ui/sign-in
pub async fn form(
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let (token, set) = csrf(&headers)?;
    let next = safe_next(query.get("next"));
    let response = page("Sign in", None, sign_in_page(&token, &next, None)).into_response();
    Ok(with_cookies(response, set))
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

/// POST /ui/sign-in
pub async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Result<Response, UiError> {
    if !csrf_matches(&headers, &f.csrf) {
        return Err(refused());
    }
    if f.user.len() > MAX_FIELD || f.password.len() > MAX_FIELD {
        return Err(UiError(ApiError::bad_request(
            "platform.invalid_parameter",
            format!("user name and password are at most {MAX_FIELD} bytes each"),
        )));
    }
    let next = safe_next(f.next.as_ref());
    match credentials::verify(&state, caller, &f.user, &f.password).await? {
        Some(user) => {
            let cookies = start_session(&state, &user, &f.user).await?;
            Ok(with_cookies(Redirect::to(&next).into_response(), cookies))
        }
        None => {
            let body = sign_in_page(&f.csrf, &next, Some("Wrong user name or password."));
            Ok((StatusCode::UNAUTHORIZED, page("Sign in", None, body)).into_response())
        }
    }
}

/// The sign-out form's field.
#[derive(Deserialize)]
pub struct SignOut {
    #[serde(default)]
    csrf: String,
}

/// POST /ui/sign-out
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignOut>,
) -> Result<Response, UiError> {
    if !csrf_matches(&headers, &f.csrf) {
        return Err(refused());
    }
    let cookies = end_session(&state, &headers).await?;
    Ok(with_cookies(
        Redirect::to("/ui/sign-in").into_response(),
        cookies,
    ))
}
