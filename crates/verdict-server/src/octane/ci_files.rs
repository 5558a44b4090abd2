//! Files the Java CI SDK sends about a build: the console log of every
//! finished build (Jenkins does it by default) and coverage reports (when a
//! job publishes them). Each first asks which workspaces want it
//! (`…/servers/{inst}/jobs/{job}/workspaceId`), then uploads gzipped bytes.
//! Verdict keeps them as attachments of the CI build, streamed through a
//! spool file into the blob store (never whole in memory), at most
//! [`CI_BUILD_FILE_BYTES`] inflated.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use verdict_store::{AttachmentOwner, BuildReport, CiTarget};

use super::body::{self, InflateGuard, Limits};
use super::ci::shared_space;
use super::ci_job_id::{self, MAX_JOB_ID_BYTES};
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::blobs::StagedBlob;
use crate::error::ApiError;
use crate::limits::CI_BUILD_FILE_BYTES;

type Params = Query<HashMap<String, String>>;

/// The name a build's console log is kept under (one per build: a log sent
/// again replaces it).
pub const BUILD_LOG_NAME: &str = "console.log";

/// GET …/ci/servers/{inst}/jobs/{job}/workspaceId — the workspaces (ids as
/// strings) that take this job's build logs and coverage: those §4.5 would
/// send its results to, that the caller may write to. `[]` makes the SDK
/// skip the upload quietly.
pub async fn workspace_ids(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, instance, job)): Path<(String, String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let job = ci_job_id::decode(&job, &params)?;
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: instance,
        job_ci_id: job,
        build_ci_id: String::new(),
    };
    let found = crate::worker::ci_destination(&state.store, &target)
        .await?
        .workspaces();
    let ids: Vec<String> = access::writable_workspaces(&state, &who, sp, found)
        .await?
        .iter()
        .map(i64::to_string)
        .collect();
    Ok(Json(json!(ids)))
}

/// POST /internal-api/shared_spaces/{sp}/workspaces/{ws}/analytics/ci/{inst}/{job}/{build}/logs
/// — a build's console log (gzip, whatever its content type says). 200 with
/// the attachment; the build is created when no event announced it.
pub async fn build_log(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, instance, job, build)): Path<(String, String, String, String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let job = ci_job_id::decode(&job, &params)?;
    let build = build_id(&build)?;
    let target = CiTarget {
        shared_space_id: workspace.shared_space_id,
        instance_id: instance.clone(),
        job_ci_id: job.clone(),
        build_ci_id: build.clone(),
    };
    // Checked before a byte is read (a refused log costs no disk); a server
    // registered on first use is registered only once the log is safe.
    let known = state.store.ci_server_id(workspace.id, &instance).await?;
    let first_use = crate::worker::ci_destination(&state.store, &target).await?
        == crate::worker::CiDestination::Register(workspace.id);
    if known.is_none() && !first_use {
        return Err(unknown_server(&instance));
    }
    let staged = stage(&state, body, &headers).await?;
    let server = match known {
        Some(id) => id,
        None => register(&state, &target, workspace.id).await?,
    };
    let build_id = ensure_build(&state, workspace.id, server, &target, None).await?;
    let id = keep(&state, workspace.id, build_id, BUILD_LOG_NAME, &staged).await?;
    Ok(Json(json!({"type": "attachment", "id": id.to_string()})))
}

