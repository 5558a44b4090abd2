//! `POST /upload/events`: one event as JSON (204), a JSON array, or
//! `multipart/form-data` with `eventData` and `attachments[]` files (207 with
//! one `{code, body}` per event, so one bad event does not sink the rest).
//! Files go to the blob store as they arrive; their names only label them.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
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

/// Largest file accepted with an event.
const MAX_FILE: u64 = 2 << 30;

/// A file uploaded with the events: blob key and content type.
struct Upload {
    key: String,
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
        let body = Bytes::from_request(request, &())
            .await
            .map_err(|e| TcError::BadRequest(e.to_string()))?;
        match super::upload::parse::<Value>(&body)? {
            Value::Array(list) => (list, HashMap::new(), false),
            one @ Value::Object(_) => (vec![one], HashMap::new(), true),
            _ => {
                return Err(TcError::BadRequest(
                    "events must be a JSON object or an array of objects".to_owned(),
                ));
            }
        }
    };
    let mut runs: HashMap<i64, Result<TcRun, String>> = HashMap::new();
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
    for (workspace, list) in accepted {
        state.store.tc_add_events(workspace, &list).await?;
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
                let text = field
                    .bytes()
                    .await
                    .map_err(|e| TcError::BadRequest(format!("reading eventData: {e}")))?;
                match super::upload::parse::<Value>(&text)? {
                    Value::Array(list) => events = Some(list),
                    one @ Value::Object(_) => events = Some(vec![one]),
                    _ => {
                        return Err(TcError::BadRequest(
                            "eventData must be a JSON array of events".to_owned(),
                        ));
                    }
                }
            }
            "attachments[]" | "attachments" => {
                let name = field.file_name().map(str::to_owned).ok_or_else(|| {
                    TcError::BadRequest("every attachments[] part needs a filename".to_owned())
                })?;
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let (key, _) = state.blobs.put_stream(field, MAX_FILE).await?;
                files.insert(name, Upload { key, content_type });
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

/// Validates one event; `(workspace, event)` to store, or why it was refused.
async fn check_event(
    state: &AppState,
    who: &Uploader,
    event: &Value,
    files: &HashMap<String, Upload>,
    runs: &mut HashMap<i64, Result<TcRun, String>>,
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
        slot.insert(
            open_run(state, who, run_id, None)
                .await
                .map_err(|e| e.message()),
        );
    }
    let run = match runs.get(&run_id) {
        Some(Ok(run)) => run.clone(),
        Some(Err(message)) => return Err(TcError::BadRequest(message.clone())),
        None => return Err(TcError::BadRequest(format!("run {run_id} not found"))),
    };
    let text = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_owned);
    let json_text = |k: &str| event.get(k).filter(|v| !v.is_null()).map(Value::to_string);
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
            Some((name.clone(), f.key.clone(), f.content_type.clone()))
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
            Some((name, f.key.clone()))
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
