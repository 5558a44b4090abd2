//! What else the Java CI SDK sends about a build under the public API:
//! SCM data (repository, built revision, commits; sent by default for every
//! build with SCM changes) and the security-scan preflights, which Verdict
//! answers as an Octane without the vulnerabilities module does.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use verdict_store::CiTarget;

use super::ci::shared_space;
use super::ci_files::{build_id, build_targets, ensure_build, required};
use super::ci_job_id;
use crate::app::AppState;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::limits::CI_SCM_JSON_BYTES;

type Params = Query<HashMap<String, String>>;

/// PUT /api/shared_spaces/{sp}/scm-commits?instance-id=&job-ci-id=&build-ci-id=
/// — the SCM data of a build (a JSON array of repositories with their
/// commits, or one such object), kept on the build as sent. 200 `{}`.
pub async fn scm_commits(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: required(&params, "instance-id")?.to_owned(),
        job_ci_id: ci_job_id::decode(required(&params, "job-ci-id")?, &params)?,
        build_ci_id: build_id(required(&params, "build-ci-id")?)?,
    };
    let body = super::body::inflate_small(&body)?;
    if body.len() > CI_SCM_JSON_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "SCM data exceeds {CI_SCM_JSON_BYTES} bytes"
        )));
    }
    let data: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "platform.illegal_field_value",
            format!("SCM data is not valid JSON: {e}"),
        )
    })?;
    let data = match data {
        Value::Array(items) if items.iter().all(Value::is_object) => Value::Array(items),
        Value::Object(one) => Value::Array(vec![Value::Object(one)]),
        _ => {
            return Err(ApiError::bad_request(
                "platform.illegal_field_value",
                "SCM data must be an array of objects (repository, builtRevId, commits)",
            ));
        }
    };
    let text = data.to_string();
    for (ws, server) in build_targets(&state, &who, &target).await? {
        ensure_build(&state, ws, server, &target, Some(text.clone())).await?;
    }
    Ok(Json(json!({})))
}

/// GET /api/shared_spaces/{sp}/vulnerabilities/preflight — an empty 200: no
/// workspace wants this build's security findings (Verdict keeps none), so
/// the SDK drops them quietly.
pub async fn vulnerabilities_preflight(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
) -> Result<Response, ApiError> {
    shared_space(&state, &who, &sp).await?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "").into_response())
}

/// GET /api/shared_spaces/{sp}/vulnerabilities/remote-issue-ids — no open
/// issues are known: `[]`.
pub async fn vulnerabilities_open(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
) -> Result<Json<Value>, ApiError> {
    shared_space(&state, &who, &sp).await?;
    Ok(Json(json!([])))
}
