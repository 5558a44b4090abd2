//! The test-results resource (protocol §3, §4): the XSD, the asynchronous
//! push (202 only once payload and task are committed) and task status.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verdict_store::{NewTask, PushOutcome, TaskRecord};

use super::body::{self, InflateGuard, Limits};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::auth::secrets::hex;
use crate::error::ApiError;

/// Parses `{sp}` / `{ws}` / `{task}` path segments; anything but a number is a 404.
pub fn path_id(segment: &str, what: &str) -> Result<i64, ApiError> {
    segment
        .parse()
        .map_err(|_| ApiError::NotFound(format!("{what} '{segment}' not found")))
}

/// GET …/workspaces/{ws}/test-results/xsd — Verdict's payload schema.
pub async fn xsd(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    access::workspace_path(&state, &who, &sp, &ws).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/xml")],
        verdict_ingest::OCTANE_XSD,
    )
        .into_response())
}

/// POST …/workspaces/{ws}/test-results[?skip-errors=] — validate, store, 202.
pub async fn push(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let skip_errors = skip_errors(params.get("skip-errors").map(String::as_str))?;
    let target = format!(
        "|{}|{}|{skip_errors}",
        workspace.shared_space_id, workspace.id
    );
    let push = Push {
        workspace_id: workspace.id,
        ci: None,
        skip_errors,
        dedupe_target: &target,
        pushed_by: &who.user.name,
    };
    accept(&state, push, &headers, body).await
}

/// Where a push goes and who sent it.
pub struct Push<'a> {
    /// 0 for a CI push (its workspaces are found when it is processed).
    pub workspace_id: i64,
    pub ci: Option<verdict_store::CiTarget>,
    pub skip_errors: bool,
    /// Names where the payload goes (part of the dedupe key).
    pub dedupe_target: &'a str,
    /// The user whose credential pushed (a plain push's series).
    pub pushed_by: &'a str,
}

/// Validates, de-duplicates and durably stores a push; 202 with the task.
pub async fn accept(
    state: &AppState,
    push: Push<'_>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Push {
        workspace_id,
        ci,
        skip_errors,
        dedupe_target,
        pushed_by,
    } = push;
    let limits = Limits {
        max_body: state.config.max_body_bytes,
        max_inflated: state.config.max_inflated_bytes,
    };
    let spooled = body::spool(body, headers, &state.spool_dir, limits).await?;
    let (payload_hash, items) = validate(&spooled, limits).await?;
    let ci = match ci {
        Some(ci)
            if ci.instance_id.is_empty()
                || ci.job_ci_id.is_empty()
                || ci.build_ci_id.is_empty() =>
        {
            Some(complete_build_context(ci, &spooled, limits).await?)
        }
        other => other,
    };
    let dedupe_target = match &ci {
        Some(ci) => format!(
            "ci|{}|{}|{}|{}|{skip_errors}",
            ci.shared_space_id, ci.instance_id, ci.job_ci_id, ci.build_ci_id
        ),
        None => dedupe_target.to_owned(),
    };
    let mut key = Sha256::new();
    key.update(payload_hash);
    key.update(dedupe_target.as_bytes());
    let task = NewTask {
        workspace_id,
        skip_errors,
        payload_encoding: if spooled.gzip { "gzip" } else { "identity" },
        payload_size: i64::try_from(spooled.size).unwrap_or(i64::MAX),
        dedupe_key: hex(&key.finalize()),
        dedupe_window_ms: i64::try_from(state.config.dedupe_window.as_millis()).unwrap_or(i64::MAX),
        accepted_at: verdict_store::now_ms(),
        ci,
        pushed_by: Some(pushed_by.to_owned()),
        items_total: i64::try_from(items).ok(),
    };
    let mut file = tokio::fs::File::open(spooled.file.path())
        .await
        .map_err(ApiError::internal)?;
    let outcome = state.store.enqueue(&task, &mut file).await?;
    let body = match outcome {
        PushOutcome::Accepted { task_id } => {
            state.wake_workers.notify_one();
            json!({"status": "queued", "id": task_id})
        }
        PushOutcome::Duplicate { task, until_ms } => json!({
            "id": task.id,
            "status": task.state.as_str(),
            "fromOlderPush": "true",
            "until": verdict_domain::time::format_until(until_ms),
        }),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Fills a CI push's missing build context from the payload's `<build>`
/// element (protocol §4.5); neither → 400.
async fn complete_build_context(
    mut ci: verdict_store::CiTarget,
    spooled: &body::Spooled,
    limits: Limits,
) -> Result<verdict_store::CiTarget, ApiError> {
    let path = spooled.file.path().to_owned();
    let (size, gzip) = (spooled.size, spooled.gzip);
    let build = tokio::task::spawn_blocking(move || {
        let reader =
            body::inflated_reader(&path, size, gzip, limits, Arc::new(InflateGuard::default()))
                .ok()?;
        let reader = verdict_ingest::PayloadReader::new(std::io::BufReader::new(reader)).ok()?;
        reader.header().build.clone()
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(build) = build else {
        return Err(ApiError::bad_request(
            "platform.invalid_test_results_payload",
            "no build context: give instance-id, job-ci-id and build-ci-id, or a <build> element"
                .to_owned(),
        ));
    };
    if ci.instance_id.is_empty() {
        ci.instance_id = build.server_id;
    }
    if ci.job_ci_id.is_empty() {
        ci.job_ci_id = build.job_id;
    }
    if ci.build_ci_id.is_empty() {
        ci.build_ci_id = build.build_id;
    }
    Ok(ci)
}

/// `skip-errors`: `true`/`false` in any case; absent = false.
pub fn skip_errors(value: Option<&str>) -> Result<bool, ApiError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "platform.illegal_field_value",
            format!("skip-errors must be true or false, not '{other}'"),
        )),
    }
}

