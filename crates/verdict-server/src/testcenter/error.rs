//! Test Center's error body `{code, message}`; the only place its statuses are chosen.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error on a Test Center path.
#[derive(Debug, thiserror::Error)]
pub enum TcError {
    /// 400: invalid input, with what and where.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: no upload rights on the project.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown report.
    #[error("{0}")]
    NotFound(String),
    /// 413: upload too large.
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many failed sign-ins (with `Retry-After`).
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// 500: logged, never detailed to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 503: the database was busy or unreachable (with `Retry-After`).
    #[error("{0}")]
    Unavailable(String),
    /// 507: the server's storage is full; nothing was stored.
    #[error("{}", crate::error::STORAGE_FULL)]
    StorageFull,
}

impl TcError {
    /// Wraps a fault as a 500.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        if crate::error::storage_full(&e) {
            tracing::error!(error = %e, "storage full: a request was refused with 507");
            return Self::StorageFull;
        }
        Self::Internal(Box::new(e))
    }

    /// The same refusal again, for the next event naming the same run (a 500
    /// is not repeated in detail).
    #[must_use]
    pub fn same_again(&self) -> Self {
        match self {
            Self::BadRequest(m) => Self::BadRequest(m.clone()),
            Self::Unauthorized(m) => Self::Unauthorized(m.clone()),
            Self::Forbidden(m) => Self::Forbidden(m.clone()),
            Self::NotFound(m) => Self::NotFound(m.clone()),
            Self::TooLarge(m) => Self::TooLarge(m.clone()),
            Self::TooManyRequests {
                message,
                retry_after,
            } => Self::TooManyRequests {
                message: message.clone(),
                retry_after: *retry_after,
            },
            Self::Internal(_) => Self::internal(std::io::Error::other("an earlier event failed")),
            Self::Unavailable(m) => Self::Unavailable(m.clone()),
            Self::StorageFull => Self::StorageFull,
        }
    }

    /// The HTTP status of this error.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
        }
    }

    /// The message clients see (500s only say that something failed).
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "test center request failed");
                "internal server error".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl From<verdict_store::StoreError> for TcError {
    fn from(e: verdict_store::StoreError) -> Self {
        match e {
            verdict_store::StoreError::NotFound(m) => Self::NotFound(m),
            other if other.is_transient() => {
                tracing::warn!(error = %other, "database busy or unreachable; answered 503");
                Self::Unavailable(crate::error::BUSY.to_owned())
            }
            other => Self::internal(other),
        }
    }
}

impl From<crate::error::ApiError> for TcError {
    fn from(e: crate::error::ApiError) -> Self {
        match e {
            crate::error::ApiError::PayloadTooLarge(m) => Self::TooLarge(m),
            crate::error::ApiError::BadRequest { message, .. } => Self::BadRequest(message),
            crate::error::ApiError::NotFound(m) => Self::NotFound(m),
            crate::error::ApiError::Unavailable(m) => Self::Unavailable(m),
            crate::error::ApiError::StorageFull => Self::StorageFull,
            crate::error::ApiError::TooManyRequests {
                message,
                retry_after,
            } => Self::TooManyRequests {
                message,
                retry_after,
            },
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for TcError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (
            status,
            axum::Json(json!({"code": status.as_u16(), "message": self.message()})),
        )
            .into_response();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            Self::Unavailable(_) => Some(crate::error::UNAVAILABLE_RETRY_AFTER),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}
