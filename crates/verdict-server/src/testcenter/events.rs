//! `POST /upload/events`: one event as JSON (204), a JSON array, or
//! `multipart/form-data` with `eventData` and `attachments[]` files (207 with
//! one `{code, body}` per event, so one bad event does not sink the rest).
//! Files are staged as they arrive and become blobs only when an accepted
//! event references them (in the transaction storing the events); anything
//! refused leaves nothing on disk. Limits: `crate::limits`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use verdict_domain::testcenter::{EVENT_TYPES, EventType};
use verdict_store::{NewTcEvent, TcRun};

use super::auth::Uploader;
use super::error::TcError;
use super::upload::open_run;
use crate::app::AppState;

use crate::blobs::StagedBlob;
use crate::limits;

/// A file uploaded with the events: staged bytes and content type.
struct Upload {
    staged: StagedBlob,
    content_type: String,
}

/// POST /upload/events
pub async fn events(
    State(state): State<AppState>,
    who: Uploader,
    request: Request,
) -> Result<Response, TcError> {
    let is_multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (events, files, single) = if is_multipart {
        let (events, files) = read_multipart(&state, request).await?;
        (events, files, false)
    } else {
        let body = axum::body::to_bytes(request.into_body(), limits::EVENTS_JSON_BYTES)
            .await
            .map_err(|_| {
                TcError::TooLarge(format!(
                    "an events body is at most {} bytes; send large runs in several requests",
                    limits::EVENTS_JSON_BYTES
                ))
            })?;
        let list = super::event_list::parse(&body)?;
        (list.events, HashMap::new(), list.single)
    };
    if events.len() > limits::EVENTS_PER_REQUEST {
        return Err(TcError::TooLarge(format!(
            "{} events in one request; at most {} are accepted",
            events.len(),
            limits::EVENTS_PER_REQUEST
        )));
    }
    let mut runs: HashMap<i64, Result<TcRun, TcError>> = HashMap::new();
    let mut accepted: HashMap<i64, Vec<NewTcEvent>> = HashMap::new();
    let mut outcomes: Vec<Result<(), TcError>> = Vec::with_capacity(events.len());
    for event in &events {
        let outcome = check_event(&state, &who, event, &files, &mut runs).await;
        outcomes.push(match outcome {
            Ok((workspace, e)) => {
                accepted.entry(workspace).or_default().push(e);
                Ok(())
            }
            Err(e) => Err(e),
        });
    }
    let by_key: HashMap<&str, &StagedBlob> = files
        .values()
        .map(|f| (f.staged.key.as_str(), &f.staged))
        .collect();
    for (workspace, list) in accepted {
        // Only the files the accepted events use are written.
        let used: Vec<&StagedBlob> = by_key
            .iter()
            .filter(|(key, _)| {
                list.iter().any(|e| {
                    e.attachment.as_ref().is_some_and(|a| a.1 == **key)
                        || e.screenshot.as_ref().is_some_and(|s| s.1 == **key)
                })
            })
            .map(|(_, staged)| *staged)
            .collect();
        let pinned = state.blobs.pin_and_put(&state.store, &used).await?;
        let added = state
            .store
            .tc_add_events(workspace, &list, |key| {
                by_key
                    .get(key)
                    .map(|staged| staged.size)
                    .ok_or_else(|| std::io::Error::other(format!("blob {key} was not uploaded")))
            })
            .await;
        state.blobs.unpin(&state.store, pinned).await;
        added?;
    }
    if single {
        return match outcomes.pop() {
            Some(Err(e)) => Err(e),
            _ => Ok(StatusCode::NO_CONTENT.into_response()),
        };
    }
    let statuses: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o {
            Ok(()) => json!({"code": 201, "body": ""}),
            Err(e) => json!({"code": e.status().as_u16(), "body": e.message()}),
        })
        .collect();
    Ok((StatusCode::MULTI_STATUS, Json(Value::Array(statuses))).into_response())
}

async fn read_multipart(
    state: &AppState,
    request: Request,
) -> Result<(Vec<Value>, HashMap<String, Upload>), TcError> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| TcError::BadRequest(e.to_string()))?;
    let mut events = None;
    let mut files = HashMap::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| TcError::BadRequest(format!("malformed multipart body: {e}")))?
    {
        match field.name().unwrap_or_default() {
            "eventData" => {
                let text = read_capped(field, limits::EVENTS_JSON_BYTES, "eventData").await?;
                events = Some(super::event_list::parse(&text)?.events);
            }
            "attachments[]" | "attachments" => {
                let name = field.file_name().map(str::to_owned).ok_or_else(|| {
                    TcError::BadRequest("every attachments[] part needs a filename".to_owned())
                })?;
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                if files.len() >= limits::FILES_PER_REQUEST {
                    return Err(TcError::TooLarge(format!(
                        "at most {} attachments[] files per request",
                        limits::FILES_PER_REQUEST
                    )));
                }
                let staged = state
                    .blobs
                    .stage_stream(field, limits::ATTACHMENT_BYTES)
                    .await?;
                files.insert(
                    name,
                    Upload {
                        staged,
                        content_type,
                    },
                );
            }
            other => {
                return Err(TcError::BadRequest(format!(
                    "unexpected multipart field '{other}'; use eventData and attachments[]"
                )));
            }
        }
    }
    let events =
        events.ok_or_else(|| TcError::BadRequest("multipart body has no eventData".to_owned()))?;
    Ok((events, files))
}

