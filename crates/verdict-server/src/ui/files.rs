//! Files a page shows or offers: Test Center event screenshots and
//! attachments, Octane run attachments. Each is served only through an
//! entity of a workspace the person may see, streamed; raster images the
//! page shows inline, anything else (SVG and HTML included) is a download,
//! so an uploaded file can never run as a page of this origin.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{UiError, Viewer};
use crate::app::AppState;
use crate::auth::access;
use crate::error::ApiError;
use crate::octane::results::path_id;

/// The image type of a file a browser may show, by its name's extension
/// (`None`: anything else, SVG included, is a download).
fn raster_type(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    match lower.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => Some("image/png"),
        Some("jpg" | "jpeg") => Some("image/jpeg"),
        Some("gif") => Some("image/gif"),
        Some("webp") => Some("image/webp"),
        _ => None,
    }
}

/// Whether a page shows the file `name` as an image.
pub(super) fn is_raster(name: &str) -> bool {
    raster_type(name).is_some()
}

/// Streams blob `key` as `name`: inline when `may_show` and a raster image.
pub(super) async fn serve(
    state: &AppState,
    key: &str,
    name: &str,
    may_show: bool,
) -> Result<Response, UiError> {
    let shown = raster_type(name).filter(|_| may_show);
    let inline = shown.is_some();
    let content_type = shown.unwrap_or("application/octet-stream");
    let mut response = state.blobs.open_blob(key).await?.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{safe}\"",
        if inline { "inline" } else { "attachment" }
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    Ok(response)
}

/// GET /ui/{sp}/{ws}/testcenter/events/{id}/{screenshot|attachment} — an
/// event's file. Screenshots are shown inline when they are raster images.
pub async fn event_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((sp, ws, id, which)): Path<(String, String, String, String)>,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let event_id = path_id(&id, "event")?;
    let screenshot = match which.as_str() {
        "screenshot" => true,
        "attachment" => false,
        _ => {
            return Err(UiError(ApiError::NotFound(format!(
                "no file '{which}' on an event"
            ))));
        }
    };
    let f = state
        .store
        .tc_event_file(workspace.id, event_id, screenshot)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            UiError(ApiError::NotFound(format!(
                "event {event_id} has no {which}"
            )))
        })?;
    serve(&state, &f.key, &f.name, screenshot).await
}

/// GET /ui/{sp}/{ws}/attachments/{id} — an Octane attachment (a run's
/// screenshot, a log); raster images inline.
pub async fn attachment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((sp, ws, id)): Path<(String, String, String)>,
) -> Result<Response, UiError> {
    let workspace = access::workspace_path(&state, &viewer.0, &sp, &ws).await?;
    let id = path_id(&id, "attachment")?;
    let blob = state
        .store
        .attachment_blob(workspace.id, id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| UiError(ApiError::NotFound(format!("attachment {id} not found"))))?;
    serve(&state, &blob.blob_key, &blob.name, true).await
}
