//! `GET /` and `GET /ui`: a plain page saying what this server is and where
//! its APIs live. The Octane plugins' server location is
//! `http://HOST:PORT/ui/?p={sp}/{ws}`; a person who opens it should find a
//! page, not a 404. The web UI proper is a later issue; this page promises
//! nothing it does not have.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = concat!(
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
    "<title>Verdict</title></head><body>",
    "<h1>Verdict ",
    env!("CARGO_PKG_VERSION"),
    "</h1>",
    "<p>A self-hosted test-results hub. This server speaks the wire protocols of ",
    "ALM Octane / ValueEdge (<code>/authentication/sign_in</code>, ",
    "<code>/api/shared_spaces/{sp}/workspaces/{ws}/test-results</code>, the entity API ",
    "and the CI APIs) and of Squish Test Center (<code>/upload/…</code>, <code>/import</code>).</p>",
    "<p>Point CI plugins at <code>http://HOST:PORT/ui/?p=1001/1002</code> (shared space / workspace), ",
    "or push reports with <code>verdict push</code>. There is no browser interface yet: ",
    "read results through the API, e.g. <code>/api/shared_spaces/1001/workspaces/1002/runs</code>.</p>",
    "<p>Health: <a href=\"/healthz\">/healthz</a>, readiness: <a href=\"/readyz\">/readyz</a>.</p>",
    "</body></html>"
);

/// GET / and GET /ui.
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
        ],
        PAGE,
    )
}
