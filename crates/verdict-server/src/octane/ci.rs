//! The CI plugin endpoints under `/internal-api/shared_spaces/{sp}/analytics/ci`
//! (protocol §4.5, §6): connectivity, preflight, task long-poll, events and
//! the CI test-results push. Requests come gzipped from the Java CI SDK.

use std::collections::HashMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use verdict_store::{BuildReport, CiSighting, CiTarget};

use super::results::{self, path_id, task_json};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::config::CiPipelines;
use crate::error::ApiError;

type Params = Query<HashMap<String, String>>;

pub(super) async fn shared_space(
    state: &AppState,
    who: &Principal,
    sp: &str,
) -> Result<i64, ApiError> {
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
    let job = super::ci_job_id::decode(&job, &params)?;
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: instance,
        job_ci_id: job,
        build_ci_id: String::new(),
    };
    let wanted = crate::worker::ci_destination(&state.store, &target).await?
        != crate::worker::CiDestination::Nowhere;
    Ok((
        [(header::CONTENT_TYPE, "text/plain")],
        if wanted { "true" } else { "false" },
    )
        .into_response())
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
    let param = |k: &str| params.get(k).map(String::as_str);
    let seen = CiSighting::new(
        param("self-type"),
        param("self-url"),
        param("plugin-version"),
    );
    let known = state.store.ci_workspaces(sp, &instance, None).await?;
    let mine = access::writable_workspaces(&state, &who, sp, known).await?;
    state
        .store
        .record_ci_sighting(sp, &instance, &seen, &mine)
        .await?;
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

/// GET …/ci/servers/{inst}/pipeline-roots — the CI ids of the root jobs of
/// the server's pipelines in the caller's workspaces (plain, as in event
/// bodies, sorted). The SDK sends nothing for a job outside them, and `[]`
/// would silence every job. With `--ci-pipelines auto` every job is wanted:
/// the answer is JSON `null`, which the SDK reads as "no filter" (it clears
/// a filter it held from an earlier answer, and logs one INFO line).
pub async fn pipeline_roots(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, instance)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    if state.config.ci_pipelines == CiPipelines::Auto {
        return Ok(Json(Value::Null));
    }
    let roots = state.store.pipeline_roots(sp, &instance).await?;
    let workspaces: Vec<i64> = roots.iter().map(|(ws, _)| *ws).collect();
    let mine = access::writable_workspaces(&state, &who, sp, workspaces).await?;
    let mut jobs: Vec<String> = roots
        .into_iter()
        .filter(|(ws, _)| mine.contains(ws))
        .map(|(_, job)| job)
        .collect();
    jobs.sort_unstable();
    jobs.dedup();
    Ok(Json(json!(jobs)))
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
    let said = |k: &str| server.get(k).and_then(Value::as_str);
    let seen = CiSighting::new(said("type"), said("url"), None);
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: instance.clone(),
        ..CiTarget::default()
    };
    let found = crate::worker::ci_workspaces(&state.store, &target).await?;
    let workspaces = access::writable_workspaces(&state, &who, sp, found).await?;
    if seen != CiSighting::default() {
        state
            .store
            .record_ci_sighting(sp, &instance, &seen, &workspaces)
            .await?;
    }
    // GitHub Actions and Azure DevOps create their pipelines themselves.
    let auto_pipelines = state.config.ci_pipelines == CiPipelines::Auto
        && !matches!(
            seen.server_type.as_deref(),
            Some("github_actions" | "azure_devops")
        );
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
            apply_event(&state, sp, ws, server_id, event, auto_pipelines).await?;
        }
    }
    Ok(StatusCode::OK)
}

async fn apply_event(
    state: &AppState,
    sp: i64,
    ws: i64,
    server_id: i64,
    event: &Value,
    auto_pipelines: bool,
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
    let display_name = text("projectDisplayName");
    let job = state
        .store
        .upsert_ci_job(ws, server_id, &project, display_name.as_deref())
        .await?;
    if auto_pipelines && !triggered_upstream(event) {
        let name = display_name.as_deref().unwrap_or(&project);
        // Best effort: the build is recorded even when no pipeline could be
        // made (the next event tries again); the SDK drops a whole chunk of
        // events on anything but 200.
        if let Err(e) = state.store.ensure_job_pipeline(sp, ws, job, name).await {
            tracing::warn!(job = %project, workspace = ws, error = %e, "no pipeline created for a CI job");
        }
    }
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
        scm_data: json_of("scmData"),
    };
    state.store.upsert_ci_build(ws, job, &report).await?;
    Ok(())
}

/// True when a build was started by another job's build (a cause of type
/// `upstream`): such a job is a step of its caller's pipeline, not a
/// pipeline of its own.
fn triggered_upstream(event: &Value) -> bool {
    event
        .get("causes")
        .and_then(Value::as_array)
        .is_some_and(|causes| {
            causes
                .iter()
                .any(|c| c.get("type").and_then(Value::as_str) == Some("upstream"))
        })
}

/// POST …/ci/test-results?skip-errors=&instance-id=&job-ci-id=&build-ci-id=
/// (`job-ci-id` in base64 with `ci-job-encoding=base64`, as the SDK sends it)
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
    let job_ci_id = match params.get("job-ci-id").filter(|j| !j.is_empty()) {
        Some(job) => super::ci_job_id::decode(job, &params)?,
        None => String::new(),
    };
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: param("instance-id"),
        job_ci_id,
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
