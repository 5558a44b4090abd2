//! The CI plugin endpoints under `/internal-api/shared_spaces/{sp}/analytics/ci`
//! (protocol §4.5, §6): connectivity, preflight, task long-poll, events and
//! the CI test-results push. Requests come gzipped from the Java CI SDK.

use std::collections::HashMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use verdict_store::{BuildReport, CiTarget};

use super::results::{self, path_id, task_json};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

type Params = Query<HashMap<String, String>>;

async fn shared_space(state: &AppState, who: &Principal, sp: &str) -> Result<i64, ApiError> {
    let sp = path_id(sp, "shared space")?;
    access::shared_space(state, who, sp).await?;
    Ok(sp)
}

/// GET …/ci/servers/connectivity/status — the version probe.
pub async fn connectivity(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
) -> Result<Json<Value>, ApiError> {
    shared_space(&state, &who, &sp).await?;
    Ok(Json(
        json!({"octaneVersion": state.config.octane_version, "supportedSdkVersion": "1.0.0"}),
    ))
}

/// GET …/ci/servers/{inst}/jobs/{job}/tests-result-preflight — `true` when a
/// workspace would take this job's results (text/plain).
pub async fn preflight(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, instance, job)): Path<(String, String, String)>,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let job = if params
        .get("isBase64")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        decode_base64(&job)?
    } else {
        job
    };
    let known = !state
        .store
        .ci_workspaces(sp, &instance, Some(&job))
        .await?
        .is_empty();
    let wanted = known || state.store.workspaces(sp).await?.len() == 1;
    Ok((
        [(header::CONTENT_TYPE, "text/plain")],
        if wanted { "true" } else { "false" },
    )
        .into_response())
}

fn decode_base64(text: &str) -> Result<String, ApiError> {
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(text.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "platform.illegal_field_value",
                format!("job id '{text}' is not base64"),
            )
        })
}

/// GET …/ci/servers/{inst}/tasks — the SDK's task long-poll. Verdict has no
/// tasks for plugins: GitHub Actions (and pollers without an SDK version) get
/// 204 at once, the Java SDK after a hold, since it re-polls immediately.
pub async fn tasks(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, instance)): Path<(String, String)>,
    Query(params): Params,
) -> Result<StatusCode, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    if let Some(version) = params.get("plugin-version").filter(|v| !v.is_empty()) {
        state
            .store
            .set_plugin_version(sp, &instance, version)
            .await?;
    }
    let sdk_version = params.get("sdk-version").map_or("", String::as_str);
    let github = params
        .get("self-type")
        .is_some_and(|t| t == "github_actions");
    if !sdk_version.is_empty() && !github {
        tokio::time::sleep(state.config.ci_task_poll_hold).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// PUT …/ci/servers/{inst}/tasks/{id}/result — acknowledged, nothing to do.
pub async fn task_result(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, _, _)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    shared_space(&state, &who, &sp).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET …/ci/servers/{inst}/pipeline-roots — no pipelines are driven from Verdict.
pub async fn pipeline_roots(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, _)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    shared_space(&state, &who, &sp).await?;
    Ok(Json(json!([])))
}

/// PUT …/ci/pipeline_update, …/ci/ci_job_update — kept raw, 200 `{}`.
pub async fn keep_raw(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let body = super::body::inflate_small(&body)?;
    state
        .store
        .keep_raw_ci_event(sp, "update", &String::from_utf8_lossy(&body))
        .await?;
    Ok(Json(json!({})))
}

/// PUT …/ci/events[?ci_server_identity=] — build started/finished events.
/// Unknown servers are still 200 so the SDK does not retry forever.
pub async fn events(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let body = super::body::inflate_small(&body)?;
    let list: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "platform.illegal_field_value",
            format!("events body is not valid JSON: {e}"),
        )
    })?;
    let server = list.get("server").cloned().unwrap_or(Value::Null);
    let instance = server
        .get("instanceId")
        .and_then(Value::as_str)
        .or_else(|| params.get("ci_server_identity").map(String::as_str))
        .unwrap_or_default()
        .to_owned();
    if instance.is_empty() {
        return Err(ApiError::bad_request(
            "platform.illegal_field_value",
            "events need server.instanceId or ci_server_identity",
        ));
    }
    if let Some(kind) = server.get("type").and_then(Value::as_str) {
        let known = state.store.last_server_type(sp, &instance).await?;
        if known.as_deref() != Some(kind) {
            state
                .store
                .keep_raw_ci_event(sp, &format!("server_type:{instance}"), kind)
                .await?;
        }
    }
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: instance.clone(),
        ..CiTarget::default()
    };
    let workspaces = crate::worker::ci_workspaces(&state.store, &target).await?;
    let events = list
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for ws in workspaces {
        let Some(server_id) = state.store.ci_server_id(ws, &instance).await? else {
            continue;
        };
        for event in &events {
            apply_event(&state, ws, server_id, event).await?;
        }
    }
    Ok(StatusCode::OK)
}

async fn apply_event(
    state: &AppState,
    ws: i64,
    server_id: i64,
    event: &Value,
) -> Result<(), ApiError> {
    let text = |k: &str| {
        event.get(k).and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
    };
    let (Some(kind), Some(project), Some(build_ci_id)) =
        (text("eventType"), text("project"), text("buildCiId"))
    else {
        return Ok(());
    };
    let started = kind == "started";
    if !started && kind != "finished" {
        return Ok(());
    }
    let job = state
        .store
        .upsert_ci_job(
            ws,
            server_id,
            &project,
            text("projectDisplayName").as_deref(),
        )
        .await?;
    let json_of = |k: &str| event.get(k).filter(|v| !v.is_null()).map(Value::to_string);
    let report = BuildReport {
        build_ci_id,
        name: text("number"),
        number: text("number"),
        start_time: event.get("startTime").and_then(Value::as_i64),
        duration: if started {
            None
        } else {
            event.get("duration").and_then(Value::as_i64)
        },
        status: Some(if started { "running" } else { "finished" }.to_owned()),
        result: if started {
            None
        } else {
            text("result").map(|r| r.to_lowercase())
        },
        parameters: json_of("parameters"),
        causes: json_of("causes"),
    };
    state.store.upsert_ci_build(ws, job, &report).await?;
    Ok(())
}

/// POST …/ci/test-results?skip-errors=&instance-id=&job-ci-id=&build-ci-id=
pub async fn push(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let skip_errors = results::skip_errors(params.get("skip-errors").map(String::as_str))?;
    let param = |k: &str| params.get(k).cloned().unwrap_or_default();
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: param("instance-id"),
        job_ci_id: param("job-ci-id"),
        build_ci_id: param("build-ci-id"),
    };
    let push = results::Push {
        workspace_id: 0,
        ci: Some(target),
        skip_errors,
        dedupe_target: "",
        pushed_by: &who.user.name,
    };
    results::accept(&state, push, &headers, body).await
}

/// GET …/ci/test-results/{task} — status of a CI push.
pub async fn push_status(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, task)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let id = path_id(&task, "task")?;
    match state.store.task(id).await? {
        Some(task) if task.shared_space_id == Some(sp) => Ok(Json(task_json(&task))),
        _ => Err(ApiError::NotFound(format!("task {id} not found"))),
    }
}

/// GET /internal-api/shared_spaces/{sp}/workspaces/{ws}/analytics/ci/github_feature_toggles
pub async fn feature_toggles(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    access::workspace_path(&state, &who, &sp, &ws).await?;
    Ok(Json(json!({})))
}
