//! `ApiJson`: axum's JSON body extractor with the API's error format.

use axum::{
    Json,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
};
use serde::de::DeserializeOwned;

use super::{
    AppState,
    error::{ApiError, code_of_status},
};

/// A JSON request body. Refusals are API errors: 415 without `Content-Type: application/json`,
/// 400 for malformed or ill-fitting JSON, 413 over `[server] max_body_bytes`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(refusal(&rejection, state.max_body_bytes())),
        }
    }
}

fn refusal(rejection: &JsonRejection, limit: usize) -> ApiError {
    let status = rejection.status();
    let message = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with `Content-Type: application/json`".to_string()
        }
        JsonRejection::JsonSyntaxError(_) => {
            format!("the body is not valid JSON: {}", rejection.body_text())
        }
        JsonRejection::JsonDataError(_) => {
            format!(
                "the JSON body does not fit this endpoint: {}",
                rejection.body_text()
            )
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than {limit} bytes ([server] max_body_bytes); send a shorter question"
        ),
        _ => rejection.body_text(),
    };
    // Syntax and data errors are 400 and 422 in axum; both are the client's malformed input.
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    ApiError::new(status, code_of_status(status), message)
}
