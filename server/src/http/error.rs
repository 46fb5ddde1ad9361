//! API errors. Every failure is answered as `{"error": {"code", "message", "request_id"}}` with
//! the status that fits it; this file is the one place where the engine's error kinds map to
//! HTTP statuses.
//!
//! | code | status |
//! |---|---|
//! | `INVALID_INPUT` | 400 |
//! | `UNAUTHORIZED` | 401, with `WWW-Authenticate: Bearer` |
//! | `FORBIDDEN` | 403 |
//! | `NOT_FOUND` | 404 |
//! | `METHOD_NOT_ALLOWED` | 405 |
//! | `PAYLOAD_TOO_LARGE` | 413 |
//! | `UNSUPPORTED_MEDIA_TYPE` | 415 |
//! | `SQL_REJECTED`, `CANNOT_ANSWER`, `EXECUTION` | 422 |
//! | `RATE_LIMITED` | 429, with `Retry-After` |
//! | `CONFIG`, `INTERNAL` | 500 (the message is replaced; the detail goes to the log) |
//! | `PROVIDER` | 502 (with `Retry-After` when the provider sent one) |
//! | `CIRCUIT_OPEN` | 503, with `Retry-After` |
//! | `SERVICE_UNAVAILABLE`, `DATABASE_UNAVAILABLE` | 503 |
//! | `TIMEOUT` (statement timeout), `REQUEST_TIMEOUT` (`[server] request_timeout_secs`) | 504 |

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use conversational_bi::{Error, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The realm named in `WWW-Authenticate` challenges.
pub const REALM: &str = "heliosdb-conversational-bi";

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The `error` object of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code (`RATE_LIMITED`, `SQL_REJECTED`, `UNAUTHORIZED`, ...).
    pub code: String,
    /// What went wrong and what to do about it.
    pub message: String,
    /// The id of the request (also in the `X-Request-Id` response header and in the server's
    /// log lines).
    pub request_id: String,
}

/// An error the API answers with. Its body is rendered, with the request id, by the request
/// middleware of [`crate::http::app`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// The message for the client.
    pub message: String,
    /// `Retry-After`, when waiting helps.
    pub retry_after: Option<Duration>,
    /// The `WWW-Authenticate` challenge of a 401.
    pub challenge: Option<String>,
}

impl ApiError {
    /// An error with no extra headers.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            challenge: None,
        }
    }

    /// 400 `INVALID_INPUT`.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", message)
    }

    /// 401 `UNAUTHORIZED` with a Bearer challenge; `invalid_token` marks a token that was sent
    /// but refused (RFC 6750 §3.1).
    pub fn unauthorized(message: impl Into<String>, invalid_token: bool) -> Self {
        let message = message.into();
        let challenge = if invalid_token {
            format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                message.replace(['"', '\\'], "'")
            )
        } else {
            format!("Bearer realm=\"{REALM}\"")
        };
        Self {
            challenge: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
        }
    }

    /// 403 `FORBIDDEN`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 500 `INTERNAL`, with a message that reveals nothing of the cause.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error; the server's log has the details under this request id",
        )
    }
}

/// The status of each engine error kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::SqlRejected | ErrorKind::CannotAnswer | ErrorKind::Execution => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::CircuitOpen | ErrorKind::ServiceUnavailable | ErrorKind::DatabaseUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorKind::Provider => StatusCode::BAD_GATEWAY,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Config | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The code of a response that no handler produced (a rejection of axum or of a layer).
pub fn code_of_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "INVALID_INPUT",
        StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::UNPROCESSABLE_ENTITY => "INVALID_INPUT",
        StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
        StatusCode::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
        StatusCode::GATEWAY_TIMEOUT => "REQUEST_TIMEOUT",
        _ => "INTERNAL",
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = status_of(e.kind());
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error_code = e.kind().code(), error = %e, "request failed");
            return Self::internal();
        }
        Self {
            status,
            code: e.kind().code(),
            message: e.to_string(),
            retry_after: e.retry_after(),
            challenge: None,
        }
    }
}

/// The part of an [`ApiError`] that the request middleware renders into the body.
#[derive(Debug, Clone)]
pub(crate) struct PendingError {
    pub code: &'static str,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        let headers = response.headers_mut();
        if let Some(after) = self.retry_after {
            // Whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3).
            let secs = after.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(challenge) = self.challenge
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response.extensions_mut().insert(PendingError {
            code: self.code,
            message: self.message,
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_kind_has_its_status() {
        let cases = [
            (ErrorKind::InvalidInput, 400),
            (ErrorKind::SqlRejected, 422),
            (ErrorKind::CannotAnswer, 422),
            (ErrorKind::Execution, 422),
            (ErrorKind::RateLimited, 429),
            (ErrorKind::CircuitOpen, 503),
            (ErrorKind::ServiceUnavailable, 503),
            (ErrorKind::DatabaseUnavailable, 503),
            (ErrorKind::Provider, 502),
            (ErrorKind::Timeout, 504),
            (ErrorKind::Config, 500),
            (ErrorKind::Internal, 500),
        ];
        for (kind, status) in cases {
            assert_eq!(status_of(kind).as_u16(), status, "{kind}");
        }
    }

    #[test]
    fn rate_limits_carry_retry_after_in_whole_seconds() {
        let e = ApiError::from(Error::RateLimited {
            tenant_id: "acme".into(),
            retry_after: Duration::from_millis(1200),
        });
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let e = ApiError::from(Error::CircuitOpen {
            service: "nl2sql".into(),
            retry_in: Duration::from_millis(10),
        });
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::from(Error::internal("pool state corrupted at 0xdeadbeef"));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("deadbeef"), "{}", e.message);
    }

    #[test]
    fn challenges_quote_safely() {
        let e = ApiError::unauthorized("the \"token\" expired", true);
        let challenge = e.challenge.expect("challenge");
        assert!(challenge.starts_with("Bearer realm=\"heliosdb-conversational-bi\""));
        assert!(challenge.contains("error_description=\"the 'token' expired\""));
    }
}