/// PUT …/ci/coverage?ci-server-identity=&ci-job-id=&ci-build-id=&file-type=
/// — a coverage report of a build, kept in every workspace the build's
/// results go to, once per distinct report.
pub async fn coverage(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let sp = shared_space(&state, &who, &sp).await?;
    let extension = match required(&params, "file-type")?
        .to_ascii_uppercase()
        .as_str()
    {
        "JACOCOXML" => "jacoco.xml",
        "LCOV" => "lcov.info",
        "SONAR_REPORT" => "sonar.json",
        other => {
            return Err(bad(format!(
                "file-type must be JACOCOXML, LCOV or SONAR_REPORT, not '{}'",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    let target = CiTarget {
        shared_space_id: sp,
        instance_id: required(&params, "ci-server-identity")?.to_owned(),
        job_ci_id: ci_job_id::decode(required(&params, "ci-job-id")?, &params)?,
        build_ci_id: build_id(required(&params, "ci-build-id")?)?,
    };
    // Staged first: resolving the targets may register the server, which a
    // refused report must not leave behind.
    let staged = stage(&state, body, &headers).await?;
    let targets = build_targets(&state, &who, &target).await?;
    let name = format!("coverage-{}.{extension}", &staged.key[..12]);
    let mut kept = Vec::new();
    for (ws, server) in targets {
        let build_id = ensure_build(&state, ws, server, &target, None).await?;
        let id = keep(&state, ws, build_id, &name, &staged).await?;
        kept.push(json!({"type": "attachment", "id": id.to_string()}));
    }
    Ok(Json(json!({"total_count": kept.len(), "data": kept})))
}

/// The (workspace, CI server) pairs a build's data goes to: §4.5's
/// resolution (registering the server in a single-workspace shared space),
/// limited to workspaces the caller may write to; none → 404 naming the server.
pub(super) async fn build_targets(
    state: &AppState,
    who: &Principal,
    target: &CiTarget,
) -> Result<Vec<(i64, i64)>, ApiError> {
    let found = crate::worker::ci_workspaces(&state.store, target).await?;
    let mut targets = Vec::new();
    for ws in access::writable_workspaces(state, who, target.shared_space_id, found).await? {
        if let Some(server) = state.store.ci_server_id(ws, &target.instance_id).await? {
            targets.push((ws, server));
        }
    }
    if targets.is_empty() {
        return Err(unknown_server(&target.instance_id));
    }
    Ok(targets)
}

/// Registers the server in `workspace` (§4.5 step 3) and returns its id.
async fn register(state: &AppState, target: &CiTarget, workspace: i64) -> Result<i64, ApiError> {
    crate::worker::ci_workspaces(&state.store, target).await?;
    state
        .store
        .ci_server_id(workspace, &target.instance_id)
        .await?
        .ok_or_else(|| unknown_server(&target.instance_id))
}

fn unknown_server(instance: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no workspace you may write to knows ci server '{instance}': register it with `verdict admin ci-server create` or POST …/ci_servers"
    ))
}

/// The CI build a file belongs to, created (with its job) when unknown;
/// `scm_data` (JSON) is recorded on it when given.
pub(super) async fn ensure_build(
    state: &AppState,
    workspace: i64,
    server: i64,
    target: &CiTarget,
    scm_data: Option<String>,
) -> Result<i64, ApiError> {
    let job = state
        .store
        .upsert_ci_job(workspace, server, &target.job_ci_id, None)
        .await?;
    let report = BuildReport {
        build_ci_id: target.build_ci_id.clone(),
        scm_data,
        ..BuildReport::default()
    };
    Ok(state.store.upsert_ci_build(workspace, job, &report).await?)
}

/// Spools the body (bounded as sent), then inflates it into a staged blob
/// (bounded inflated, and by the gzip-bomb ratio guard).
async fn stage(state: &AppState, body: Body, headers: &HeaderMap) -> Result<StagedBlob, ApiError> {
    let limits = Limits {
        max_body: state.config.max_body_bytes,
        max_inflated: CI_BUILD_FILE_BYTES,
    };
    let spooled = body::spool(body, headers, &state.spool_dir, limits).await?;
    let blobs = state.blobs.clone();
    tokio::task::spawn_blocking(move || {
        let guard = Arc::new(InflateGuard::default());
        let mut reader = body::inflated_reader(
            spooled.file.path(),
            spooled.size,
            spooled.gzip,
            limits,
            guard.clone(),
        )
        .map_err(ApiError::internal)?;
        match blobs.stage_reader(&mut reader, CI_BUILD_FILE_BYTES) {
            Err(ApiError::BadRequest { .. }) if guard.exceeded() => Err(ApiError::PayloadTooLarge(
                format!("the file exceeds {CI_BUILD_FILE_BYTES} bytes inflated"),
            )),
            other => other,
        }
    })
    .await
    .map_err(ApiError::internal)?
}

/// Keeps a staged file as the build's attachment `name`, replacing one of
/// that name.
async fn keep(
    state: &AppState,
    workspace: i64,
    build: i64,
    name: &str,
    staged: &StagedBlob,
) -> Result<i64, ApiError> {
    let size = i64::try_from(staged.size).unwrap_or(i64::MAX);
    let pinned = state.blobs.pin_and_put(&state.store, &[staged]).await?;
    let replaced = state
        .store
        .replace_attachment(
            workspace,
            AttachmentOwner::CiBuild(build),
            name,
            size,
            &staged.key,
        )
        .await;
    state.blobs.unpin(&state.store, pinned).await;
    let (id, unused) = replaced?;
    state.blobs.remove_unused(&state.store, &unused).await;
    Ok(id)
}

/// A build id from a URL: non-empty, bounded.
pub(super) fn build_id(raw: &str) -> Result<String, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_JOB_ID_BYTES || raw.chars().any(char::is_control) {
        return Err(bad(format!(
            "the build id must have 1 to {MAX_JOB_ID_BYTES} bytes and no control characters"
        )));
    }
    Ok(raw.to_owned())
}

/// A query parameter the request cannot do without.
pub(super) fn required<'a>(
    params: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| bad(format!("query parameter '{name}' is required")))
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("platform.illegal_field_value", message)
}
