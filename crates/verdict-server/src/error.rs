//! The one HTTP error type of Octane (and Verdict's own) paths. Its
//! `IntoResponse` is the only place a status code is chosen; the body is
//! Octane's error JSON (protocol §7.6) so clients print `description`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer, each variant documenting its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message says what and where.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        properties: Option<serde_json::Value>,
    },
    /// 401: no valid credential (clients then sign in and retry once).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated, but no role here.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown shared space, workspace, collection, entity or task.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: a single entity breaks a uniqueness rule (a business error).
    #[error("{0}")]
    Duplicate(String),
    /// 409 in the bulk form (`errors`, `total_count`, `exceeds_total_count`):
    /// some entities of a bulk request were refused, nothing was applied.
    #[error("{} of the entities were refused", .0.len())]
    Bulk(Vec<BulkError>),
    /// 413: body larger than the configured limits.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429: too many failed sign-ins; `Retry-After` says when to try again.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// 500: a fault on our side; the cause is logged, the client gets an id.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 503: the database is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 507: the server's disk (or database) is full; nothing was stored.
    #[error("{STORAGE_FULL}")]
    StorageFull,
}

/// What a client is told when the server could not store its request.
pub(crate) const STORAGE_FULL: &str =
    "the server's storage is full: nothing of this request was stored; tell its operator";

/// Whether `e` or an error it was caused by is a file system that ran out
/// of space (`ENOSPC`).
pub(crate) fn storage_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            || err
                .downcast_ref::<verdict_store::StoreError>()
                .is_some_and(verdict_store::StoreError::is_storage_full)
        {
            return true;
        }
        cause = err.source();
    }
    false
}

/// One refused entity of a bulk request.
#[derive(Debug, Clone)]
pub struct BulkError {
    pub index: usize,
    pub code: &'static str,
    pub message: String,
    pub business: bool,
}

impl ApiError {
    /// A 400 with an Octane error code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
            properties: None,
        }
    }

    /// Wraps any fault as a 500.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        if storage_full(&e) {
            tracing::error!(error = %e, "storage full: a request was refused with 507");
            return Self::StorageFull;
        }
        Self::Internal(Box::new(e))
    }

    pub(crate) fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "platform.authentication_required"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "platform.forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "platform.entity_not_found"),
            Self::Duplicate(_) | Self::Bulk(_) => {
                (StatusCode::CONFLICT, "platform.duplicate_entity_error")
            }
            Self::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "platform.method_not_allowed",
            ),
            Self::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "platform.payload_too_large")
            }
            Self::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "platform.too_many_requests")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "platform.internal_error"),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "platform.service_unavailable",
            ),
            Self::StorageFull => (
                StatusCode::INSUFFICIENT_STORAGE,
                "platform.insufficient_storage",
            ),
        }
    }
}

impl From<verdict_store::StoreError> for ApiError {
    fn from(e: verdict_store::StoreError) -> Self {
        match e {
            verdict_store::StoreError::InvalidQuery { position, message } => Self::BadRequest {
                code: "platform.illegal_query",
                message: format!("query error at position {position}: {message}"),
                properties: Some(json!({ "position": position })),
            },
            verdict_store::StoreError::NotFound(m) => Self::NotFound(m),
            verdict_store::StoreError::Retry(m) => Self::Unavailable(m),
            other if other.is_transient() => {
                tracing::warn!(error = %other, "database busy or unreachable; answered 503");
                Self::Unavailable(BUSY.to_owned())
            }
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let correlation_id = next_correlation_id();
        let description = match &self {
            Self::Internal(cause) => {
                tracing::error!(correlation_id, error = %cause, "internal error");
                format!("internal error; correlation id {correlation_id}")
            }
            other => other.to_string(),
        };
        if let Self::Bulk(errors) = &self {
            let errors: Vec<serde_json::Value> = errors
                .iter()
                .map(|e| {
                    json!({
                        "error_code": e.code,
                        "correlation_id": correlation_id,
                        "description": e.message,
                        "description_translated": e.message,
                        "properties": null,
                        "business_error": e.business,
                        "index": e.index,
                    })
                })
                .collect();
            let body = json!({"errors": errors, "total_count": errors.len(), "exceeds_total_count": false});
            return (status, axum::Json(body)).into_response();
        }
        let properties = match &self {
            Self::BadRequest { properties, .. } => properties.clone(),
            _ => None,
        };
        let mut body = json!({
            "error_code": code,
            "correlation_id": correlation_id,
            "description": description,
            "description_translated": description,
            "properties": properties,
        });
        if matches!(self, Self::Duplicate(_)) {
            body["business_error"] = json!(true);
        }
        let mut response = (status, axum::Json(body)).into_response();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER),
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

/// What a client is told when the database was busy past its wait (SQLite's
/// write lock held by another process, `verdict admin`) or unreachable.
pub(crate) const BUSY: &str = "the database is busy or unreachable; try again";

/// `Retry-After` of a 503, in seconds.
pub(crate) const UNAVAILABLE_RETRY_AFTER: u64 = 1;

tokio::task_local! {
    /// The request's `X-Correlation-ID`, echoed in its error bodies (protocol §2.5).
    pub static CORRELATION_ID: String;
}

pub(crate) fn next_correlation_id() -> String {
    if let Ok(id) = CORRELATION_ID.try_with(Clone::clone) {
        return id;
    }
    let mut bytes = [0_u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return "unknown".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that wraps another, as the spool's and the blob store's do.
    #[derive(Debug, thiserror::Error)]
    #[error("storing the upload")]
    struct Wrapping(#[source] std::io::Error);

    #[test]
    fn a_full_disk_anywhere_in_the_cause_chain_is_507() {
        let full = || std::io::Error::from(std::io::ErrorKind::StorageFull);
        for e in [
            ApiError::internal(full()),
            ApiError::internal(Wrapping(full())),
            ApiError::from(verdict_store::StoreError::Io(full())),
        ] {
            assert!(matches!(e, ApiError::StorageFull), "{e:?}");
            assert_eq!(e.parts().0, StatusCode::INSUFFICIENT_STORAGE);
        }
        let other = ApiError::internal(Wrapping(std::io::Error::from(
            std::io::ErrorKind::PermissionDenied,
        )));
        assert!(matches!(other, ApiError::Internal(_)), "{other:?}");
    }
}
