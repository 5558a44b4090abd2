//! The web UI (docs/ui.md): server-rendered HTML (maud, escaped by
//! construction) over the insight API's own answers — each page calls the
//! API handler and renders its typed view, so the UI never says what the API
//! cannot. No script; one CSS file. Every response carries a strict
//! `Content-Security-Policy` and refuses framing; every form carries a CSRF
//! token (double submit, `SameSite=Strict` cookie).

mod actions;
mod charts;
mod files;
mod layout;
mod pages;
mod session;
mod test_page;
mod testcenter;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::app::AppState;
use crate::auth::principal::{Principal, authenticate};
use crate::auth::throttle::Caller;
use crate::error::ApiError;

/// The UI's routes (merged into the server's router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/ui", get(pages::plugin_link))
        .route("/ui/", get(pages::plugin_link))
        .route("/ui/style.css", get(layout::style))
        .route("/ui/sign-in", get(session::form).post(session::sign_in))
        .route("/ui/sign-out", axum::routing::post(session::sign_out))
        .route("/ui/{sp}/{ws}", get(pages::overview))
        .route("/ui/{sp}/{ws}/results/{id}", get(pages::result_set))
        .route("/ui/{sp}/{ws}/tests/{id}", get(test_page::test))
        .route("/ui/{sp}/{ws}/attachments/{id}", get(files::attachment))
        .route("/ui/{sp}/{ws}/failures", get(pages::failures))
        .route("/ui/{sp}/{ws}/failures/{sig}", get(actions::group))
        .route(
            "/ui/{sp}/{ws}/failures/{sig}/triage",
            axum::routing::post(actions::triage),
        )
        .route(
            "/ui/{sp}/{ws}/tests/{id}/mute",
            axum::routing::post(actions::mute),
        )
        .route("/ui/{sp}/{ws}/tasks", get(actions::tasks))
        .route("/ui/{sp}/{ws}/tasks/{id}", get(actions::task))
        .route("/ui/{sp}/{ws}/testcenter", get(testcenter::batches))
        .route(
            "/ui/{sp}/{ws}/testcenter/reports/{id}",
            get(testcenter::report),
        )
        .route(
            "/ui/{sp}/{ws}/testcenter/events/{id}/{which}",
            get(files::event_file),
        )
        .route("/ui/{sp}/{ws}/flaky", get(pages::flaky))
        .layer(middleware::from_fn(security_headers))
}

/// The policy every UI response carries: nothing but this origin's CSS and
/// images, no script at all, no framing, forms only to this origin.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A signed-in person; anyone else is sent to the sign-in page and back.
pub struct Viewer(pub Principal);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::of(&parts.extensions);
        match authenticate(&parts.headers, caller, state).await {
            Ok(p) => Ok(Self(p)),
            Err(ApiError::Unauthorized(_)) => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or("/", axum::http::uri::PathAndQuery::as_str);
                Err(
                    Redirect::to(&format!("/ui/sign-in?next={}", session::encode(here)))
                        .into_response(),
                )
            }
            Err(e) => Err(UiError(e).into_response()),
        }
    }
}

/// An API error shown as a page with the same status.
pub struct UiError(pub ApiError);

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, _) = self.0.parts();
        let text = match &self.0 {
            ApiError::Internal(cause) => {
                let id = crate::error::next_correlation_id();
                tracing::error!(correlation_id = id, error = %cause, "internal error (ui)");
                format!("Something went wrong on the server (correlation id {id}).")
            }
            other => other.to_string(),
        };
        let page = layout::page(
            &status.to_string(),
            None,
            maud::html! {
                h1 { (status.canonical_reason().unwrap_or("Error")) }
                p.error { (text) }
                p { a href="/" { "Back to the start" } }
            },
        );
        (status, page).into_response()
    }
}
