//! `GET /verdict/api/openapi.json`: the OpenAPI 3 document of Verdict's own
//! API, generated from the handlers' annotations and the response types, so
//! it cannot drift from the code. Octane and Test Center paths are the
//! vendors' protocols and documented by them (docs/compat.md).

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Verdict API", description = "Verdict's own JSON API: insight (result sets, a test's story, failure groups, triage, mutes, flaky tests), API tokens and Test Center batches. Errors use Octane's error shape: `{\"error_code\", \"description\", …}`."),
    paths(
        super::result_sets::list,
        super::result_sets::detail,
        super::result_sets::results,
        super::story::story,
        super::groups::list,
        super::groups::detail,
        super::groups::triage,
        super::mutes::mute,
        super::mutes::unmute,
        super::mutes::list,
        super::flaky::list,
        super::batches::batches,
        super::history::history,
        super::tasks::task,
        crate::auth::tokens::create,
        crate::auth::tokens::list,
        crate::auth::tokens::revoke,
    ),
    modifiers(&Security),
    security(("session" = []), ("basic" = []), ("bearer" = [])),
    tags((name = "insight", description = "what broke, since when, how often, and why (docs/insight.md)"),
         (name = "accounts"), (name = "testcenter"))
)]
pub struct ApiDoc;

/// The credentials every path accepts (docs/design.md): the Octane session
/// cookie, HTTP Basic, or a `vt_…` bearer token.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("LWSSO_COOKIE_KEY"))),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Serves the document (no credentials needed: it describes, it reveals nothing).
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
