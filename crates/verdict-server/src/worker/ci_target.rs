//! CI pushes (protocol §4.5): which workspaces a push goes to, registering
//! the CI server when the shared space has a single workspace, and the build
//! context taken from the query parameters.

use verdict_domain::payload::BuildRef;
use verdict_store::{CiTarget, Store, StoreError, TaskState};

/// Where §4.5 sends a CI server's data, before anything is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Workspaces that know the server (those that also know the job, if any do).
    Known(Vec<i64>),
    /// None knows it and the shared space has this one workspace: the server
    /// is registered there on first use (step 3).
    Register(i64),
    /// None knows it and there is no single workspace to register it in.
    Nowhere,
}

impl Destination {
    /// The workspaces, registered or to be.
    #[must_use]
    pub fn workspaces(&self) -> Vec<i64> {
        match self {
            Self::Known(ids) => ids.clone(),
            Self::Register(ws) => vec![*ws],
            Self::Nowhere => Vec::new(),
        }
    }
}

/// §4.5 steps 1–3 without writing anything (preflights answer from it).
pub async fn destination(store: &Store, ci: &CiTarget) -> Result<Destination, StoreError> {
    let found = store
        .ci_workspaces(ci.shared_space_id, &ci.instance_id, Some(&ci.job_ci_id))
        .await?;
    if !found.is_empty() {
        return Ok(Destination::Known(found));
    }
    let all = store.workspaces(ci.shared_space_id).await?;
    Ok(match all.as_slice() {
        [only] => Destination::Register(only.id),
        _ => Destination::Nowhere,
    })
}

/// Workspaces to process a CI push into (§4.5 steps 1–3), registering the
/// server when step 3 applies; empty = none knows the server.
pub async fn workspaces(store: &Store, ci: &CiTarget) -> Result<Vec<i64>, StoreError> {
    let only = match destination(store, ci).await? {
        Destination::Known(found) => return Ok(found),
        Destination::Nowhere => return Ok(Vec::new()),
        Destination::Register(only) => only,
    };
    // What the server said about itself on its polls and events so far.
    let seen = store
        .ci_sighting(ci.shared_space_id, &ci.instance_id)
        .await?
        .unwrap_or_default();
    let server_type = seen.server_type.as_deref().unwrap_or("unknown");
    match store
        .create_ci_server(
            only,
            &ci.instance_id,
            &ci.instance_id,
            server_type,
            seen.url.as_deref(),
        )
        .await
    {
        Ok(_) => {
            if seen.plugin_version.is_some() {
                store
                    .record_ci_sighting(ci.shared_space_id, &ci.instance_id, &seen, &[only])
                    .await?;
            }
        }
        // Registered meanwhile by another request: fine.
        Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    Ok(vec![only])
}

/// The build a CI push reports: the query parameters, with display names
/// from the body's `build` element when it names the same build.
#[must_use]
pub fn build_context(ci: &CiTarget, body: Option<BuildRef>) -> BuildRef {
    let mut build = BuildRef {
        server_id: ci.instance_id.clone(),
        job_id: ci.job_ci_id.clone(),
        build_id: ci.build_ci_id.clone(),
        ..BuildRef::default()
    };
    if let Some(b) = body {
        if build.job_id.is_empty() {
            build.job_id = b.job_id.clone();
        }
        if build.build_id.is_empty() {
            build.build_id = b.build_id.clone();
        }
        if b.job_id == build.job_id {
            build.job_name = b.job_name;
        }
        if b.build_id == build.build_id {
            build.build_name = b.build_name;
            build.sub_type = b.sub_type;
            build.artifact_id = b.artifact_id;
        }
    }
    build
}

/// Worst of two task states: error > failed > warning > success.
#[must_use]
pub fn worse(a: TaskState, b: TaskState) -> TaskState {
    let rank = |s: TaskState| match s {
        TaskState::Error => 4,
        TaskState::Failed => 3,
        TaskState::Warning => 2,
        _ => 1,
    };
    if rank(b) > rank(a) { b } else { a }
}
