//! Test Center credentials: `Authorization: Basic base64(user:password)`
//! (users or API keys) or `Authorization: Token <t>` (Verdict API tokens).
//! Upload rights = admin, or a role in the project's workspace.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use verdict_store::{UserRecord, WorkspaceRecord};

use super::error::TcError;
use crate::app::AppState;
use crate::auth::{credentials, secrets};

/// The shared space that holds Test Center projects (design §1).
pub const PROJECT_SHARED_SPACE: i64 = crate::bootstrap::DEFAULT_SHARED_SPACE;

/// An authenticated Test Center caller.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub user: UserRecord,
}

impl FromRequestParts<AppState> for Uploader {
    type Rejection = TcError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                TcError::Unauthorized(
                    "authentication required: use Basic or Token authorization".to_owned(),
                )
            })?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let user = if scheme.eq_ignore_ascii_case("token") {
            state
                .store
                .api_token_user(&secrets::token_hash(rest.trim()))
                .await?
        } else if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    TcError::Unauthorized("Basic credentials are not valid base64".to_owned())
                })?;
            let (id, secret) = decoded.split_once(':').unwrap_or((&decoded, ""));
            credentials::verify(
                state,
                crate::auth::throttle::Caller::of(&parts.extensions),
                id,
                secret,
            )
            .await?
        } else {
            return Err(TcError::Unauthorized(format!(
                "unsupported authorization scheme '{scheme}'"
            )));
        };
        let user = user.ok_or_else(|| TcError::Unauthorized("invalid credentials".to_owned()))?;
        crate::metrics::note_user(&user.name);
        Ok(Self { user })
    }
}

impl Uploader {
    /// The project's workspace, created on first use when the caller may create projects (admins).
    pub async fn project(&self, state: &AppState, name: &str) -> Result<WorkspaceRecord, TcError> {
        if let Some(ws) = self.existing_project(state, name).await? {
            return Ok(ws);
        }
        state
            .store
            .tc_project(PROJECT_SHARED_SPACE, name, true)
            .await?
            .ok_or_else(|| {
                TcError::internal(std::io::Error::other(format!(
                    "project {name} vanished after creation"
                )))
            })
    }

    /// The existing project the caller may upload to, `None` when it does
    /// not exist and the caller may create it (the caller creates it), or
    /// 403 as [`Uploader::project`] answers.
    pub async fn existing_project(
        &self,
        state: &AppState,
        name: &str,
    ) -> Result<Option<WorkspaceRecord>, TcError> {
        if name.trim().is_empty() {
            return Err(TcError::BadRequest(
                "'project' must not be empty".to_owned(),
            ));
        }
        let ws = state
            .store
            .tc_project(PROJECT_SHARED_SPACE, name, false)
            .await?;
        match ws {
            Some(ws) => {
                self.may_upload(state, ws.id).await?;
                Ok(Some(ws))
            }
            None if self.user.is_admin => Ok(None),
            None => Err(TcError::Forbidden(format!(
                "project '{name}' does not exist and user '{}' may not create projects",
                self.user.name
            ))),
        }
    }

    /// The refusal for a run or report id that does not exist or lies in a
    /// project the caller may not upload to: one answer for both, so ids of
    /// other tenants cannot be told from unused ones (admins see every
    /// project, so for them it is a plain "not found").
    #[must_use]
    pub fn unknown_or_forbidden(&self, what: &str, status_if_unknown: TcError) -> TcError {
        if self.user.is_admin {
            return status_if_unknown;
        }
        TcError::Forbidden(format!(
            "{what} does not exist or user '{}' has no upload rights on its project",
            self.user.name
        ))
    }

    /// True when the caller may upload to the workspace.
    pub async fn can_upload(&self, state: &AppState, workspace_id: i64) -> Result<bool, TcError> {
        Ok(self.user.is_admin
            || state
                .store
                .role_in(self.user.id, workspace_id)
                .await?
                .is_some())
    }

    /// Upload rights in a workspace.
    pub async fn may_upload(&self, state: &AppState, workspace_id: i64) -> Result<(), TcError> {
        if self.user.is_admin
            || state
                .store
                .role_in(self.user.id, workspace_id)
                .await?
                .is_some()
        {
            Ok(())
        } else {
            Err(TcError::Forbidden(format!(
                "user '{}' has no upload rights on this project",
                self.user.name
            )))
        }
    }
}