/// A small multipart field, read whole but never past `max` bytes.
async fn read_capped(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, TcError> {
    let mut out = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| TcError::BadRequest(format!("reading {what}: {e}")))?
    {
        if out.len() + chunk.len() > max {
            return Err(TcError::TooLarge(format!("{what} is over {max} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Validates one event; `(workspace, event)` to store, or why it was refused.
async fn check_event(
    state: &AppState,
    who: &Uploader,
    event: &Value,
    files: &HashMap<String, Upload>,
    runs: &mut HashMap<i64, Result<TcRun, TcError>>,
) -> Result<(i64, NewTcEvent), TcError> {
    let run_id = event
        .get("runId")
        .and_then(Value::as_i64)
        .ok_or_else(|| TcError::BadRequest("event needs an integer 'runId'".to_owned()))?;
    let type_text = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| TcError::BadRequest("event needs a 'type'".to_owned()))?;
    let event_type = EventType::parse(type_text).ok_or_else(|| {
        TcError::BadRequest(format!(
            "unknown event type '{type_text}'; valid types are {EVENT_TYPES}"
        ))
    })?;
    if let std::collections::hash_map::Entry::Vacant(slot) = runs.entry(run_id) {
        slot.insert(open_run(state, who, run_id, None).await);
    }
    let run = match runs.get(&run_id) {
        Some(Ok(run)) => run.clone(),
        Some(Err(e)) => return Err(e.same_again()),
        None => return Err(TcError::BadRequest(format!("run {run_id} not found"))),
    };
    let text = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_owned);
    let json_text = |k: &str| event.get(k).filter(|v| !v.is_null()).map(Value::to_string);
    check_text_limits(event)?;
    let vp = event.get("vp").filter(|v| !v.is_null());
    let attachment_name = text("attachment");
    if vp.is_some() && attachment_name.is_some() {
        return Err(TcError::BadRequest(
            "'vp' and 'attachment' are mutually exclusive".to_owned(),
        ));
    }
    let file = |name: &str| {
        files.get(name).ok_or_else(|| {
            TcError::BadRequest(format!("no uploaded file named '{name}' in attachments[]"))
        })
    };
    let attachment = match &attachment_name {
        Some(name) => {
            let f = file(name)?;
            Some((name.clone(), f.staged.key.clone(), f.content_type.clone()))
        }
        None => None,
    };
    if let Some(vp_file) = vp.and_then(|v| v.get("attachment")).and_then(Value::as_str) {
        file(vp_file)?;
    }
    let screenshot = match text("screenshot") {
        Some(name) => {
            let f = file(&name)?;
            if !f.content_type.starts_with("image/") {
                return Err(TcError::BadRequest(format!(
                    "screenshot '{name}' must be an image/* file, not {}",
                    f.content_type
                )));
            }
            Some((name, f.staged.key.clone()))
        }
        None => None,
    };
    Ok((
        run.workspace_id,
        NewTcEvent {
            run_id,
            event_type: event_type.as_str(),
            rank: event_type.rank(),
            message: text("message"),
            detail: text("detail"),
            trace: json_text("trace"),
            location: json_text("location"),
            vp: vp.map(Value::to_string),
            attachment,
            screenshot,
        },
    ))
}

/// Every text of an event within its limit (`crate::limits`), naming the field.
fn check_text_limits(event: &Value) -> Result<(), TcError> {
    let bad = TcError::BadRequest;
    for (field, max) in [
        ("message", limits::TC_MESSAGE_BYTES),
        ("detail", limits::TC_DETAIL_BYTES),
        ("attachment", limits::TC_SHORT_TEXT_CHARS),
        ("screenshot", limits::TC_SHORT_TEXT_CHARS),
    ] {
        if let Some(text) = event.get(field).and_then(Value::as_str) {
            limits::check_bytes(field, text, max).map_err(bad)?;
        }
    }
    for field in ["trace", "location", "vp"] {
        if let Some(v) = event.get(field).filter(|v| !v.is_null()) {
            limits::check_bytes(field, &v.to_string(), limits::TC_DETAIL_BYTES).map_err(bad)?;
        }
    }
    Ok(())
}
