//! Workspace-level CI resources (protocol §6): `PUT …/analytics/ci/builds`,
//! pull requests, and `pipelines` with both body shapes (documented:
//! `server_ci_id` + `jobs:[{}]`; GitHub Actions: `ci_server` + `jobCiId`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use verdict_store::{BuildReport, NewPipeline, StoreError, collection_by_name};

use super::entity_input::{self, int_of};
use super::entity_write::read_by_ids;
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

const RESULTS: [&str; 5] = ["success", "failure", "unstable", "aborted", "unavailable"];

fn bad(message: String) -> ApiError {
    ApiError::bad_request("platform.illegal_field_value", message)
}

/// PUT …/workspaces/{ws}/analytics/ci/builds — report a build; 200 with the ci_build.
pub async fn builds(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let body: Value = serde_json::from_slice(&super::body::inflate_small(&body)?)
        .map_err(|e| bad(format!("build body is not valid JSON: {e}")))?;
    let text = |k: &str| {
        body.get(k).and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
    };
    let required = |k: &str| {
        text(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad(format!("field '{k}' is required")))
    };
    let (server, job, build) = (
        required("serverCiId")?,
        required("jobCiId")?,
        required("buildCiId")?,
    );
    let number = |k: &str| {
        body.get(k)
            .and_then(Value::as_i64)
            .ok_or_else(|| bad(format!("field '{k}' is required (milliseconds)")))
    };
    let (start_time, duration) = (number("startTime")?, number("duration")?);
    let result = required("result")?.to_lowercase();
    if !RESULTS.contains(&result.as_str()) {
        return Err(bad(format!(
            "result '{result}' is not one of {}",
            RESULTS.join(", ")
        )));
    }
    let server_id = state
        .store
        .ci_server_id(workspace.id, &server)
        .await?
        .ok_or_else(|| {
            bad(format!(
                "ci server '{server}' is not registered in workspace {}",
                workspace.id
            ))
        })?;
    let job_id = state
        .store
        .upsert_ci_job(workspace.id, server_id, &job, None)
        .await?;
    let default_causes = json!([{"type": "root"}]).to_string();
    let report = BuildReport {
        name: text("buildName").or_else(|| Some(build.clone())),
        build_ci_id: build,
        number: text("buildName"),
        start_time: Some(start_time),
        duration: Some(duration),
        status: Some(text("status").unwrap_or_else(|| "finished".to_owned())),
        result: Some(result),
        parameters: body.get("parameters").map(Value::to_string),
        causes: Some(body.get("causes").map_or(default_causes, Value::to_string)),
        scm_data: None,
    };
    let id = state
        .store
        .upsert_ci_build(workspace.id, job_id, &report)
        .await?;
    let builds = collection_by_name("ci_builds")
        .ok_or_else(|| ApiError::NotFound("ci_builds".to_owned()))?;
    let rows = read_by_ids(&state, builds, workspace.id, &[id], None).await?;
    rows.into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("ci_build {id} not found")))
}

/// PUT …/workspaces/{ws}/analytics/ci/pull-requests — kept raw, 200 `{}`.
pub async fn pull_requests(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let body = super::body::inflate_small(&body)?;
    state
        .store
        .keep_raw_ci_event(
            workspace.shared_space_id,
            "pull_requests",
            &String::from_utf8_lossy(&body),
        )
        .await?;
    Ok(Json(json!({})))
}

/// POST …/workspaces/{ws}/pipelines — creates pipelines with their jobs.
pub async fn create_pipelines(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let body = entity_input::entities(&body)?;
    let mut ids = Vec::new();
    for entity in &body.entities {
        let pipeline = pipeline_of(&state, workspace.id, entity).await?;
        match state
            .store
            .create_pipeline(workspace.shared_space_id, workspace.id, &pipeline)
            .await
        {
            Ok(id) => ids.push(id),
            Err(StoreError::Conflict(message)) => return Err(ApiError::Duplicate(message)),
            Err(e) => return Err(e.into()),
        }
    }
    let pipelines = collection_by_name("pipelines")
        .ok_or_else(|| ApiError::NotFound("pipelines".to_owned()))?;
    let fields = params
        .iter()
        .rev()
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.as_str());
    let rows = read_by_ids(&state, pipelines, workspace.id, &ids, fields).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"total_count": rows.len(), "data": rows})),
    )
        .into_response())
}

async fn pipeline_of(
    state: &AppState,
    workspace_id: i64,
    e: &Value,
) -> Result<NewPipeline, ApiError> {
    let text = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
    };
    let name = text("name").ok_or_else(|| bad("pipeline field 'name' is required".to_owned()))?;
    let ci_server_id = match (
        e.get("ci_server")
            .and_then(|s| s.get("id"))
            .and_then(int_of),
        text("server_ci_id"),
    ) {
        (Some(id), _) => id,
        (None, Some(server)) => match state.store.ci_server_id(workspace_id, &server).await? {
            Some(id) => id,
            None => state
                .store
                .read_ci_server_by_name(workspace_id, &server)
                .await?
                .ok_or_else(|| bad(format!("ci server '{server}' not found")))?,
        },
        (None, None) => {
            return Err(bad(
                "pipeline needs 'server_ci_id' or 'ci_server'".to_owned()
            ));
        }
    };
    let root = text("root_job_ci_id")
        .ok_or_else(|| bad("pipeline field 'root_job_ci_id' is required".to_owned()))?;
    let jobs = e
        .get("jobs")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("pipeline field 'jobs' is required".to_owned()))?;
    let jobs = jobs
        .iter()
        .filter_map(|j| {
            let ci_id = j
                .get("jobCiId")
                .or_else(|| j.get("ci_id"))
                .and_then(Value::as_str)?
                .to_owned();
            let name = j
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| ci_id.clone(), str::to_owned);
            Some((ci_id, name, j.get("parameters").map(Value::to_string)))
        })
        .collect();
    Ok(NewPipeline {
        name,
        ci_server_id,
        root_job_ci_id: root,
        jobs,
    })
}