/// Validates the spooled payload against the schema; returns the SHA-256 of
/// the inflated bytes and how many test runs it holds.
async fn validate(spooled: &body::Spooled, limits: Limits) -> Result<([u8; 32], u64), ApiError> {
    let path = spooled.file.path().to_owned();
    let (size, gzip) = (spooled.size, spooled.gzip);
    let guard = Arc::new(InflateGuard::default());
    let worker_guard = guard.clone();
    let result = tokio::task::spawn_blocking(move || {
        let reader = body::inflated_reader(&path, size, gzip, limits, worker_guard)?;
        let mut buffered = std::io::BufReader::with_capacity(1 << 16, reader);
        let verdict = verdict_ingest::validate(&mut buffered);
        Ok::<_, std::io::Error>((verdict, buffered.into_inner()))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let (verdict, reader) = result;
    if guard.exceeded() {
        return Err(too_large(limits));
    }
    let items = match verdict {
        Ok(n) => n,
        Err(e) => {
            return Err(ApiError::BadRequest {
                code: "platform.invalid_test_results_payload",
                message: format!("payload is not valid: {e}"),
                properties: Some(json!({"line": e.line, "column": e.column})),
            });
        }
    };
    let finished = tokio::task::spawn_blocking(move || reader.finish())
        .await
        .map_err(ApiError::internal)?;
    match finished {
        Ok((hash, _)) => Ok((hash, items)),
        Err(_) if guard.exceeded() => Err(too_large(limits)),
        Err(e) => Err(ApiError::bad_request(
            "platform.invalid_test_results_payload",
            format!("payload is not valid: {e}"),
        )),
    }
}

fn too_large(limits: Limits) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "inflated payload exceeds the limit of {} bytes (or a suspicious compression ratio)",
        limits.max_inflated
    ))
}

/// GET …/workspaces/{ws}/test-results/{task} — task status.
pub async fn status(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, task)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let id = path_id(&task, "task")?;
    match state.store.task(id).await? {
        Some(task) if task.workspace_id == workspace.id => Ok(Json(task_json(&task))),
        _ => Err(ApiError::NotFound(format!("task {id} not found"))),
    }
}

/// The task JSON: lower-case status, `errorDetails` only when non-empty.
pub fn task_json(task: &TaskRecord) -> Value {
    let mut body = json!({"id": task.id, "status": task.state.as_str()});
    if let Some(details) = task.error_details.as_deref().filter(|d| !d.is_empty()) {
        body["errorDetails"] = Value::String(details.to_owned());
    }
    body
}
